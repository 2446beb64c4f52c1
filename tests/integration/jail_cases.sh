# isovm jail cases (issue 5): the jailer on a KVM host with cgroup v2 (mounted here when absent):
# hello and other jobs through the jailer, the usage report's "cgroup" object, the cgroup's limits
# while the job runs and its removal after, what the VMM sees (jail-probe hook of isovm-hooks:
# ids, capabilities, interfaces, the mount view, PID 1 with --new-pid-ns, a joined netns), the
# thread limits (pids.max and max_threads), and the file-system cases of fs_cases.sh and
# caps_cases.sh run through the jailer (grants bound into the jail; the VMM has no /proc there).
# shellcheck shell=bash
# Sourced by run.sh. Every case name starts with "jail/". Needs root; isovm only (not native).

JAIL_UID=4242
JAIL_GID=4343
JAIL_BASE=$WORK/jails
JAIL_HOOKS=${ISOVM}-hooks
JAIL_REAL=$ISOVM
JAIL_CG=""

# _jail_init: cgroup v2 at /sys/fs/cgroup (mounted when nothing is there), the chroot base.
_jail_init() {
    native && { fail "jail cases need isovm"; return 1; }
    [ "$(id -u)" = 0 ] || { fail "jail cases need root"; return 1; }
    mkdir -p "$JAIL_BASE"
    if [ -z "$JAIL_CG" ]; then
        if ! grep -q ' /sys/fs/cgroup cgroup2 ' /proc/self/mounts; then
            mount -t cgroup2 none /sys/fs/cgroup || { fail "cannot mount cgroup2"; return 1; }
        fi
        JAIL_CG=/sys/fs/cgroup
    fi
    return 0
}

# _jail_gone ID: no jail directory and no cgroup left after the job
_jail_gone() {
    [ -e "$JAIL_BASE/isovm/$1" ] && fail "jail directory $JAIL_BASE/isovm/$1 left behind"
    [ -e "$JAIL_CG/isovm/$1" ] && fail "cgroup $JAIL_CG/isovm/$1 left behind"
    return 0
}

# c_jail_wrapped CASE-FUNCTION ARGS...: an existing case with `isovm launch ...` run as
# `isovm jail ... -- launch ...`; the case's host files belong to the job's user, as an operator
# would arrange (the VMM runs as that user).
c_jail_wrapped() {
    _jail_init || return
    local w=$WORK/jail-isovm id="w$RANDOM$RANDOM"
    cat >"$w" <<SH
#!/usr/bin/env bash
for d in "$WORK/fs" "$WORK/case"; do [ -d "\$d" ] && chown -R $JAIL_UID:$JAIL_GID "\$d"; done
exec "$JAIL_REAL" jail --id $id --uid $JAIL_UID --gid $JAIL_GID --chroot-base "$JAIL_BASE" -- "\$@"
SH
    chmod +x "$w"
    local saved=$ISOVM
    ISOVM=$w
    "$@"
    ISOVM=$saved
    _jail_gone "$id"
}

# _jail_run ID [JAIL OPTIONS...] -- launch ...: run_isovm jail with the test's ids and base
_jail_run() {
    local id=$1
    shift
    run_isovm jail --id "$id" --uid $JAIL_UID --gid $JAIL_GID --chroot-base "$JAIL_BASE" "$@"
}

c_jail_report() {
    _jail_init || return
    need hello.musl || return
    local r=$WORK/jr.json
    rm -f "$r"
    _jail_run jr -- launch --memory 32MiB --max-threads 4 --report "$r" -- "$J"
    expect_status 0 || return
    expect_stdout_eq "hello from isovm"
    py - "$r" <<'PY' 2>"$WORK/py.err" || fail "report: $(tail -n 3 "$WORK/py.err" | tr '\n' ' ')"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_reason"] == "exit" and r["exit_status"] == 0, r["exit_reason"]
assert r["policy"]["memory_bytes"] == 32 << 20
cg = r["cgroup"]
assert cg["version"] == 2 and cg["path"] == "/isovm/jr", cg
assert cg["memory_max"] == (32 + 64) << 20, cg["memory_max"]
assert cg["pids_max"] == 4 + 8, cg["pids_max"]
assert cg["cpu_max"] == "max 100000", cg["cpu_max"]
assert cg["cpu_usage_ns"] > 0, cg
assert cg["memory_peak_bytes"] > (1 << 20), cg
assert cg["memory_peak_bytes"] <= cg["memory_max"], cg
for k in ("io_read_bytes", "io_write_bytes", "pids_max_events"):
    assert k in cg, k
print("cgroup", cg["cpu_usage_ns"], cg["memory_peak_bytes"], file=sys.stderr)
PY
    _jail_gone jr
}

