#!/usr/bin/env bash
# The init's emulation tests: the test build of isovm's init ($BUILD/init/isovm-init-test,
# init/seam.h) runs as PID 1 of a new PID, mount and cgroup namespace, chroot'ed into a directory
# laid out as the VMM's initramfs (init/abi.h), with loop devices for the guest's disks and plain
# files for the ports, the status port and the job channel (/test/job). Everything the guest's init
# does but load modules, use an I/O port, set the clock and seed the random pool, mount a share's
# 9p and set up the network's interfaces (recorded in /test/applied.log; the interfaces are the
# entries of /test/net) happens for real: mounts, overlay, the move into the new root, the shares'
# mount points, /etc/hosts and /etc/resolv.conf (bind mounts on a read-only root), the cgroup, the
# job's process, its streams and its end.
#
#   tests/init/run.sh [-v] [CASE...]     needs root, loop devices, mksquashfs, mke2fs, debugfs
#
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 on any failure. Without root or
# loop devices it says SKIP and exits 0.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
INIT=${ISOVM_INIT_TEST:-$repo/$BUILD/init/isovm-init-test}
verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
only=("$@")

if [ "$(id -u)" != 0 ] || [ ! -e /dev/loop-control ]; then
    echo "SKIP tests/init/run.sh: needs root and loop devices"
    exit 0
fi
for t in mksquashfs mke2fs debugfs losetup unshare chroot busybox timeout; do
    command -v "$t" >/dev/null || { echo "FAIL tests/init/run.sh: missing $t (scripts/install-deps.sh)"; exit 1; }
done
[ -x "$INIT" ] || { echo "FAIL tests/init/run.sh: no $INIT (make init)"; exit 1; }

W=$(mktemp -d /tmp/isovm-init-test.XXXXXX)
cgroups=()
cleanup() {
    local l c
    [ -f "$W/loops" ] && while read -r l; do losetup -d "$l" 2>/dev/null; done <"$W/loops"
    for c in "${cgroups[@]}"; do rmdir "$c/job" "$c/init" "$c" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); [ $verbose = 1 ] && echo "PASS $case: $*"; return 0; }
bad() { failed=$((failed + 1)); echo "FAIL $case: $*"; return 0; }

# --- the images -------------------------------------------------------------------------------
tree=$W/rootdir
mkdir -p "$tree"/{bin,proc,sys,dev,tmp,etc,opt/bin,home}
cp "$(command -v busybox)" "$tree/bin/busybox"
for a in $("$tree/bin/busybox" --list); do [ -e "$tree/bin/$a" ] || ln -s busybox "$tree/bin/$a"; done
echo root-marker >"$tree/etc/marker"
echo "127.0.0.1 image-hosts" >"$tree/etc/hosts"
echo "nameserver 192.0.2.1" >"$tree/etc/resolv.conf"
printf 'echo not run\n' >"$tree/bin/plain" && chmod 0644 "$tree/bin/plain"
printf 'echo ran-by-sh "$@"; exit 5\n' >"$tree/bin/noshebang" && chmod 0755 "$tree/bin/noshebang"
printf '#!/bin/sh\necho tool-ran\n' >"$tree/opt/bin/tool" && chmod 0755 "$tree/opt/bin/tool"
mksquashfs "$tree" "$W/root.sqfs" -all-root -noappend -quiet >/dev/null || { echo "FAIL mksquashfs"; exit 1; }
mksquashfs "$tree" "$W/root-nonames.sqfs" -all-root -noappend -quiet -e etc/hosts etc/resolv.conf >/dev/null ||
    { echo "FAIL mksquashfs"; exit 1; }
mke2fs -q -t ext4 -d "$tree" -E root_owner=0:0 "$W/root.ext4" 32M >/dev/null || { echo "FAIL mke2fs root"; exit 1; }
mkdir -p "$W/datadir" && echo disk-data >"$W/datadir/data.txt"
mke2fs -q -t ext4 -d "$W/datadir" "$W/data.ext4" 8M >/dev/null || exit 1
head -c 4M /dev/zero >"$W/zeros.img"

attach() { # attach FILE [ro]: prints the loop device (listed in $W/loops for the clean-up)
    local l
    if [ "${2:-}" = ro ]; then l=$(losetup -f --show -r "$1"); else l=$(losetup -f --show "$1"); fi || return 1
    echo "$l" >>"$W/loops"
    echo "$l"
}
ROOT_SQ=$(attach "$W/root.sqfs" ro) && ROOT_EXT4=$(attach "$W/root.ext4" ro) &&
ROOT_NONAMES=$(attach "$W/root-nonames.sqfs" ro) &&
DATA=$(attach "$W/data.ext4" ro) && ZEROS=$(attach "$W/zeros.img" ro) || { echo "FAIL losetup"; exit 1; }

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cg2" ] || { echo "FAIL no cgroup2 hierarchy mounted"; exit 1; }
has_ctl() { grep -qw "$1" "$cg2/cgroup.subtree_control" 2>/dev/null; }

