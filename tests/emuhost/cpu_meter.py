#!/usr/bin/env python3
"""Host CPU meter of an emulated host (started by run.sh next to QEMU).

    cpu_meter.py PID FILE [BOOST-FILE [INTERVAL-MS]]

PID is QEMU's (or an ancestor's: timeout(1) running QEMU). Every INTERVAL-MS (default 10) while
a timing case measures (BOOST-FILE holds "on"), else every 10 times that, until QEMU exits, FILE
is replaced by one line

    HOST_NS RUN_NS VCPUS FROZEN_NS

HOST_NS: this host's CLOCK_MONOTONIC; RUN_NS: the CPU time QEMU's vCPU threads ("CPU n/TCG",
QEMU runs with -name ...,debug-threads=on) have had on this host so far, summed; VCPUS: how
many there are; FROZEN_NS: the total length so far of the stretches of FREEZE_MS (30) or more in
which the emulated CPU hardly ran (under a fifth of the time, sample by sample).

Read at two moments from inside the emulated host, (RUN_NS1 - RUN_NS0) / (HOST_NS1 - HOST_NS0)
/ VCPUS is the share of a host core the emulated CPU got meanwhile: under TCG the guest's speed
is proportional to it, and the guest's clock, which follows this host's, cannot see the rest
(the emulated kernel charges it to whatever ran). FROZEN_NS1 > FROZEN_NS0 says the emulated
machine stood still for a while meanwhile, which no real machine does: a wall-clock schedule
(a token bucket, a CPU quota's windows) cannot be kept across it. Timing cases use both to take
their measurements in known conditions (tests/integration/lib.sh, run_metered).

While BOOST-FILE holds "on", QEMU runs at a higher CPU priority (its autogroup's nice and its
threads' nice at BOOST_NICE, -10; back to what they were when it no longer does), and the line ends
with " boost": a timing case asks for it while it measures, so that on a busy machine (other
emulated hosts, a build) the emulated CPU gets a whole core and does not stop for hundreds of
milliseconds at a time, as it did here with three emulated hosts on two cores. Needs root (or
CAP_SYS_NICE); without it the line never says " boost". Prints nothing; exits 0 when QEMU is
gone.
"""
import os
import sys
import time

BOOST_NICE = -10
FREEZE_NS = 30 * 1000000  # a stretch this long without running counts as a freeze
FREEZE_RUN_SHARE = 0.2    # a sample "without running": the vCPU ran under this share of it


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        if int(st[st.rindex(")") + 2:].split()[1]) == pid:
            kids.append(int(d))
    return kids


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def find_qemu(pid, deadline):
    """pid itself if it is QEMU, else its QEMU descendant (waiting for it to start)."""
    while time.monotonic() < deadline:
        todo = [pid]
        while todo:
            p = todo.pop()
            if comm(p).startswith("qemu-system"):
                return p
            todo.extend(children(p))
        if not os.path.exists("/proc/%d" % pid):
            return None
        time.sleep(0.05)
    return None


def vcpu_threads(qemu, deadline):
    while time.monotonic() < deadline:
        try:
            tids = [t for t in os.listdir("/proc/%d/task" % qemu)
                    if "/TCG" in comm_task(qemu, t) or "/KVM" in comm_task(qemu, t)]
        except OSError:
            return []
        if tids:
            return tids
        time.sleep(0.05)
    return []


def comm_task(pid, tid):
    try:
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            return f.read()
    except OSError:
        return ""


class Boost:
    """QEMU's CPU priority raised (autogroup and threads) while the boost file holds "on"."""

    def __init__(self, qemu, path):
        self.qemu, self.path, self.saved, self.wanted = qemu, path, None, False

    def _group(self, nice=None):
        f = "/proc/%d/autogroup" % self.qemu
        if nice is None:
            with open(f) as fh:  # "/autogroup-15 nice 0"
                return int(fh.read().split()[-1])
        with open(f, "w") as fh:
            fh.write("%d" % nice)

    def _threads(self):
        return [int(t) for t in os.listdir("/proc/%d/task" % self.qemu)]

    def update(self):
        """Raise or restore the priority as the file says; True while raised."""
        want = self.wanted = False
        if self.path:
            try:
                with open(self.path) as f:
                    want = self.wanted = f.read().strip() == "on"
            except OSError:
                pass
        try:
            if want and self.saved is None:
                saved = {"group": None, "threads": {}}
                try:
                    saved["group"] = self._group()
                    self._group(BOOST_NICE)
                except OSError:
                    saved["group"] = None  # no autogroup: thread nice is what counts
                for t in self._threads():
                    saved["threads"][t] = os.getpriority(os.PRIO_PROCESS, t)
                    os.setpriority(os.PRIO_PROCESS, t, BOOST_NICE)
                self.saved = saved
            elif not want and self.saved is not None:
                if self.saved["group"] is not None:
                    self._group(self.saved["group"])
                for t, n in self.saved["threads"].items():
                    try:
                        os.setpriority(os.PRIO_PROCESS, t, n)
                    except OSError:
                        pass
                self.saved = None
        except OSError:
            # not allowed (no CAP_SYS_NICE) or QEMU is going: no boost
            if want:
                self.path = None
            return False
        return self.saved is not None


def steady():
    """The meter itself must not miss a beat on a busy machine (a late sample hides a stop):
    a session of its own and a higher priority for it, where allowed. It uses 1-3% of a core."""
    try:
        os.setsid()
    except OSError:
        pass
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("%d" % BOOST_NICE)
    except OSError:
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, BOOST_NICE)
    except OSError:
        pass


def main():
    if len(sys.argv) not in (3, 4, 5):
        sys.stderr.write(__doc__)
        return 2
    pid, out = int(sys.argv[1]), sys.argv[2]
    boost_file = sys.argv[3] if len(sys.argv) >= 4 else ""
    interval = (int(sys.argv[4]) if len(sys.argv) == 5 else 10) / 1000.0
    steady()
    deadline = time.monotonic() + 30
    qemu = find_qemu(pid, deadline)
    if qemu is None:
        return 0
    tids = vcpu_threads(qemu, deadline)
    if not tids:
        return 0
    paths = ["/proc/%d/task/%s/schedstat" % (qemu, t) for t in tids]
    boost = Boost(qemu, boost_file)
    tmp = out + ".tmp"
    frozen = 0          # total of the finished and the current long freeze
    stretch = 0         # length of the current freeze (samples with little run time)
    last_t = last_r = None
    while True:
        run = 0
        try:
            for p in paths:
                with open(p) as f:
                    run += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return 0  # QEMU is gone
        now = time.monotonic_ns()
        if last_t is not None:
            dt, dr = now - last_t, (run - last_r) / len(paths)
            if dr < dt * FREEZE_RUN_SHARE:
                if stretch < FREEZE_NS <= stretch + dt:
                    frozen += stretch  # the stretch has become long: count it from its start
                if stretch + dt >= FREEZE_NS:
                    frozen += dt
                stretch += dt
            else:
                stretch = 0
        last_t, last_r = now, run
        boosted = boost.update()
        with open(tmp, "w") as f:
            f.write("%d %d %d %d%s\n" % (now, run, len(paths), frozen, " boost" if boosted else ""))
        os.replace(tmp, out)
        # fine steps while a timing case measures (to see a 30 ms stop), coarse ones otherwise
        time.sleep(interval if boosted or boost.wanted else 10 * interval)

if __name__ == "__main__":
    sys.exit(main())