# _jail_probe_start ID FIFO JAIL-ARGS...: the hooks binary with jail-probe,jail-probe-wait in the
# background until its probe has printed; closing fd 9 lets the job go on.
_jail_probe_start() {
    local id=$1 fifo=$2
    shift 2
    rm -f "$fifo"
    mkfifo "$fifo"
    OUT_FILE=$WORK/out
    ERR_FILE=$WORK/err
    ISOVM_TEST_HOOK=jail-probe,jail-probe-wait timeout 60 "$JAIL_HOOKS" jail --id "$id" --uid $JAIL_UID \
        --gid $JAIL_GID --chroot-base "$JAIL_BASE" "$@" <"$fifo" >"$OUT_FILE" 2>"$ERR_FILE" &
    JAIL_PID=$!
    exec 9>"$fifo"
    local i
    for i in $(seq 1 300); do grep -q '^probe-end' "$OUT_FILE" 2>/dev/null && return 0; sleep 0.05; done
    fail "the probe did not finish printing"
    return 1
}

_jail_probe_finish() {
    exec 9>&-
    wait "$JAIL_PID"
    RC=$?
    HUNG=0
}

c_jail_probe() {
    _jail_init || return
    need hello.musl || return
    [ -x "$JAIL_HOOKS" ] || { fail "not built: $JAIL_HOOKS"; return; }
    _jail_probe_start jp "$WORK/fifo" -- launch --memory 32MiB --max-threads 6 --cpu-quota 50% -- "$J" || return
    local cg=$JAIL_CG/isovm/jp
    [ "$(cat $cg/memory.max 2>/dev/null)" = $(((32 + 64) << 20)) ] || fail "memory.max $(cat $cg/memory.max 2>&1)"
    [ "$(cat $cg/pids.max 2>/dev/null)" = 14 ] || fail "pids.max $(cat $cg/pids.max 2>&1), want 6 + 8"
    [ "$(cat $cg/cpu.max 2>/dev/null)" = "50000 100000" ] || fail "cpu.max $(cat $cg/cpu.max 2>&1)"
    [ -n "$(cat $cg/cgroup.procs 2>/dev/null)" ] || fail "no process in $cg"
    _jail_probe_finish
    expect_status 0 || return
    expect_stdout_has "hello from isovm"
    local want
    for want in "uid $JAIL_UID $JAIL_UID" "gid $JAIL_GID $JAIL_GID" "groups 0" \
        "cap_effective 0000000000000000" "cap_permitted 0000000000000000" \
        "cap_inheritable 0000000000000000" "cap_bounding_count 0" "cap_ambient_count 0" \
        "no_new_privs 1" "netif lo"; do
        expect_stdout_line "$want" || return
    done
    grep -q '^netif-up' "$OUT_FILE" && fail "the new network namespace has an interface up"
    [ "$(grep -c '^netif ' "$OUT_FILE")" = 1 ] || fail "the VMM sees host interfaces: $(grep '^netif' "$OUT_FILE" | tr '\n' ' ')"
    py - "$OUT_FILE" "$JAIL_HOOKS" "$J" <<'PY' 2>"$WORK/py.err" || fail "mount view: $(tail -n 3 "$WORK/py.err" | tr '\n' ' ')"
import os, subprocess, sys
out, hooks, job = sys.argv[1:]
paths = {}
for l in open(out):
    if l.startswith("path "):
        _, p, kind, mode, owner, ro, wr = l.split()
        paths[p] = (kind, ro, wr)
libs = set()
for l in subprocess.run(["ldd", hooks], capture_output=True, text=True).stdout.splitlines():
    for t in l.split():
        if t.startswith("/"):
            libs.add(os.path.normpath(t))
libs |= {os.path.join(os.path.dirname(l), "ld-linux-x86-64.so.2") for l in libs if "libc.so" in l}
files = {hooks, job, "/dev/kvm"} | libs
for p, (kind, ro, wr) in paths.items():
    assert ro == "ro", "writable mount in the jail: " + p
    if kind in "fc":
        assert p in files, "unexpected file in the jail: " + p
    else:
        assert kind == "d" and any(f.startswith(p + "/") for f in files), "unexpected %s %s" % (kind, p)
for f in {hooks, job, "/dev/kvm"}:
    assert f in paths, "missing from the jail: " + f
PY
    _jail_gone jp
}

