#!/usr/bin/env python3
"""What a hung emulated host was doing (run by run.sh when --idle-timeout expires).

    hang_state.py QEMU-ANCESTOR-PID MONITOR-SOCKET OUT-FILE

Writes to OUT-FILE, for whoever reads it after the run: each QEMU thread's state and the CPU it
used over one second; the emulated CPU's registers three times, half a second apart, from QEMU's
human monitor (run.sh gives QEMU -monitor unix:MONITOR-SOCKET); and, where gdb is installed,
every QEMU thread's backtrace. Prints a one-line summary on stdout: whether the vCPU thread ran
(a guest spinning, or QEMU emulating in a loop) or slept (the guest halted or QEMU blocked), and
whether the guest's instruction pointer moved. Never raises; what it cannot get it says it could
not get.
"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu_meter import find_qemu  # noqa: E402  (QEMU under timeout(1) and setsid)


def threads(qemu):
    """{tid: (name, state, utime+stime in clock ticks)}"""
    res = {}
    try:
        tids = os.listdir("/proc/%d/task" % qemu)
    except OSError:
        return res
    for t in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (qemu, t)) as fh:
                s = fh.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        res[int(t)] = (name, f[0], int(f[11]) + int(f[12]))
    return res


def monitor(path, commands):
    """The human monitor's answer to each command, or an error text."""
    out = []
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(path)
        buf = b""

        def until_prompt():
            nonlocal buf
            while b"(qemu) " not in buf:
                d = s.recv(65536)
                if not d:
                    raise OSError("the monitor closed")
                buf += d
            text, _, buf = buf.partition(b"(qemu) ")
            return text.decode("utf-8", "replace")

        until_prompt()  # banner
        for c in commands:
            if c.startswith("sleep "):
                time.sleep(float(c.split()[1]))
                continue
            s.sendall(c.encode() + b"\n")
            text = until_prompt()
            # the monitor echoes the command line with terminal escapes first
            text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
            out.append((c, text.split("\n", 1)[1] if "\n" in text else text))
        s.close()
    except (OSError, ValueError) as e:
        out.append(("monitor", "cannot use the monitor at %s: %s\n" % (path, e)))
    return out


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[0])
        return 2
    anc, sock, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    qemu = find_qemu(anc, time.monotonic() + 2)
    lines = []
    summary = []
    if qemu is None:
        print("emuhost: at the hang: no QEMU process found under pid %d" % anc)
        return 0
    hz = os.sysconf("SC_CLK_TCK")
    t0 = threads(qemu)
    regs = monitor(sock, ["info status", "info registers", "sleep 0.5", "info registers",
                          "sleep 0.5", "info registers", "x/8i $pc", "info lapic",
                          "info pic", "info irq"])
    t1 = threads(qemu)
    if os.environ.get("ISOVM_EMUHOST_HANG_PROBE"):
        regs += monitor(sock, ["sendkey shift", "sleep 3", "info lapic", "info registers"])
    lines.append("== QEMU pid %d threads: name, state before the monitor, CPU used while it sampled" % qemu)
    for tid in sorted(t1):
        name, _, ticks = t1[tid]
        state = t0.get(tid, t1[tid])[1]  # before the monitor stopped the vCPU
        used = ticks - t0.get(tid, t1[tid])[2]
        lines.append("%7d %-22s %s %.0f%%" % (tid, name, state, 100.0 * used / hz))
        if "TCG" in name or "KVM" in name:
            summary.append("%s %s, %.0f%% of a core" % (name, "running" if state == "R" else "state " + state,
                                                       100.0 * used / hz))
    rips = []
    for c, text in regs:
        lines.append("== (qemu) %s" % c)
        lines.append(text.rstrip())
        m = re.search(r"RIP=([0-9a-f]+).*?CPL=(\d)", text, re.S)
        if c == "info registers" and m:
            rips.append("%s(CPL%s)" % (m.group(1), m.group(2)))
        if c == "info lapic" and "LAPIC" not in " ".join(summary):
            irr = re.search(r"^IRR\s+(.*)$", text, re.M)
            isr = re.search(r"^ISR\s+(.*)$", text, re.M)
            if irr and isr:
                summary.append("LAPIC IRR %s, ISR %s" % (irr.group(1).strip(), isr.group(1).strip()))
        if c == "info status":
            summary.append(text.strip().replace("\r", ""))
    if rips:
        summary.append("RIP " + " ".join(rips) + (" (not moving)" if len(set(rips)) == 1 else ""))
    if subprocess.run(["sh", "-c", "command -v gdb"], stdout=subprocess.DEVNULL).returncode == 0:
        try:
            g = subprocess.run(["gdb", "-p", str(qemu), "-batch", "-nx", "-ex", "thread apply all bt 20"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            lines.append("== gdb: thread apply all bt 20")
            lines.append(g.stdout.decode("utf-8", "replace"))
        except (OSError, subprocess.TimeoutExpired) as e:
            lines.append("== gdb failed: %s" % e)
    try:
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    except OSError as e:
        print("emuhost: cannot write %s: %s" % (path, e))
    print("emuhost: at the hang: " + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