# --- one boot -----------------------------------------------------------------------------------
esc() { # percent-escapes $1 as the job file wants
    local b out=""
    for b in $(printf '%s' "$1" | od -An -tx1 -v); do
        if (( 16#$b < 0x21 || 16#$b > 0x7e || 16#$b == 0x25 )); then out+="%${b^^}"; else out+=$(printf "\\x$b"); fi
    done
    printf '%s' "$out"
}

new_case() { # new_case NAME: a fresh initramfs directory $T with three ports and two modules
    case=$1
    T=$W/cases/$case
    mkdir -p "$T"/{lib/modules,test/dev}
    cp "$INIT" "$T/init"
    cp "$tree/bin/busybox" "$T/lib/modules/virtio.ko"
    cp "$tree/bin/busybox" "$T/lib/modules/virtio_console.ko"
    printf 'virtio.ko\nvirtio_console.ko\n' >"$T/lib/modules/order"
    local i=1 n
    for n in isovm.stdin isovm.stdout isovm.stderr; do
        mkdir -p "$T/test/virtio-ports/vport0p$i"
        echo "$n" >"$T/test/virtio-ports/vport0p$i/name"
        : >"$T/test/dev/vport0p$i"
        i=$((i + 1))
    done
    JOB_ENV=("PATH=/bin:/opt/nothing")
    JOB_CWD=""
    JOB_ROOT="$ROOT_SQ squashfs"
    JOB_OVERLAY="tmpfs"
    JOB_DISKS=()
    JOB_NAMES=()   # share, net, host and nameserver lines, as they are
    JOB_LIMITS=()
    WAIT_MS=400
    INIT_ENV=()    # more of the init's environment (the kernel's command line's NAME=VALUE)
}

job() { # job ARGS...: the job file from ARGS and the JOB_* settings, what the job channel gives
    local a e
    {
        echo "version 1"
        for a in "$@"; do echo "arg $(esc "$a")"; done
        for e in "${JOB_ENV[@]}"; do echo "env $(esc "$e")"; done
        [ -n "$JOB_CWD" ] && echo "cwd $(esc "$JOB_CWD")"
        echo "root $JOB_ROOT"
        [ -n "$JOB_OVERLAY" ] && echo "overlay $JOB_OVERLAY"
        for a in "${JOB_DISKS[@]}"; do echo "disk $a"; done
        for a in "${JOB_NAMES[@]}"; do echo "$a"; done
        for a in "${JOB_LIMITS[@]}"; do echo "$a"; done
    } >"$T/test/job"
}

boot() { # boot [STDIN]: runs the init; sets $status (the status lines joined), $out, $err, $console, $ms, $boot_end_ns
    printf '%s' "${1:-}" >"$T/test/dev/vport0p1"
    local cg=$cg2/isovm-init-test.$$.$case t0 t1
    mkdir -p "$cg" && cgroups+=("$cg")
    t0=$(date +%s%N)
    bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$cg" \
        env -i ISOVM_INIT_TEST_WAIT_MS="$WAIT_MS" "${INIT_ENV[@]}" timeout 60 \
        unshare --mount --pid --fork --cgroup --propagation private -- /usr/sbin/chroot "$T" /init \
        >"$T/console" 2>&1
    rc=$?
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    boot_end_ns=$t1 # when the init had ended (net_late compares it with the interface's arrival)
    status=$(tr '\n' ',' <"$T/test/status" 2>/dev/null)
    status=${status%,}
    out=$(cat "$T/test/dev/vport0p2")
    err=$(cat "$T/test/dev/vport0p3")
    console=$(cat "$T/console")
    [ $verbose = 1 ] && printf '  [%s] rc=%s %sms status=%s\n  out=%q\n  err=%q\n  console=%q\n' \
        "$case" "$rc" "$ms" "$status" "$out" "$err" "$console"
    [ "$rc" = 0 ] || bad "the init's namespace ended with $rc (timeout 124), console: $console"
}

# the phases of a job that ran (INIT_START, READY, ROOT_READY, JOB_START, JOB_END), then its end
ran() { echo "1 1,1 5,1 2,1 3,1 4,$1"; }
init_error() { echo "1 1,1 5${2:+,$2},5 $(( $1 ))"; } # init_error DETAIL [PHASES-AFTER-READY]
E() { echo $(( ($1 << 16) | $2 )); }               # E STAGE ERRNO: INIT_ERROR's detail

want_status() { [ "$status" = "$1" ] && ok "status $1" || bad "status \"$status\", want \"$1\""; }
want_out() { [ "$out" = "$1" ] && ok "stdout" || bad "stdout $(printf %q "$out"), want $(printf %q "$1")"; }
want_err() { [ "$err" = "$1" ] && ok "stderr" || bad "stderr $(printf %q "$err"), want $(printf %q "$1")"; }
want_in() { # want_in WHAT TEXT NEEDLE
    case $2 in *"$3"*) ok "$1 has \"$3\"" ;; *) bad "$1 $(printf %q "$2") lacks \"$3\"" ;; esac
}
selected() { [ ${#only[@]} -eq 0 ] && return 0; local c; for c in "${only[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }

# ENOENT 2, EIO 5, ENOEXEC 8, EROFS 30, EINVAL 22, ENODEV 19, EFBIG 27, ENODATA 61, ENOTSUP 95;
# stages: init/abi.h
S_MODULES=2 S_STREAMS=3 S_JOB_FILE=4 S_ROOT=5 S_DISKS=7 S_CGROUP=9 S_JOB=10 S_SHARES=11 S_NET=12

# --- the cases ----------------------------------------------------------------------------------
c_hello() {
    new_case hello; job echo hello; boot
    want_status "$(ran '2 0')"; want_out hello; want_err ""
    [ -z "$console" ] && ok "quiet console" || bad "console: $console"
    [ "$(cat "$T/test/modules.log")" = $'virtio.ko\nvirtio_console.ko' ] && ok "modules in order" ||
        bad "modules.log: $(cat "$T/test/modules.log")"
    local left
    left=$(cd "$T" && ls init lib/modules/order lib/modules/*.ko 2>/dev/null)
    [ -z "$left" ] && ok "initramfs files freed" || bad "left in the initramfs: $left"
    [ ! -e "$T/test/applied.log" ] && ok "no time or seed applied without their lines" ||
        bad "applied.log: $(cat "$T/test/applied.log")"
}
c_exit() { new_case exit; job sh -c 'exit 7'; boot; want_status "$(ran '2 7')"; }
c_stdin() { new_case stdin; job sort; boot $'b\na\n'; want_status "$(ran '2 0')"; want_out $'a\nb'; }
c_stdin_eof() { new_case stdin_eof; job cat; boot; want_status "$(ran '2 0')"; want_out ""; }
c_streams() {
    new_case streams; job sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2'; boot
    want_out $'out1\nout2'; want_err $'err1\nerr2'
}
c_signal() { new_case signal; job sh -c 'kill -9 $$'; boot; want_status "$(ran '3 9')"; }
c_not_found() {
    new_case not_found; job nosuch arg; boot
    want_status "$(ran '2 127')"; want_err "isovm-init: nosuch: not found (PATH=/bin:/opt/nothing)"
}
c_not_found_path() { new_case not_found_path; job /bin/nosuch; boot; want_status "$(ran '2 127')"
    want_err "isovm-init: /bin/nosuch: No such file or directory"; }
c_not_executable() {
    new_case not_executable; job plain; boot
    want_status "$(ran '2 126')"; want_err "isovm-init: plain: Permission denied"
}
c_no_shebang() { new_case no_shebang; job noshebang a1; boot; want_status "$(ran '2 5')"; want_out "ran-by-sh a1"; }
c_path() {
    new_case path; JOB_ENV=("PATH=/nowhere:/opt/bin"); job tool; boot
    want_status "$(ran '2 0')"; want_out tool-ran
    new_case default_path; JOB_ENV=(); job sh -c 'echo found'; boot   # sh found on the default PATH
    want_status "$(ran '2 0')"; want_out found
}
c_args_env_cwd() {
    new_case args_env_cwd; JOB_ENV=("A=1 2" "B=%x" "C=" "PATH=/bin") JOB_CWD=/etc
    job sh -c 'printf "[%s]" "$@"; echo; env | sort; pwd' zero "a b" "" $'c\nd' 'é%'
    boot
    want_status "$(ran '2 0')"
    want_out "$(printf '[a b][][c\nd][é%%]\nA=1 2\nB=%%x\nC=\nPATH=/bin\nPWD=/etc\nSHLVL=1\n/etc')"
}
c_cwd_missing() {
    new_case cwd_missing; JOB_CWD=/nope; job true; boot
    want_status "$(init_error "$(E $S_JOB 2)" '1 2,1 3')"
    want_err "isovm-init: cannot enter the working directory /nope: No such file or directory"
}
c_process() {
    new_case process
    job sh -c 'read -r _ _ _ _ _ sid _ </proc/$$/stat; [ "$sid" = $$ ] && echo own-session; [ $$ != 1 ] && echo not-pid1
               cat /proc/self/oom_score_adj; grep "^0::" /proc/self/cgroup'
    boot
    want_status "$(ran '2 0')"
    want_out "$(printf 'own-session\nnot-pid1\n0\n0::/job')"
    # the job's program holds 0, 1 and 2 only (ls adds 3, the directory it reads)
    new_case fds; job ls /proc/self/fd; boot
    want_status "$(ran '2 0')"; want_out "$(printf '0\n1\n2\n3')"
}
c_orphans() {
    new_case orphans; job sh -c 'sleep 30 & sleep 30 & exit 3'; boot
    want_status "$(ran '2 3')"
    [ "$ms" -lt 10000 ] && ok "ends in ${ms} ms, orphans killed" || bad "took ${ms} ms (orphans waited for?)"
}
c_reaper() {
    # a grandchild orphaned while the job still runs is reaped by PID 1: no zombie stays
    new_case reaper
    job sh -c '(sleep 0.2 &) ; sleep 0.6; grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l'
    boot; want_status "$(ran '2 0')"; want_out 0
}
c_mounts() {
    new_case mounts
    job sh -c 'while read -r dev mp type opts _; do echo "$mp $type"; done </proc/mounts; echo x >/etc/new && cat /etc/new; cat /etc/marker'
    boot
    want_status "$(ran '2 0')"
    want_out "$(printf '/proc proc\n/sys sysfs\n/dev devtmpfs\n/ overlay\n/tmp tmpfs\n/dev/pts devpts\n/dev/shm tmpfs\n/sys/fs/cgroup cgroup2\nx\nroot-marker')"
}
c_read_only_root() {
    new_case read_only_root; JOB_OVERLAY=""; job sh -c 'echo x >/etc/new || echo refused; echo y >/tmp/t && cat /tmp/t'
    boot; want_status "$(ran '2 0')"; want_in stderr "$err" "Read-only file system"; want_out $'refused\ny'
}
c_ext4_root() { new_case ext4_root; JOB_ROOT="$ROOT_EXT4 ext4"; job cat /etc/marker; boot; want_status "$(ran '2 0')"; want_out root-marker; }
c_overlay_disk() {
    new_case overlay_disk
    mke2fs -q -t ext4 "$W/scratch.ext4" 16M >/dev/null
    local s; s=$(attach "$W/scratch.ext4")
    JOB_OVERLAY="disk $s ext4"; job sh -c 'echo kept >/etc/newfile'; boot
    want_status "$(ran '2 0')"
    [ "$(debugfs -R 'cat /upper/etc/newfile' "$W/scratch.ext4" 2>/dev/null)" = kept ] &&
        ok "the write is in the scratch disk's upper/" || bad "no /upper/etc/newfile in the scratch disk"
}
c_disks() {
    new_case disks
    mke2fs -q -t ext4 "$W/out.ext4" 8M >/dev/null
    local o raw; o=$(attach "$W/out.ext4"); raw=$(attach "$W/zeros.img" ro)
    JOB_DISKS=("$DATA ext4 /data ro" "$o ext4 /mnt/out rw" "$raw ext4 - ro")
    job sh -c "cat /data/data.txt; echo w >/data/x 2>/dev/null || echo ro-refused; echo written >/mnt/out/f;
               [ -b $raw ] && echo raw-there; grep -c $raw /proc/mounts || true"
    boot
    want_status "$(ran '2 0')"
    want_out $'disk-data\nro-refused\nraw-there\n0'
    [ "$(debugfs -R 'cat /f' "$W/out.ext4" 2>/dev/null)" = written ] && ok "rw disk written" || bad "no /f on the rw disk"
    dumpe2fs -h "$W/out.ext4" 2>/dev/null | grep -q 'Filesystem state: *clean$' &&
        ok "rw disk unmounted clean" || bad "rw disk not clean: $(dumpe2fs -h "$W/out.ext4" 2>/dev/null | grep state)"
}
c_disk_read_only_root() {
    new_case disk_read_only_root; JOB_OVERLAY=""; JOB_DISKS=("$DATA ext4 /nodir ro"); job true; boot
    want_status "$(init_error "$(E $S_DISKS 30)")"
    want_err "isovm-init: cannot make the mount point /nodir of the disk $DATA: Read-only file system (the root has no overlay)"
}
# nothing loaded, applied or freed: the init stopped at the job file
nothing_after_job_file() {
    [ ! -e "$T/test/modules.log" ] && [ -e "$T/lib/modules/order" ] && ok "no module loaded" ||
        bad "modules loaded or freed before the job file was good"
    [ ! -e "$T/test/applied.log" ] && ok "nothing applied" || bad "applied.log: $(cat "$T/test/applied.log")"
}
c_bad_job_file() {
    new_case bad_job_file; job true; echo "user nobody" >>"$T/test/job"; boot
    want_status "$(init_error "$(E $S_JOB_FILE 22)")"
    want_err "isovm-init: the job file: line 6: unknown key \"user\""
    want_in console "$console" "unknown key"
    nothing_after_job_file
    # the channel cannot be opened (in a guest: ioperm refused)
    new_case no_job_file; boot
    want_status "$(init_error "$(E $S_JOB_FILE 2)")"
    want_err "isovm-init: cannot open the job channel (/test/job): No such file or directory"
    nothing_after_job_file
}
# another VMM's initramfs with its own /isovm/job (bench/linux.sh's QEMU peer): that file is the
# job, read and removed, and the channel is never opened (there is none: no /test/job)
c_initramfs_job() {
    new_case initramfs_job; job echo from-initramfs
    mkdir -p "$T/isovm" && mv "$T/test/job" "$T/isovm/job"; boot
    want_status "$(ran '2 0')"; want_out from-initramfs
    [ ! -e "$T/isovm/job" ] && ok "/isovm/job removed" || bad "/isovm/job is still there"
}
c_job_length() {
    new_case empty_job; : >"$T/test/job"; boot
    want_status "$(init_error "$(E $S_JOB_FILE 61)")"
    want_err "isovm-init: the VMM has no job file for this guest (the job channel (/test/job) gives the length 0)"
    nothing_after_job_file
    new_case huge_job; truncate -s $((4 * 1024 * 1024 + 1)) "$T/test/job"; boot
    want_status "$(init_error "$(E $S_JOB_FILE 27)")"
    want_err "isovm-init: the job channel (/test/job) gives a job file of 4194305 bytes, more than the 4194304 a job file may have"
    nothing_after_job_file
}
SEED=000102030405060708090a0b0c0d0e0fF0E1D2C3B4A5968778695A4B3C2D1E0F
c_time_seed() {
    # the calls the guest's init would make, with their values (the seed's bytes in lower-case hex)
    new_case time_seed; JOB_LIMITS=("memory 268435456" "time 1700000000 123456789" "seed $SEED")
    job sh -c 'echo ran'; boot
    want_status "$(ran '2 0')"; want_out ran
    local want
    want=$(printf '%s\n' "clock_settime CLOCK_REALTIME 1700000000 123456789" \
        "RNDADDENTROPY 256 32 ${SEED,,}" RNDRESEEDCRNG)
    [ "$(cat "$T/test/applied.log" 2>/dev/null)" = "$want" ] && ok "time and seed applied" ||
        bad "applied.log $(printf %q "$(cat "$T/test/applied.log" 2>/dev/null)"), want $(printf %q "$want")"
    new_case time_only; JOB_LIMITS=("time 4102444800 999999999"); job true; boot
    want_status "$(ran '2 0')"
    [ "$(cat "$T/test/applied.log" 2>/dev/null)" = "clock_settime CLOCK_REALTIME 4102444800 999999999" ] &&
        ok "time alone" || bad "applied.log: $(cat "$T/test/applied.log" 2>/dev/null)"
}
c_bad_time_seed() {
    new_case bad_seed; JOB_LIMITS=("time 1 0" "seed ${SEED:1}"); job true; boot
    want_status "$(init_error "$(E $S_JOB_FILE 22)")"
    want_err "isovm-init: the job file: line 7: seed: 63 hex digits, want 64 (32 bytes)"
    nothing_after_job_file
    new_case bad_time; JOB_LIMITS=("time 1 1000000000"); job true; boot
    want_status "$(init_error "$(E $S_JOB_FILE 22)")"
    want_err "isovm-init: the job file: line 6: time: 1000000000 is out of range (0..999999999)"
    nothing_after_job_file
}
c_ready_first() {
    # READY, then the job file's time and seed, then the modules: the status port, the record of
    # what was applied and the modules' log share one file here, so its lines are in the order
    # the init did each thing
    new_case ready_first; JOB_LIMITS=("time 5 6" "seed $SEED")
    ln -s status "$T/test/modules.log"; ln -s status "$T/test/applied.log"
    job true; boot
    local want
    want=$(printf '%s\n' "1 1" "1 5" "clock_settime CLOCK_REALTIME 5 6" "RNDADDENTROPY 256 32 ${SEED,,}" \
        RNDRESEEDCRNG virtio.ko virtio_console.ko "1 2" "1 3" "1 4" "2 0")
    [ "$(cat "$T/test/status")" = "$want" ] && ok "READY before the job file's time and seed, before any module" ||
        bad "status and logs $(printf %q "$(cat "$T/test/status")"), want $(printf %q "$want")"
}
c_preload() {
    # isovm_preload=1 (a guest to be snapshotted): every module but the transport before READY,
    # whatever its tags; after the job file only virtio_mmio.ko, and every file freed
    new_case preload; INIT_ENV=("isovm_preload=1"); JOB_LIMITS=("time 5 6")
    for m in virtio_mmio ext4 9pnet; do cp "$tree/bin/busybox" "$T/lib/modules/$m.ko"; done
    printf 'virtio.ko\nvirtio_mmio.ko\nvirtio_console.ko\next4.ko ext4 ext3\n9pnet.ko 9p\n' >"$T/lib/modules/order"
    ln -s status "$T/test/modules.log"; ln -s status "$T/test/applied.log"
    job true; boot
    local want
    want=$(printf '%s\n' "1 1" virtio.ko virtio_console.ko ext4.ko 9pnet.ko "1 5" \
        "clock_settime CLOCK_REALTIME 5 6" virtio_mmio.ko "1 2" "1 3" "1 4" "2 0")
    [ "$(cat "$T/test/status")" = "$want" ] && ok "preload: all but the transport before READY" ||
        bad "status and logs $(printf %q "$(cat "$T/test/status")"), want $(printf %q "$want")"
    left=$(cd "$T" && ls lib/modules/ 2>/dev/null)
    [ -z "$left" ] && ok "preload: every module file and the order file freed" || bad "left in /lib/modules: $left"
    # any other value: as without it
    new_case preload_other; INIT_ENV=("isovm_preload=yes"); job true; boot
    want_status "$(ran '2 0')"
    [ "$(tr '\n' ' ' <"$T/test/modules.log")" = "virtio.ko virtio_console.ko " ] &&
        ok "preload=yes: modules after the job file" || bad "modules.log: $(tr '\n' ' ' <"$T/test/modules.log")"
    # a module that cannot be loaded before READY: an init error at the modules stage, no READY
    new_case preload_bad; INIT_ENV=("isovm_preload=1"); job true; echo junk >"$T/lib/modules/virtio.ko"; boot
    want_status "1 1,5 $(E $S_MODULES 8)"
}
c_prepare() {
    # a prepare file (a machine made ahead of its job): the root set up, PREPARED (6), then the
    # job file proper from the channel, its time and seed applied after PREPARED, the job run
    new_case prepare; JOB_LIMITS=("time 5 6")
    ln -s status "$T/test/modules.log"; ln -s status "$T/test/applied.log"
    job echo prepared-job; mv "$T/test/job" "$T/test/job.prepared"
    printf 'version 1\nprepare 1\nroot %s\noverlay tmpfs\n' "$JOB_ROOT" >"$T/test/job"
    boot
    local want
    want=$(printf '%s\n' "1 1" "1 5" virtio.ko virtio_console.ko "1 6" \
        "clock_settime CLOCK_REALTIME 5 6" "1 2" "1 3" "1 4" "2 0")
    [ "$(cat "$T/test/status")" = "$want" ] && ok "prepare: root set up, PREPARED, then the job's time" ||
        bad "status and logs $(printf %q "$(cat "$T/test/status")"), want $(printf %q "$want")"
    want_out prepared-job
    # the job file proper must name the prepared root and overlay, and not be a prepare file
    new_case prepare_other_root; JOB_OVERLAY=""
    job true; mv "$T/test/job" "$T/test/job.prepared"
    printf 'version 1\nprepare 1\nroot %s\noverlay tmpfs\n' "$JOB_ROOT" >"$T/test/job"
    boot
    want_status "1 1,1 5,1 6,5 $(E $S_JOB_FILE 22)"
    want_err "isovm-init: the job file: its root or overlay is not the one prepared (${JOB_ROOT})"
    new_case prepare_twice
    printf 'version 1\nprepare 1\nroot %s\noverlay tmpfs\n' "$JOB_ROOT" | tee "$T/test/job" >"$T/test/job.prepared"
    boot
    want_status "1 1,1 5,1 6,5 $(E $S_JOB_FILE 22)"
    want_err "isovm-init: the job file: a second prepare file"
    # no second file: the job channel's error, after PREPARED
    new_case prepare_no_job
    printf 'version 1\nprepare 1\nroot %s\noverlay tmpfs\n' "$JOB_ROOT" >"$T/test/job"
    boot
    want_status "1 1,1 5,1 6,5 $(E $S_JOB_FILE 2)"
}
c_modules() {
    new_case module_missing; job true; printf 'virtio.ko\nmissing.ko\n' >"$T/lib/modules/order"; boot
    want_status "$(init_error "$(E $S_MODULES 2)")"
    want_in console "$console" "cannot load /lib/modules/missing.ko (line 2 of /lib/modules/order): No such file or directory"
    want_in "stderr (found before the streams were opened)" "$err" "missing.ko"
    new_case module_bad; job true; echo junk >"$T/lib/modules/virtio.ko"; boot
    want_status "$(init_error "$(E $S_MODULES 8)")"
    new_case module_name; job true; printf '../x.ko\n' >"$T/lib/modules/order"; boot
    want_status "$(init_error "$(E $S_MODULES 22)")"
    want_in console "$console" '"../x.ko" is not a module file name'
    new_case no_order; job true; rm "$T/lib/modules/order"; boot
    want_status "$(init_error "$(E $S_MODULES 2)")"
    # tagged modules: only those for the job's file systems (a squashfs root, no overlay, an ext3
    # disk); every file freed, loaded or not
    new_case module_tags
    local m
    for m in crc16 ext4 squashfs erofs overlay; do cp "$tree/bin/busybox" "$T/lib/modules/$m.ko"; done
    printf 'virtio.ko\ncrc16.ko ext4 ext3 ext2\next4.ko ext4 ext3 ext2\nsquashfs.ko squashfs\nvirtio_console.ko\nerofs.ko erofs\noverlay.ko overlay\n' \
        >"$T/lib/modules/order"
    JOB_OVERLAY=""; JOB_DISKS=("$ZEROS ext3 - ro"); job true; boot
    want_status "$(ran '2 0')"
    [ "$(tr '\n' ' ' <"$T/test/modules.log")" = "virtio.ko crc16.ko ext4.ko squashfs.ko virtio_console.ko " ] &&
        ok "only the job's file systems' modules" || bad "modules.log: $(tr '\n' ' ' <"$T/test/modules.log")"
    left=$(cd "$T" && ls lib/modules/ 2>/dev/null)
    [ -z "$left" ] && ok "every module file freed" || bad "left in /lib/modules: $left"
    new_case module_tags_overlay
    for m in ext4 overlay; do cp "$tree/bin/busybox" "$T/lib/modules/$m.ko"; done
    printf 'virtio.ko\nvirtio_console.ko\next4.ko ext4\noverlay.ko overlay\n' >"$T/lib/modules/order"
    job true; boot
    want_status "$(ran '2 0')"
    [ "$(tr '\n' ' ' <"$T/test/modules.log")" = "virtio.ko virtio_console.ko overlay.ko " ] &&
        ok "overlay's module for an overlay line" || bad "modules.log: $(tr '\n' ' ' <"$T/test/modules.log")"
    new_case module_bad_tag; job true; printf 'virtio.ko EXT4\n' >"$T/lib/modules/order"; boot
    want_status "$(init_error "$(E $S_MODULES 22)")"
    want_in console "$console" '"EXT4" is not a tag'
    new_case module_empty_tag; job true; printf 'virtio.ko \n' >"$T/lib/modules/order"; boot
    want_status "$(init_error "$(E $S_MODULES 22)")"
}
c_ports() {
    new_case no_ports; job true; rm -r "$T/test/virtio-ports"; boot
    want_status "$(init_error "$(E $S_STREAMS 19)")"
    want_in console "$console" "no port named isovm.stdin, isovm.stdout, isovm.stderr under /test/virtio-ports after 400 ms"
    new_case one_port_missing; job true; echo other >"$T/test/virtio-ports/vport0p1/name"; boot
    want_status "$(init_error "$(E $S_STREAMS 19)")"
    want_in console "$console" "no port named isovm.stdin under"
}
c_root_errors() {
    new_case root_wrong_type; JOB_ROOT="$ROOT_SQ ext4"; job true; boot
    want_status "$(init_error "$(E $S_ROOT 22)")"
    want_err "isovm-init: cannot mount the root $ROOT_SQ as ext4 (read-only): Invalid argument: the guest kernel cannot mount the image as ext4 (damaged, or another file system)"
    new_case root_zeros; JOB_ROOT="$ZEROS squashfs"; job true; boot
    want_status "$(init_error "$(E $S_ROOT 22)")"
    new_case root_missing; JOB_ROOT="/dev/vdz squashfs"; job true; boot
    want_status "$(init_error "$(E $S_ROOT 2)")"
    want_err "isovm-init: the root /dev/vdz did not appear within 400 ms (is its image attached?)"
    new_case root_not_block; JOB_ROOT="/dev/null squashfs"; job true; boot
    want_status "$(init_error "$(E $S_ROOT 15)")"
}
c_limits() {
    if has_ctl pids; then
        new_case max_threads; JOB_LIMITS=("max_threads 4")
        job sh -c 'for i in 1 2 3 4 5 6; do sleep 1 & done 2>/dev/null; wait; cat /sys/fs/cgroup/job/pids.max'
        boot; want_status "$(ran '2 0')"; want_in stdout "$out" 4
        want_in stderr "$err" "can't fork"
    else
        new_case max_threads_no_pids; JOB_LIMITS=("max_threads 4"); job true; boot
        want_status "$(init_error "$(E $S_CGROUP 95)" '1 2')"
        want_in stderr "$err" "max_threads 4 cannot be enforced: the guest kernel offers no pids controller"
        echo "NOTE: this host's cgroup2 has no pids controller: max_threads checked for its refusal only"
    fi
    if has_ctl memory; then
        new_case oom; JOB_LIMITS=("memory 67108864")
        job sh -c 'x=$(head -c 300000000 /dev/zero | tr "\0" a); echo survived'
        boot; want_status "$(ran '4 137')"
        new_case oom_child; JOB_LIMITS=("memory 67108864")
        job sh -c 'sh -c "x=\$(head -c 300000000 /dev/zero | tr \"\\0\" a)"; exit 3'
        boot; want_status "$(ran '4 3')"
    else
        echo "NOTE: this host's cgroup2 has no memory controller: the OOM report is not exercised here"
    fi
}
want_applied() { # want_applied LINE...: /test/applied.log holds these lines, in this order
    local want got
    want=$(printf '%s\n' "$@")
    got=$(cat "$T/test/applied.log" 2>/dev/null)
    [ "$got" = "$want" ] && ok "applied.log" || bad "applied.log $(printf %q "$got"), want $(printf %q "$want")"
}
O9P="trans=virtio,version=9p2000.L,msize=512000,cache=mmap,access=client" # init/abi.h's ISOVM_9P_OPTIONS
c_shares() {
    # one 9p mount (aname "": every grant an entry named by its share line's index), each share
    # bound from it parents first (the file's order among equals) at its mount point (made in the
    # new root), the ro ones read-only, the base detached; the rw ones unmounted last first at
    # the end; the modules tagged 9p loaded, those tagged net not
    new_case shares
    cp "$tree/bin/busybox" "$T/lib/modules/9pnet.ko"; cp "$tree/bin/busybox" "$T/lib/modules/virtio_net.ko"
    printf 'virtio.ko\nvirtio_console.ko\n9pnet.ko 9p\nvirtio_net.ko net\n' >"$T/lib/modules/order"
    JOB_NAMES=("share /src/out%20dir rw" "share /src rw" "share /home ro")
    job sh -c 'for d in /src "/src/out dir" /home; do [ -d "$d" ] && echo "dir $d"; done; grep -c 9p /proc/mounts; true'
    boot
    want_status "$(ran '2 0')"; want_out $'dir /src\ndir /src/out dir\ndir /home\n0'
    want_applied "mount isovm /dev/.isovm-grants 9p MS_NOSUID|MS_NODEV $O9P,aname=" "bind /dev/.isovm-grants/1 /src" \
        "bind /dev/.isovm-grants/2 /home ro" "bind /dev/.isovm-grants/0 /src/out dir" "detach /dev/.isovm-grants" "umount /src/out dir" "umount /src"
    [ "$(tr '\n' ' ' <"$T/test/modules.log")" = "virtio.ko virtio_console.ko 9pnet.ko " ] &&
        ok "9p's modules for a share line, not net's" || bad "modules.log: $(tr '\n' ' ' <"$T/test/modules.log")"
    # a read-only root without an overlay: a share at a directory it has is fine, at one it
    # lacks is an init error naming the share; so is one in a read-only disk
    new_case share_read_only_root; JOB_OVERLAY=""; JOB_NAMES=("share /home rw"); job true; boot
    want_status "$(ran '2 0')"
    want_applied "mount isovm /dev/.isovm-grants 9p MS_NOSUID|MS_NODEV $O9P,aname=" "bind /dev/.isovm-grants/0 /home" "detach /dev/.isovm-grants" "umount /home"
    new_case share_no_dir; JOB_OVERLAY=""; JOB_NAMES=("share /work/src ro"); job true; boot
    want_status "$(init_error "$(E $S_SHARES 30)")"
    want_err "isovm-init: cannot make the mount point of the share /work/src: Read-only file system (a read-only root without an overlay, or a read-only disk or share, must have the directory)"
    want_applied "mount isovm /dev/.isovm-grants 9p MS_NOSUID|MS_NODEV $O9P,aname=" "detach /dev/.isovm-grants"
    new_case share_in_ro_disk; JOB_DISKS=("$DATA ext4 /data ro"); JOB_NAMES=("share /data/in rw"); job true; boot
    want_status "$(init_error "$(E $S_SHARES 30)")"
    want_in stderr "$err" "cannot make the mount point of the share /data/in: Read-only file system"
    # refused by the job file, before anything is applied
    new_case share_bad; JOB_NAMES=("share /a/../b rw"); job true; boot
    want_status "$(init_error "$(E $S_JOB_FILE 22)")"
    want_err "isovm-init: the job file: line 6: share: mount point \"/a/../b\" is not normalized (an empty, \".\" or \"..\" component, or a '/' at its end)"
    nothing_after_job_file
}
net_ifs() { mkdir -p "$T/test/net"; local i; for i in "$@"; do mkdir -p "$T/test/net/$i"; done; }
NET_CALLS=("SIOCSIFFLAGS lo +IFF_UP" "disable_ipv6 eth0" "SIOCSIFADDR eth0 10.0.2.15"
           "SIOCSIFNETMASK eth0 255.255.255.0" "SIOCSIFFLAGS eth0 +IFF_UP")
c_net() {
    # lo and eth0 up with the address; /etc/hosts and /etc/resolv.conf replaced in the overlay;
    # the network before the shares; net's modules loaded
    new_case net; net_ifs lo eth0
    cp "$tree/bin/busybox" "$T/lib/modules/virtio_net.ko"
    printf 'virtio.ko\nvirtio_console.ko\nvirtio_net.ko net\n' >"$T/lib/modules/order"
    JOB_NAMES=("share /src rw" "net 10.0.2.15 24" "host ep0.isovm 10.0.2.100" "host Ep1.isovm 10.0.2.101"
               "nameserver 10.0.2.101")
    job sh -c 'cat /etc/hosts /etc/resolv.conf; grep -c " /etc/" /proc/mounts; ls /etc | grep -c isovm; true'
    boot
    want_status "$(ran '2 0')"
    want_out $'127.0.0.1 localhost\n10.0.2.100 ep0.isovm\n10.0.2.101 Ep1.isovm\nnameserver 10.0.2.101\n0\n0'
    want_applied "${NET_CALLS[@]}" "mount isovm /dev/.isovm-grants 9p MS_NOSUID|MS_NODEV $O9P,aname=" "bind /dev/.isovm-grants/0 /src" "detach /dev/.isovm-grants" "umount /src"
    [ "$(tr '\n' ' ' <"$T/test/modules.log")" = "virtio.ko virtio_console.ko virtio_net.ko " ] &&
        ok "net's modules for a net line" || bad "modules.log: $(tr '\n' ' ' <"$T/test/modules.log")"
    # /32 and another name; the interface appears late (waited for)
    new_case net_late; mkdir -p "$T/test/net/lo"; WAIT_MS=3000; JOB_NAMES=("net 192.168.7.9 32")
    # (the interface's arrival and the init's end are compared by the clock: a loaded machine
    # may start the init tens of ms after the helper began its 0.3 s)
    job true; (sleep 0.3; date +%s%N >"$T/net-came"; mkdir "$T/test/net/enp0s1") & boot; wait
    want_status "$(ran '2 0')"
    want_applied "SIOCSIFFLAGS lo +IFF_UP" "disable_ipv6 enp0s1" "SIOCSIFADDR enp0s1 192.168.7.9" \
        "SIOCSIFNETMASK enp0s1 255.255.255.255" "SIOCSIFFLAGS enp0s1 +IFF_UP"
    came=$(cat "$T/net-came" 2>/dev/null || echo 0)
    [ "$boot_end_ns" -ge "$came" ] && [ "$came" != 0 ] && ok "waited for the interface (the init ran ${ms} ms)" ||
        bad "ended $(( (came - boot_end_ns) / 1000000 )) ms before the interface came (ran ${ms} ms)"
    # no interface, or two: init errors
    new_case net_none; net_ifs lo; JOB_NAMES=("net 10.0.2.15 24"); job true; boot
    want_status "$(init_error "$(E $S_NET 19)")"
    want_err "isovm-init: no network interface besides lo appeared within 400 ms (is virtio_net in the initramfs, tagged net?)"
    want_applied "SIOCSIFFLAGS lo +IFF_UP"
    new_case net_two; net_ifs lo eth0 eth1; JOB_NAMES=("net 10.0.2.15 24"); job true; boot
    want_status "$(init_error "$(E $S_NET 76)")"
    want_in stderr "$err" "more than one network interface besides lo ("
    want_in stderr "$err" "eth1"
    # refused by the job file
    new_case net_bad; net_ifs lo eth0; JOB_NAMES=("net 10.0.2.0 24"); job true; boot
    want_status "$(init_error "$(E $S_JOB_FILE 22)")"
    want_err "isovm-init: the job file: line 6: net: 10.0.2.0 is the network address of 10.0.2.0/24"
    nothing_after_job_file
}
c_names() {
    # host lines without a net line: /etc/hosts only, no network call
    new_case names_only; JOB_NAMES=("host db.example 192.0.2.7"); job cat /etc/hosts /etc/resolv.conf; boot
    want_status "$(ran '2 0')"; want_out $'127.0.0.1 localhost\n192.0.2.7 db.example\nnameserver 192.0.2.1'
    [ ! -e "$T/test/applied.log" ] && ok "no network call" || bad "applied.log: $(cat "$T/test/applied.log")"
    # a read-only root: bind-mounted read-only over the image's files from a tmpfs; /tmp as it was
    new_case names_read_only_root; JOB_OVERLAY=""; net_ifs lo eth0
    JOB_NAMES=("net 10.0.2.15 24" "host ep0.isovm 10.0.2.100" "nameserver 10.0.2.100")
    job sh -c 'cat /etc/hosts /etc/resolv.conf; echo x >/etc/hosts || echo refused
               grep -E " /etc/(hosts|resolv.conf) " /proc/mounts | while read -r _ mp type opts _; do echo "$mp $type ${opts%%,*}"; done
               ls -A /tmp | wc -l; grep -c " /tmp tmpfs" /proc/mounts'
    boot
    want_status "$(ran '2 0')"
    want_out $'127.0.0.1 localhost\n10.0.2.100 ep0.isovm\nnameserver 10.0.2.100\nrefused\n/etc/hosts tmpfs ro\n/etc/resolv.conf tmpfs ro\n0\n1'
    want_applied "${NET_CALLS[@]}"
    # a read-only root without the files: an init error naming the file
    new_case names_no_file; JOB_OVERLAY=""; JOB_ROOT="$ROOT_NONAMES squashfs"; JOB_NAMES=("host a.b 1.2.3.4"); job true; boot
    want_status "$(init_error "$(E $S_NET 2)")"
    want_err "isovm-init: the new root is read-only (no overlay) and has no /etc/hosts to put the job's over: the root image must have one"
    new_case resolv_no_file; JOB_OVERLAY=""; JOB_ROOT="$ROOT_NONAMES squashfs"; JOB_NAMES=("nameserver 1.1.1.1"); job true; boot
    want_status "$(init_error "$(E $S_NET 2)")"
    want_in stderr "$err" "has no /etc/resolv.conf to put the job's over"
    # the overlay over a root without them: made
    new_case names_made; JOB_ROOT="$ROOT_NONAMES squashfs"; JOB_NAMES=("host a.b 1.2.3.4" "nameserver 1.1.1.1")
    job cat /etc/hosts /etc/resolv.conf; boot
    want_status "$(ran '2 0')"; want_out $'127.0.0.1 localhost\n1.2.3.4 a.b\nnameserver 1.1.1.1'
    new_case host_bad; JOB_NAMES=("host a_b 1.2.3.4"); job true; boot
    want_status "$(init_error "$(E $S_JOB_FILE 22)")"
    want_in stderr "$err" "line 6: host: \"a_b\" is not a hostname"
}

cases=(hello exit stdin stdin_eof streams signal not_found not_found_path not_executable no_shebang
       path args_env_cwd cwd_missing process orphans reaper mounts read_only_root ext4_root
       overlay_disk disks disk_read_only_root bad_job_file initramfs_job job_length time_seed bad_time_seed
       ready_first preload prepare modules ports root_errors limits shares net names)
for c in "${cases[@]}"; do
    selected "$c" || continue
    "c_$c"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