c_jail_pidns() {
    _jail_init || return
    need hello.musl || return
    _jail_probe_start jn "$WORK/fifo" --new-pid-ns -- launch -- "$J" || return
    _jail_probe_finish
    expect_status 0 || return
    expect_stdout_line "pid 1"
    expect_stdout_has "hello from isovm"
    _jail_gone jn
}

c_jail_netns() {
    _jail_init || return
    need hello.musl || return
    local ns=isovm-jt-$$
    # the joined namespace's mark: its loopback is up (a new one's is down)
    ip netns add "$ns" 2>/dev/null && ip -n "$ns" link set lo up 2>/dev/null ||
        { ip netns del "$ns" 2>/dev/null; fail "cannot make a network namespace with ip netns"; return; }
    _jail_probe_start jt "$WORK/fifo" --netns "/run/netns/$ns" -- launch -- "$J" || { ip netns del "$ns"; return; }
    _jail_probe_finish
    ip netns del "$ns"
    expect_status 0 || return
    expect_stdout_line "netif-up lo"
    expect_stdout_has "hello from isovm"
    _jail_gone jt
}

# threads beyond pids.max: pthread_create fails in the job (exit 3), the cgroup counts the refusal
c_jail_pids_max() {
    _jail_init || return
    need threads_many.musl || return
    local r=$WORK/jpm.json
    rm -f "$r"
    _jail_run jpm --cgroup pids.max=6 -- launch --max-threads 32 --report "$r" -- "$J" run 20
    expect_status 3 "pthread_create failed" || return
    py - "$r" <<'PY' 2>"$WORK/py.err" || fail "report: $(tail -n 3 "$WORK/py.err" | tr '\n' ' ')"
import json, sys
cg = json.load(open(sys.argv[1]))["cgroup"]
assert cg["pids_max"] == 6, cg
assert cg["pids_max_events"] >= 1, cg
PY
    _jail_gone jpm
}

# the policy's max_threads under the jailer: the VMM's own limit refuses first
c_jail_max_threads() {
    _jail_init || return
    need threads_many.musl || return
    local r=$WORK/jmt.json
    rm -f "$r"
    _jail_run jmt -- launch --max-threads 4 --report "$r" -- "$J" run 10
    expect_status 3 "pthread_create failed" || return
    expect_report_ge "$r" threads_refused 1
    py - "$r" <<'PY' 2>"$WORK/py.err" || fail "report: $(tail -n 3 "$WORK/py.err" | tr '\n' ' ')"
import json, sys
r = json.load(open(sys.argv[1]))
cg = r["cgroup"]
assert cg["pids_max"] == 4 + 8, cg
assert cg.get("pids_max_events", 0) == 0, cg   # the VMM refused before the cgroup had to
PY
    _jail_gone jmt
}

# a job that fills its guest RAM: the VMM stays under memory.max (guest RAM + the allowance)
c_jail_memory_full() { # MEMORY-MIB
    _jail_init || return
    need oom.musl || return
    local r=$WORK/jmf.json
    rm -f "$r"
    _jail_run jmf -- launch --memory "$1MiB" --report "$r" -- "$J" handle
    expect_status 3 "the job's own ENOMEM exit, not a cgroup OOM kill" || return
    py - "$r" "$1" <<'PY' 2>"$WORK/py.err" || fail "report: $(tail -n 3 "$WORK/py.err" | tr '\n' ' ')"
import json, sys
r = json.load(open(sys.argv[1]))
mib = int(sys.argv[2]) << 20
cg = r["cgroup"]
assert cg["memory_max"] == mib + (64 << 20), cg
assert cg.get("memory_oom_events", 0) == 0 and cg.get("memory_oom_kill_events", 0) == 0, cg
assert cg["memory_peak_bytes"] > mib * 0.8, "peak %d below 80%% of guest RAM" % cg["memory_peak_bytes"]
assert cg["memory_peak_bytes"] < cg["memory_max"], cg
print("overhead beyond guest RAM: %.1f MiB" % ((cg["memory_peak_bytes"] - mib) / 2**20), file=sys.stderr)
PY
    sed -n '/overhead/p' "$WORK/py.err" >>"$WORK/jail-memory.txt"
    _jail_gone jmf
}

