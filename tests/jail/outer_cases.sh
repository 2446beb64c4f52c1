#!/usr/bin/env bash
# isovm jail on a machine without usable KVM and with cgroup v1 (cpu, cpuacct, memory, pids and
# blkio hierarchies): bad arguments are refused before anything is made; the jail, the cgroup
# and the privileges a jailed VMM gets (seen through the jail-probe test hook of isovm-hooks);
# cleanup after the job, after SIGTERM and with --daemonize. Needs root.
#
#   tests/jail/outer_cases.sh          (ISOVM_HOOKS=build/isovm-hooks by default)
#
# Prints PASS/FAIL per case and "N passed, N failed"; exit status 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
HOOKS=${ISOVM_HOOKS:-$REPO/build/isovm-hooks}
case $HOOKS in /*) ;; *) HOOKS=$REPO/$HOOKS ;; esac
GUEST=$REPO/build/guest/hello.musl
JUID=4242
JGID=4343
PASSED=0
FAILED=0
W=$(mktemp -d /tmp/isovm-jail-outer.XXXXXX)
BASE=$W/base
mkdir -p "$BASE"
NETNS=isovm-jail-test-$$
cleanup() {
    ip netns del "$NETNS" 2>/dev/null
    umount "$W/robase" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 0; fi
for f in "$HOOKS" "$GUEST"; do [ -x "$f" ] || { echo "FAIL: not built: $f"; exit 1; }; done
V1=(/sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/cpu /sys/fs/cgroup/cpuacct /sys/fs/cgroup/blkio)
for d in "${V1[@]}"; do [ -d "$d" ] || { echo "FAIL: cgroup v1 hierarchy $d missing"; exit 1; }; done

REASON=""
fail() { [ -z "$REASON" ] && REASON=$1; }
finish() { # NAME
    if [ -z "$REASON" ]; then PASSED=$((PASSED + 1)); echo "PASS $1"
    else FAILED=$((FAILED + 1)); echo "FAIL $1: $REASON"; sed -n '1,12p' "$W/err" 2>/dev/null | sed 's/^/    | /'; fi
    REASON=""
}

# nothing_made ID: no jail directory, no cgroup in any v1 hierarchy
nothing_made() {
    [ -e "$BASE/isovm/$1" ] && fail "jail directory $BASE/isovm/$1 left behind"
    for d in "${V1[@]}"; do [ -e "$d/isovm/$1" ] && fail "cgroup $d/isovm/$1 left behind"; done
    return 0
}

# refused NAME WANT-IN-STDERR ID JAIL-ARGS... : status 125, the message, nothing made
refused() {
    local name=$1 want=$2 id=$3; shift 3
    ISOVM_TEST_HOOK=${REFUSE_HOOK:-} timeout 20 "$HOOKS" jail "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    [ "$rc" = 125 ] || fail "status $rc, want 125"
    grep -qF -- "$want" "$W/err" || fail "stderr lacks '$want'"
    nothing_made "$id"
    finish "refuse/$name"
}

L=(-- launch -- "$GUEST")
"$HOOKS" jail --help >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" = 0 ] || fail "jail --help: status $rc"
for want in "usage: isovm jail --id ID --uid U --gid G" "--chroot-base DIR" "--cgroup KEY=VALUE" \
    "--cgroup-version 1|2" "--parent-cgroup NAME" "--netns PATH" "--new-pid-ns" "--daemonize" \
    "--resource-limit NAME=N"; do
    grep -qF -- "$want" "$W/out" || fail "jail --help lacks '$want'"
done
# (to a file: `| grep -q` may end before isovm has written all its help, SIGPIPE, and pipefail)
"$HOOKS" --help >"$W/help" 2>&1
grep -qF "isovm jail --id ID" "$W/help" || fail "isovm --help does not mention jail"
finish "help"
refused bad-id '--id "a/b"' x --id a/b --uid $JUID --gid $JGID --chroot-base "$BASE" "${L[@]}"
refused long-id '--id "' x --id "$(printf 'a%.0s' {1..65})" --uid $JUID --gid $JGID "${L[@]}"
refused no-id '--id ID is required' x --uid $JUID --gid $JGID "${L[@]}"
refused no-uid '--uid and --gid are required' j1 --id j1 --gid $JGID --chroot-base "$BASE" "${L[@]}"
refused no-gid '--uid and --gid are required' j1 --id j1 --uid $JUID --chroot-base "$BASE" "${L[@]}"
refused uid-0 '--uid 0: the VMM must not run as root' j1 --id j1 --uid 0 --gid $JGID "${L[@]}"
refused missing-netns '--netns /run/netns/isovm-none: No such file' j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$BASE" --netns /run/netns/isovm-none "${L[@]}"
refused not-a-netns '--netns /etc/hostname: not a network namespace' j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$BASE" --netns /etc/hostname "${L[@]}"
refused missing-base "--chroot-base $W/nowhere: No such file or directory" j1 --id j1 --uid $JUID \
    --gid $JGID --chroot-base "$W/nowhere" "${L[@]}"
mkdir -p "$W/robase" && mount -t tmpfs -o ro tmpfs "$W/robase"
refused readonly-base "--chroot-base $W/robase: not writable: Read-only file system" j1 --id j1 --uid $JUID \
    --gid $JGID --chroot-base "$W/robase" "${L[@]}"
touch "$W/file-base"
refused file-base "--chroot-base $W/file-base: not a directory" j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$W/file-base" "${L[@]}"
refused cgroup-key-dotdot '"../../x" is not a cgroup limit file name' j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$BASE" --cgroup ../../x=1 "${L[@]}"
refused cgroup-key-procs '"cgroup.procs" is not a cgroup limit file name' j1 --id j1 --uid $JUID \
    --gid $JGID --chroot-base "$BASE" --cgroup cgroup.procs=1 "${L[@]}"
refused cgroup-key-controller 'no cgroup v1 controller of this job has "freezer.state"' j1 \
    --id j1 --uid $JUID --gid $JGID --chroot-base "$BASE" --cgroup freezer.state=FROZEN "${L[@]}"
# found when writing it, after the cgroup was made: undone (jail-probe: past this host's PVM check)
REFUSE_HOOK=jail-probe refused cgroup-file-missing 'no such cgroup file' j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$BASE" --cgroup memory.no_such_file=1 "${L[@]}"
refused cgroup-version '--cgroup-version "3"' j1 --id j1 --uid $JUID --gid $JGID --cgroup-version 3 "${L[@]}"
refused cgroup-v2-no-controllers 'no memory controller' j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$BASE" --cgroup-version 2 "${L[@]}"
refused launch-memory '--memory lots' j1 --id j1 --uid $JUID --gid $JGID --chroot-base "$BASE" \
    -- launch --memory lots -- "$GUEST"
refused launch-unknown 'unknown option --frob' j1 --id j1 --uid $JUID --gid $JGID --chroot-base "$BASE" \
    -- launch --frob -- "$GUEST"
refused launch-no-program 'missing PROGRAM' j1 --id j1 --uid $JUID --gid $JGID --chroot-base "$BASE" \
    -- launch --memory 32MiB
echo '{"memory": "lots"}' >"$W/bad.json"
refused launch-bad-policy "$W/bad.json:1:12: memory" j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$BASE" -- launch --policy "$W/bad.json" -- "$GUEST"
refused launch-missing-grant "grants[0].host $W/absent: No such file" j1 --id j1 --uid $JUID --gid $JGID \
    --chroot-base "$BASE" -- launch --grant "/d=$W/absent" -- "$GUEST"
refused launch-control '--control' j1 --id j1 --uid $JUID --gid $JGID --chroot-base "$BASE" \
    -- launch --control "$W/ctl.sock" -- "$GUEST"
refused io-device-missing 'policy io.device /dev/isovm-none: No such file' j1 --id j1 --uid $JUID \
    --gid $JGID --chroot-base "$BASE" -- launch --set io.device=/dev/isovm-none -- "$GUEST"
refused io-device-chr 'policy io.device /dev/null: not a block device' j1 --id j1 --uid $JUID \
    --gid $JGID --chroot-base "$BASE" -- launch --set io.device=/dev/null -- "$GUEST"
refused not-launch 'expected "-- launch' j1 --id j1 --uid $JUID --gid $JGID -- run "$GUEST"
# a job id in use: the existing jail directory is refused and left alone
mkdir -p "$BASE/isovm/busy/root"
timeout 20 "$HOOKS" jail --id busy --uid $JUID --gid $JGID --chroot-base "$BASE" "${L[@]}" >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" = 125 ] || fail "status $rc, want 125"
grep -qF "another job with id \"busy\" runs" "$W/err" || fail "stderr does not name the running job"
[ -d "$BASE/isovm/busy/root" ] || fail "the other job's jail directory was touched"
for d in "${V1[@]}"; do [ -e "$d/isovm/busy" ] && fail "cgroup $d/isovm/busy made"; done
rm -rf "$BASE/isovm/busy"
finish "refuse/id-in-use"
# a missing program: 127 as launch, nothing made
timeout 20 "$HOOKS" jail --id j1 --uid $JUID --gid $JGID --chroot-base "$BASE" -- launch -- "$W/none" \
    >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" = 127 ] || fail "status $rc, want 127"
grep -qF "$W/none: No such file" "$W/err" || fail "stderr does not name the program"
nothing_made j1
finish "refuse/program-missing"

# ---- the jail, seen by the VMM (jail-probe) and the cgroup, seen from outside (jail-probe-wait)
mkdir -p "$W/tree/ro/sub" "$W/tree/rw"
echo data >"$W/tree/ro/sub/f"
echo data >"$W/tree/rw/g"
echo file >"$W/tree/single"
chown -R $JUID:$JGID "$W/tree"
chmod 0755 "$W"
cat >"$W/p.json" <<JSON
{"memory": "48MiB", "max_threads": 5, "cpu": {"quota": "50%", "period": "100ms"},
 "grants": [{"guest": "/in", "host": "$W/tree/ro", "rights": "ro"},
            {"guest": "/out", "host": "$W/tree/rw", "rights": "rw"},
            {"guest": "/single", "host": "$W/tree/single", "rights": "ro"}]}
JSON
chmod 0644 "$W/p.json"

# probe_run ID STDIN-FIFO JAIL-ARGS... (in the background; sets PROBE_PID)
probe_run() {
    local id=$1 fifo=$2; shift 2
    rm -f "$fifo" && mkfifo "$fifo"
    ISOVM_TEST_HOOK=jail-probe,jail-probe-wait timeout 60 "$HOOKS" jail --id "$id" --uid $JUID --gid $JGID \
        --chroot-base "$BASE" "$@" <"$fifo" >"$W/out" 2>"$W/err" &
    PROBE_PID=$!
    exec 9>"$fifo" # opening the write end lets the jailer start; closing it lets the probe go on
    local i
    for i in $(seq 1 200); do grep -q '^probe-end' "$W/out" 2>/dev/null && return 0; sleep 0.05; done
    fail "the probe did not finish printing"
}

cgv() { cat "/sys/fs/cgroup/$1/isovm/$2/$3" 2>/dev/null; } # HIERARCHY ID FILE

probe_run p1 "$W/fifo" --cgroup pids.max=30 --resource-limit nofile=77 -- launch --policy "$W/p.json" \
    --memory 40MiB -- "$GUEST"
# while the job waits: the cgroup in every hierarchy, with the policy's limits
[ "$(cgv memory p1 memory.limit_in_bytes)" = $(((40 + 64) << 20)) ] ||
    fail "memory.limit_in_bytes $(cgv memory p1 memory.limit_in_bytes), want guest RAM + 64 MiB"
[ "$(cgv pids p1 pids.max)" = 30 ] || fail "pids.max $(cgv pids p1 pids.max), want 30 (--cgroup over 5+8)"
[ "$(cgv cpu p1 cpu.cfs_quota_us)" = 50000 ] || fail "cfs_quota_us $(cgv cpu p1 cpu.cfs_quota_us), want 50000"
[ "$(cgv cpu p1 cpu.cfs_period_us)" = 100000 ] || fail "cfs_period_us $(cgv cpu p1 cpu.cfs_period_us)"
for h in memory pids cpu cpuacct blkio; do
    [ -n "$(cgv $h p1 cgroup.procs)" ] || fail "no process in the $h cgroup"
done
vmm_pid=$(cgv pids p1 cgroup.procs | head -1)
[ -n "$vmm_pid" ] && [ "$(awk '/^Max open files/ {print $4}' /proc/$vmm_pid/limits)" = 77 ] ||
    fail "RLIMIT_NOFILE of the VMM is not 77"
[ -n "$vmm_pid" ] && grep -q "^NoNewPrivs:.*1" /proc/$vmm_pid/status || fail "NoNewPrivs not set (status)"
[ -n "$vmm_pid" ] && grep -q "^CapBnd:.*0000000000000000" /proc/$vmm_pid/status || fail "CapBnd not empty"
[ -n "$vmm_pid" ] && [ "$(readlink /proc/$vmm_pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] ||
    fail "the VMM shares the host's network namespace"
[ -n "$vmm_pid" ] && [ "$(readlink /proc/$vmm_pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] ||
    fail "the VMM shares the host's mount namespace"
[ -d "$BASE/isovm/p1/root" ] || fail "no jail directory while the job runs"
grep -q " $BASE/isovm/p1" /proc/self/mounts && fail "the jail's mounts are visible in the host's namespace"
exec 9>&-
wait $PROBE_PID
rc=$?
# the VMM then meets this host's PVM /dev/kvm (no hardware virtualization): a failed job
[ "$rc" != 0 ] || fail "the job succeeded on a host without usable KVM"
o=$W/out
for want in "uid $JUID $JUID" "gid $JGID $JGID" "groups 0" "cap_effective 0000000000000000" \
    "cap_permitted 0000000000000000" "cap_inheritable 0000000000000000" "cap_bounding_count 0" \
    "cap_ambient_count 0" "no_new_privs 1" "hostname isovm" "netif lo"; do
    grep -qxF "$want" "$o" || fail "probe: no line '$want'"
done
grep -q '^netif-up' "$o" && fail "probe: an interface is up in the new network namespace"
[ "$(grep -c '^netif ' "$o")" = 1 ] || fail "probe: interfaces other than lo: $(grep '^netif' "$o" | tr '\n' ' ')"
# the whole tree: only the expected paths
python3 - "$o" "$HOOKS" "$GUEST" "$W" <<'PY' 2>"$W/py.err" || fail "mount view: $(tail -n 3 "$W/py.err" | tr '\n' ' ')"
import os, subprocess, sys
out, hooks, guest, w = sys.argv[1:]
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
files = {hooks, guest, w + "/p.json", "/dev/kvm", w + "/tree/ro/sub/f", w + "/tree/rw/g",
         w + "/tree/single"}
grant_dirs = {w + "/tree/ro", w + "/tree/rw", w + "/tree/ro/sub"}
# ld.so found through /lib64 and as libc's dependency in the library directory
allowed_files = files | libs | {"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}
for p, (kind, ro, wr) in paths.items():
    if kind in "fc":
        assert p in allowed_files, "unexpected file in the jail: " + p
    elif kind == "d":
        assert any(f.startswith(p + "/") for f in allowed_files) or p in grant_dirs, "unexpected directory " + p
    else:
        assert False, "unexpected %s %s" % (kind, p)
for f in files | libs:
    assert f in paths or os.path.realpath(f) in paths, "missing from the jail: " + f
assert not any(p.startswith("/proc") or p.startswith("/sys") or p.startswith("/etc") for p in paths)
# modes: everything read-only but the rw grant; the rw grant's file writable
assert paths[w + "/tree/rw/g"][1:] == ("rw", "writable"), paths[w + "/tree/rw/g"]
assert paths[w + "/tree/ro/sub/f"][1:] == ("ro", "EROFS"), paths[w + "/tree/ro/sub/f"]
assert paths[w + "/tree/single"][1:] == ("ro", "EROFS"), paths[w + "/tree/single"]
assert paths[hooks][1] == "ro" and paths[w + "/p.json"][1] == "ro"
assert paths["/dev/kvm"] == ("c", "ro", "writable"), paths["/dev/kvm"]
assert paths["/dev"][1] == "ro"
PY
sleep 0.2
nothing_made p1
finish "probe/v1-jail-cgroup-privileges"

# a read-write grant inside a read-only one: both bound, the inner one over the outer, in
# whichever order the policy lists them
cat >"$W/nested.json" <<JSON
{"grants": [{"guest": "/inner", "host": "$W/tree/ro/sub", "rights": "rw"},
            {"guest": "/outer", "host": "$W/tree/ro", "rights": "ro"}]}
JSON
chmod 0644 "$W/nested.json"
probe_run p6 "$W/fifo" -- launch --policy "$W/nested.json" -- "$GUEST"
exec 9>&-
wait $PROBE_PID
grep -qx "path $W/tree/ro/sub/f f 0644 $JUID:$JGID rw writable" "$W/out" ||
    fail "the inner rw grant's file: $(grep "path $W/tree/ro/sub/f " "$W/out")"
grep -q "^path $W/tree/ro d .* ro -$" "$W/out" || fail "the outer grant is not read-only"
nothing_made p6
finish "probe/nested-grants"

# the Linux tier: the kernel (from $ISOVM_KERNEL: the VMM gets no environment) and its modules,
# the root image read-only, a --disk :rw read-write, the user's snapshot cache made (the user's,
# 0700) and bound read-write; the guest's COMMAND is not a host file and nothing else is bound
mkdir -p "$W/lx/kern"
head -c 4096 /dev/zero >"$W/lx/kern/vmlinux"
head -c 4096 /dev/zero >"$W/lx/kern/modules.cpio"
head -c 1048576 /dev/zero >"$W/lx/root.img"
cp "$W/lx/root.img" "$W/lx/disk.img"
chown $JUID:$JGID "$W/lx/disk.img"
ISOVM_KERNEL=$W/lx/kern/vmlinux probe_run p8 "$W/fifo" -- launch --rootfs "$W/lx/root.img" \
    --disk "$W/lx/disk.img:rw" -- make test
exec 9>&-
wait $PROBE_PID
SNAPS=$BASE/isovm/.snapshots/$JUID
for want in "$W/lx/kern/vmlinux f .* ro .*" "$W/lx/kern/modules.cpio f .* ro .*" \
    "$W/lx/root.img f .* ro .*" "$W/lx/disk.img f .* rw writable" "$SNAPS d 0700 $JUID:$JGID rw -"; do
    grep -qx "path $want" "$W/out" || fail "probe: no 'path $want' ($(grep "^path ${want%% *} " "$W/out"))"
done
# every file in the jail: isovm, its libraries, /dev/kvm and the Linux tier's
EXTRA=$(grep '^path ' "$W/out" | awk '$3 != "d" {print $2}' | grep -vxF -e "$HOOKS" -e /dev/kvm \
    -e "$W/lx/kern/vmlinux" -e "$W/lx/kern/modules.cpio" -e "$W/lx/root.img" -e "$W/lx/disk.img" |
    grep -vE '^/(usr/)?lib(64|32)?/' )
[ -z "$EXTRA" ] || fail "probe: more files in the jail: $(echo $EXTRA)"
[ "$(stat -c '%u %a' "$SNAPS" 2>&1)" = "$JUID 700" ] || fail "snapshot cache $SNAPS: $(stat -c '%u %a' "$SNAPS" 2>&1)"
[ "$(stat -c '%u %a' "$BASE/isovm/.snapshots" 2>&1)" = "0 711" ] || fail "$BASE/isovm/.snapshots: $(stat -c '%u %a' "$BASE/isovm/.snapshots" 2>&1)"
nothing_made p8
finish "probe/linux-tier"

# io.device: the policy's I/O rates as blkio throttles on that device (v1)
BLK=$(lsblk -dno PATH,TYPE 2>/dev/null | awk '$2 == "disk" {print $1; exit}')
if [ -n "$BLK" ] && [ -b "$BLK" ]; then
    MM=$(printf '%d:%d' "0x$(stat -c %t "$BLK")" "0x$(stat -c %T "$BLK")")
    probe_run p7 "$W/fifo" -- launch --set io.device="$BLK" --set io.write.bandwidth=1MiB/s \
        --set io.read.ops=200/s -- "$GUEST"
    [ "$(cgv blkio p7 blkio.throttle.write_bps_device)" = "$MM 1048576" ] ||
        fail "write_bps_device '$(cgv blkio p7 blkio.throttle.write_bps_device)', want '$MM 1048576'"
    [ "$(cgv blkio p7 blkio.throttle.read_iops_device)" = "$MM 200" ] ||
        fail "read_iops_device '$(cgv blkio p7 blkio.throttle.read_iops_device)', want '$MM 200'"
    [ -z "$(cgv blkio p7 blkio.throttle.read_bps_device)" ] || fail "read_bps_device set without a limit"
    exec 9>&-
    wait $PROBE_PID
    nothing_made p7
    finish "probe/io-device-v1"
else
    echo "SKIP probe/io-device-v1: no block device"
fi

# --new-pid-ns: the VMM is PID 1
probe_run p2 "$W/fifo" --new-pid-ns -- launch -- "$GUEST"
exec 9>&-
wait $PROBE_PID
grep -qx "pid 1" "$W/out" || fail "probe: $(grep '^pid' "$W/out"), want pid 1"
nothing_made p2
finish "probe/new-pid-ns"

# --netns: joins the given namespace (with a dummy interface in it)
if ip netns add "$NETNS" 2>/dev/null && ip -n "$NETNS" link set lo up 2>/dev/null; then
    probe_run p3 "$W/fifo" --netns "/run/netns/$NETNS" -- launch -- "$GUEST"
    exec 9>&-
    wait $PROBE_PID
    grep -qx "netif-up lo" "$W/out" || fail "probe: the joined namespace's loopback (up) not seen"
    nothing_made p3
    finish "probe/netns-join"
else
    echo "SKIP probe/netns-join: ip netns add failed"
fi

# SIGTERM to the jailer reaches the VMM, and the jailer still cleans up
probe_run p4 "$W/fifo" -- launch -- "$GUEST"
kill -TERM $PROBE_PID
wait $PROBE_PID
rc=$?
exec 9>&-
[ "$rc" = 143 ] || fail "status $rc after SIGTERM, want 143"
nothing_made p4
finish "signal/term-forwarded-and-cleanup"

# --daemonize: returns at once; the background jailer cleans up after the job
ISOVM_TEST_HOOK=jail-probe timeout 20 "$HOOKS" jail --id p5 --uid $JUID --gid $JGID --chroot-base "$BASE" \
    --daemonize -- launch -- "$GUEST" </dev/null >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" = 0 ] || fail "daemonize: status $rc, want 0"
[ -s "$W/out" ] && fail "daemonize: the job wrote to the caller's stdout"
for i in $(seq 1 100); do [ -e "$BASE/isovm/p5" ] || break; sleep 0.1; done
nothing_made p5
finish "daemonize/cleanup"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