c_jail_exit() { # JOB STATUS
    _jail_init || return
    need "$1" || return
    _jail_run je -- launch -- "$J"
    expect_status "$2"
    _jail_gone je
}

# ---- the Linux tier in the jail (issue 14): the images, the kernel and a per-uid snapshot cache
# bound in, nothing else; the VMM's Linux-tier seccomp filter. Helpers of linux_cases.sh.

# _jail_lx_vmm JAILER-PID : JAIL_VMM = the pid of the jailed VMM (the jailer's child), waiting
# for it to exec (its uid is then the job's)
_jail_lx_vmm() {
    local i c
    JAIL_VMM=""
    for i in $(seq 1 200); do
        c=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
        c=${c%% *}
        if [ -n "$c" ] && grep -q "^Uid:[[:space:]]*$JAIL_UID[[:space:]]" "/proc/$c/status" 2>/dev/null; then
            JAIL_VMM=$c
            return 0
        fi
        sleep 0.1
    done
    fail "no jailed VMM found under jailer $1 (children: $(cat "/proc/$1/task/$1/children" 2>&1))"
    return 1
}

# A jailed Linux-tier job, the kernel found by the jailer ($ISOVM_KERNEL; the VMM gets no
# environment), a rw disk, a console log, a report, a rw grant and an endpoint (bound, and the
# filter's grants and network groups on, though the Linux tier does not serve them yet); while
# it sleeps, seen from
# the host: no capabilities, no_new_privs, the seccomp filter, and a mount view of only its
# files (the images ro/rw as given, the kernel and modules ro, the snapshot cache rw). Then the
# job's status and output, the disk's write, the report, the per-uid snapshot cache.
c_jail_linux() {
    _jail_init || return
    _lx_images || return
    _lx_kernel
    local k=${ISOVM_TEST_KERNEL:-$REPO/.cache/linux-kernel/current/vmlinux}
    [ -f "$k" ] || k=${XDG_CACHE_HOME:-$HOME/.cache}/isovm/kernel/current/vmlinux
    [ -f "$k" ] || { fail "no kernel at $k (scripts/linux-kernel.sh)"; return 1; }
    local d=$WORK/jlx disk=$WORK/jlx/disk.img snaps=$JAIL_BASE/isovm/.snapshots/$JAIL_UID
    rm -rf "$d"
    mkdir -p "$d"
    cp "$LX/data.img" "$disk"
    mkdir -p "$d/checkout"
    chown "$JAIL_UID:$JAIL_GID" "$disk" "$d/checkout" # an operator gives the job's user its rw files
    OUT_FILE=$WORK/out
    ERR_FILE=$WORK/err
    env -u ISOVM_SNAPSHOT_CACHE ISOVM_KERNEL="$k" timeout 200 "$ISOVM" jail --id jlx --uid $JAIL_UID \
        --gid $JAIL_GID --chroot-base "$JAIL_BASE" -- launch --rootfs "$LX/root.img" --memory 256M \
        --disk "$disk:rw" --console-log "$d/console.log" --report "$d/r.json" \
        --grant "/work=$d/checkout:rw" --connect tcp:127.0.0.1:3142 \
        -- /bin/sh -c 'echo ready; sleep 8; mount -t ext4 /dev/vdb /mnt && echo jailed >/mnt/w.txt &&
            umount /mnt && echo through-the-grant >/work/g.txt && echo done; exit 7' </dev/null >"$OUT_FILE" 2>"$ERR_FILE" &
    local tpid=$!
    local i jailer=""
    for i in $(seq 1 100); do
        jailer=$(cat "/proc/$tpid/task/$tpid/children" 2>/dev/null)
        jailer=${jailer%% *}
        [ -n "$jailer" ] && break
        sleep 0.1
    done
    if [ -n "$jailer" ] && _jail_lx_vmm "$jailer"; then
        for i in $(seq 1 1200); do _has "$OUT_FILE" ready && break; sleep 0.1; done
        _has "$OUT_FILE" ready || fail "the job did not start: $(_show "$ERR_FILE")"
        local st=/proc/$JAIL_VMM/status
        _slurp "$st"
        local f
        for f in 'CapInh:	0000000000000000' 'CapPrm:	0000000000000000' 'CapEff:	0000000000000000' \
            'CapBnd:	0000000000000000' 'CapAmb:	0000000000000000' 'NoNewPrivs:	1' 'Seccomp:	2'; do
            _has_line "$st" "$f" || fail "the jailed VMM's status lacks '$f': $(grep -E '^(Cap|NoNew|Seccomp)' "$st" | tr '\n' ' ')"
        done
        # the mount view: every mount point one of the job's files, isovm or its libraries
        local mi=$d/mountinfo mp opts want vmm
        # the VMM: this job has an endpoint, so the static isovm's jailer handed it to
        # isovm-slirp (docs/architecture.md#two-links-of-one-vmm); the SAN isovm links libslirp
        vmm=$(readlink -f "$ISOVM")
        readelf -d "$vmm" | grep -q libslirp || vmm=${vmm%/*}/isovm-slirp
        cp "/proc/$JAIL_VMM/mountinfo" "$mi"
        local -A seen=()
        while read -r _ _ _ _ mp opts _; do
            seen[$mp]=$opts
            case $mp in
                / | "$k" | "${k%/*}/modules.cpio" | "$LX/root.img" | "$disk" | "$d/console.log" | \
                    /isovm-report.json | "$snaps" | "$d/checkout" | /isovm-tmp | "$vmm") ;;
                /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;;
                *) fail "the jailed VMM's mount view has $mp" ;;
            esac
        done <"$mi"
        for want in "$k:ro" "${k%/*}/modules.cpio:ro" "$LX/root.img:ro" "$disk:rw" \
            "$d/console.log:rw" "/isovm-report.json:rw" "$snaps:rw" "$d/checkout:rw" "/isovm-tmp:rw" "/:ro" \
            "$vmm:ro"; do
            mp=${want%:*}
            [ -n "${seen[$mp]:-}" ] || { fail "the jailed VMM's mount view lacks $mp"; continue; }
            case ,${seen[$mp]}, in *,${want##*:},*) ;; *) fail "$mp is mounted ${seen[$mp]}, want ${want##*:}" ;; esac
        done
    fi
    wait "$tpid"
    RC=$?
    HUNG=0
    expect_status 7 || return
    expect_stdout_eq $'ready\ndone'
    local got
    got=$(debugfs -R 'cat /w.txt' "$disk" 2>/dev/null)
    [ "$got" = jailed ] || fail "the rw disk holds '$got', want 'jailed'"
    [ "$(cat "$d/checkout/g.txt" 2>/dev/null)" = through-the-grant ] ||
        fail "the rw grant's host directory has no g.txt from the jailed job"
    expect_report "$d/r.json" tier '"linux"'
    expect_report "$d/r.json" exit_reason '"exit"'
    expect_report_match "$d/r.json" '"snapshot": "(made|restored)"' "boot.snapshot made or restored"
    [ -s "$d/console.log" ] || fail "the console log is empty"
    # the per-uid snapshot cache: the job's user's, 0700, holding the user's snapshot
    [ "$(stat -c '%u %a' "$snaps" 2>/dev/null)" = "$JAIL_UID 700" ] ||
        fail "snapshot cache $snaps: $(stat -c '%u %a' "$snaps" 2>&1)"
    ls "$snaps"/*.snap >/dev/null 2>&1 || fail "no snapshot in $snaps"
    _jail_gone jlx
}

# A forbidden syscall made by the jailed Linux-tier VMM right after its filter is installed
# (isovm-hooks: seccomp-ioctl is KVM_CREATE_VM, seccomp-execve an execve): it dies of SIGSYS (the
# jailer sees signal 31 and exits 159); the job never runs. Once from a snapshot (the filter
# before the first guest instruction, or at the ready point when this build makes the
# snapshot), once with --no-snapshot.
c_jail_linux_sigsys() {
    _jail_init || return
    _lx_images || return
    _lx_kernel
    local hook snap
    for hook in seccomp-ioctl:snapshot seccomp-execve:--no-snapshot; do
        snap=${hook#*:}
        hook=${hook%%:*}
        [ "$snap" = snapshot ] && snap=--memory=256M
        ISOVM_TEST_HOOK=$hook run_cmd "$JAIL_HOOKS" jail --id jsys --uid $JAIL_UID --gid $JAIL_GID \
            --chroot-base "$JAIL_BASE" -- launch --rootfs "$LX/root.img" "${LX_KERNEL_ARGS[@]}" "$snap" \
            -- /bin/sh -c 'echo the-job-ran'
        expect_status 159 || return
        expect_stderr_has "jail: the VMM was killed by signal 31"
        expect_stdout_lacks "the-job-ran"
        _has "$ERR_FILE" "test hook $hook: the call returned" && fail "$hook returned under the filter"
        _jail_gone jsys
    done
}

# Refused before anything is made: a missing image, a missing kernel, a snapshot cache of another
# user (no jail directory or cgroup left, exit 125, the thing named)
c_jail_linux_refused() {
    _jail_init || return
    _lx_images || return
    _jail_run jlr -- launch --rootfs "$WORK/no-such.img" -- /bin/true
    expect_status 125 || return
    expect_stderr_has "jail: --rootfs $WORK/no-such.img: No such file or directory"
    _jail_gone jlr
    _jail_run jlr -- launch --rootfs "$LX/root.img" --kernel "$WORK/no-vmlinux" -- /bin/true
    expect_status 125 || return
    expect_stderr_has "jail: --kernel $WORK/no-vmlinux: No such file or directory"
    _jail_gone jlr
    local other=$WORK/jails-other
    mkdir -p "$other/isovm/.snapshots/$JAIL_UID"
    _lx_kernel
    run_isovm jail --id jlr --uid $JAIL_UID --gid $JAIL_GID --chroot-base "$other" -- launch \
        --rootfs "$LX/root.img" "${LX_KERNEL_ARGS[@]}" -- /bin/true
    expect_status 125 || return
    expect_stderr_has "is not a directory of uid $JAIL_UID with mode 0700"
    [ -e "$other/isovm/jlr" ] && fail "jail directory left behind"
    rm -rf "$other"
}

add_case "jail/report with the cgroup object" c_jail_report
add_case "jail/probe: ids, capabilities, interfaces, mount view, cgroup limits" c_jail_probe
add_case "jail/new PID namespace: the VMM is PID 1" c_jail_pidns
add_case "jail/joins a network namespace" c_jail_netns
add_case "jail/threads stop at pids.max" c_jail_pids_max
add_case "jail/threads stop at max_threads" c_jail_max_threads
add_case "jail/guest RAM filled (64MiB) under memory.max" c_jail_memory_full 64
add_case "jail/guest RAM filled (256MiB) under memory.max" c_jail_memory_full 256
add_case "jail/exit status abort.musl" c_jail_exit abort.musl 134
add_case "jail/exit status exitcode.musl" c_jail_wrapped c_exitcode musl
add_case "jail/hello.musl" c_jail_wrapped c_hello musl
add_case "jail/hello.glibc-pie" c_jail_wrapped c_hello glibc-pie
add_case "jail/fs/ro/musl" c_jail_wrapped c_fs_ro musl
add_case "jail/fs/rw/musl" c_jail_wrapped c_fs_rw musl
add_case "jail/fs/escape/musl" c_jail_wrapped c_fs_escape musl
add_case "jail/fs/rights/musl" c_jail_wrapped c_fs_rights musl
add_case "jail/fs/busybox/ls-lR" c_jail_wrapped c_fs_bb ls-lR ls -lnR
add_case "jail/caps/attenuate and amplify caps.musl" c_jail_wrapped c_caps_attenuate musl
add_case "jail/linux: job runs; no capabilities, only its files, rw disk and grant, per-uid snapshots" with_budget 240 c_jail_linux
add_case "jail/linux: a forbidden syscall kills the VMM (SIGSYS)" with_budget 240 c_jail_linux_sigsys
add_case "jail/linux: bad image, kernel, snapshot cache refused" c_jail_linux_refused

# the jailer itself under valgrind (memcheck, leak check; the VMM it execs is not traced)
c_jail_valgrind() {
    _jail_init || return
    need hello.musl || return
    c_valgrind 0 jail --id jv --uid $JAIL_UID --gid $JAIL_GID --chroot-base "$JAIL_BASE" \
        -- launch --report "$WORK/jv.json" -- "$J"
    expect_stdout_has "hello from isovm"
    expect_report "$WORK/jv.json" exit_reason '"exit"'
    _jail_gone jv
}
if ! grep -qa __asan_init "$ISOVM" 2>/dev/null; then # ASan and valgrind do not mix
    add_case "jail/valgrind: the jailer" with_budget 120 c_jail_valgrind
fi
