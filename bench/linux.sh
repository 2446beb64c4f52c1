#!/usr/bin/env bash
# The Linux tier against QEMU's microvm, side by side in one KVM host (run it there:
# tests/emuhost/run.sh --timeout 3000 -- bench/linux.sh). Prints ratios; figures in
# docs/performance.md.
#
#  - Boot to job and back: wall time from the process's start to its exit for `true`, isovm
#    launch --rootfs against qemu-system-x86_64 -M microvm -accel kvm with the same vmlinux (PVH),
#    the same initramfs (isovm's init, the same modules, the same job file), the same root image
#    (squashfs, the format `isovm image` makes by default, with the tmpfs writable layer) and the
#    same streams (a virtio-console with the init's three named ports); and isovm's own boot
#    phases from its report. isovm starts from the snapshot of the booted guest that its first
#    run (the warm-up) made, as every run after a user's first does; its boots without one
#    (--no-snapshot) are measured too, interleaved, and printed as a second ratio; and jobs
#    through a pool (isovm pool serve --rootfs: machines restored and run until the root is
#    mounted, docs/pool.md), whose start (the client's start to the job's) is set against the
#    afresh boots' (target <= 0.1x), the pool settled (its next machine made) before each run. QEMU boots
#    afresh (it has no snapshot of a booted microvm to start from). Target: isovm <= 0.5x QEMU. Both read the kernel from a copy in the emulated host's own tmpfs, holes kept (as
#    a user's cache on a local disk; the repository's 9p share would make it a network read).
#  - Block throughput: guest/blkbench (O_DIRECT in the guest) on a second disk (ext4), sequential reads
#    and writes in 1 MiB requests and random 4 KiB reads, isovm's virtio-blk against QEMU's
#    (virtio-blk-device, raw file, its default cache). Target: >= 0.9x QEMU.
# Runs are interleaved (isovm, QEMU, isovm, ...), LINUX_RUNS (default 5) of each; medians.
# LINUX_BLOCK=0 runs the boot comparison only, LINUX_BOOT=0 the block rows only.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
RUNS=${LINUX_RUNS:-5}
ISOVM=${ISOVM:-$B/isovm}
QEMU=${QEMU:-qemu-system-x86_64}
KSRC=${ISOVM_TEST_KERNEL_DIR:-.cache/linux-kernel/current}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/isovm-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
export ISOVM_SNAPSHOT_CACHE=$TMP/snapshots
MEM=256M
CMDLINE="console=ttyS0 reboot=k panic=-1 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd tsc=reliable no_timer_check random.trust_cpu=on cryptomgr.notests pci=off rdinit=/init quiet"

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
now_ns() { date +%s%N; }
kv() { grep -o -- "\(^\|[[:space:]]\)$1=[^[:space:]]*" "$2" | head -n1 | sed "s/^[[:space:]]*$1=//"; }
rint() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([0-9]*\),\{0,1\}[[:space:]]*\$/\1/p" "$2" | head -n1; }

[ -f "$KSRC/vmlinux" ] && [ -f "$KSRC/modules.cpio" ] || { echo "bench/linux.sh: no kernel in $KSRC (scripts/linux-kernel.sh)" >&2; exit 1; }
command -v "$QEMU" >/dev/null || { echo "bench/linux.sh: no $QEMU" >&2; exit 1; }
command -v mksquashfs >/dev/null || { echo "bench/linux.sh: no mksquashfs (squashfs-tools)" >&2; exit 1; }
KDIR=$TMP/kernel
mkdir -p "$KDIR" && cp --sparse=always "$KSRC/vmlinux" "$KSRC/modules.cpio" "$KDIR/" || exit 1

# the images: a root with busybox and blkbench, a 128 MiB data disk
mkdir -p "$TMP/root/bin" "$TMP/root/mnt" "$TMP/root/tmp"
cp /bin/busybox "$TMP/root/bin/" && for a in sh true cat; do ln -s busybox "$TMP/root/bin/$a"; done
cp "$B/guest/blkbench.musl" "$TMP/root/bin/blkbench" || exit 1
mksquashfs "$TMP/root" "$TMP/root.img" -comp zstd -noappend -quiet >/dev/null || exit 1
truncate -s 128M "$TMP/data.img" && mkfs.ext4 -q -F "$TMP/data.img" || exit 1
DISK=0 # 1: the data disk is attached (the block rows)

# qemu_initrd JOB_ARGS... : $TMP/initrd for QEMU: /init, /isovm/job (QEMU has no job channel:
# init/abi.h's ISOVM_JOB_FILE_INITRAMFS), the modules
qemu_initrd() {
    local d=$TMP/ird a
    rm -rf "$d"
    mkdir -p "$d/isovm"
    cp "$B/init/isovm-init" "$d/init"
    { echo "version 1"; for a in "$@"; do echo "arg $a"; done
      echo "root /dev/vda squashfs"; echo "overlay tmpfs"; [ "$DISK" = 1 ] && echo "disk /dev/vdb ext4 - rw"; } >"$d/isovm/job"
    (cd "$d" && find . -mindepth 1 | cpio -o -H newc --quiet -R 0:0) >"$TMP/initrd"
    cat "$KDIR/modules.cpio" >>"$TMP/initrd"
}

# run_isovm [--no-snapshot] JOB... / run_qemu JOB... : one run; WALL (ns), stdout in $TMP/out
run_isovm() {
    local t0 snap=()
    [ "$1" = --no-snapshot ] && { snap=(--no-snapshot); shift; }
    t0=$(now_ns)
    local disk=()
    [ "$DISK" = 1 ] && disk=(--disk "$TMP/data.img:rw")
    "$ISOVM" launch --rootfs "$TMP/root.img" "${disk[@]}" --memory "$MEM" "${snap[@]}" \
        --kernel "$KDIR/vmlinux" --report "$TMP/r.json" -- "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    local rc=$?
    WALL=$(($(now_ns) - t0))
    [ $rc = 0 ] || { echo "isovm failed ($rc): $(tail -n 3 "$TMP/err")" >&2; return 1; }
}
run_qemu() {
    local t0 disk=()
    qemu_initrd "$@"
    [ "$DISK" = 1 ] && disk=(-drive id=data,file="$TMP/data.img",format=raw,if=none -device virtio-blk-device,drive=data)
    t0=$(now_ns)
    "$QEMU" -M microvm,acpi=on,rtc=on -accel kvm -cpu host -m "$MEM" -smp 1 -nodefaults \
        -no-user-config -display none -no-reboot -serial null \
        -kernel "$KDIR/vmlinux" -initrd "$TMP/initrd" -append "$CMDLINE" \
        -drive id=root,file="$TMP/root.img",format=raw,if=none,readonly=on -device virtio-blk-device,drive=root \
        "${disk[@]}" \
        -device virtio-serial-device,max_ports=4 \
        -chardev null,id=cin -device virtserialport,chardev=cin,name=isovm.stdin \
        -chardev file,id=cout,path="$TMP/out" -device virtserialport,chardev=cout,name=isovm.stdout \
        -chardev file,id=cerr,path="$TMP/err" -device virtserialport,chardev=cerr,name=isovm.stderr \
        </dev/null >"$TMP/qemu.log" 2>&1
    local rc=$?
    WALL=$(($(now_ns) - t0))
    [ $rc = 0 ] || { echo "qemu failed ($rc): $(tail -n 3 "$TMP/qemu.log")" >&2; return 1; }
}

# warm_ram: writes 70% of the emulated host's free memory once and frees it. Guest RAM comes in
# huge pages (both peers ask for them) from what the last run freed, often the pages that held
# its guest kernel's code; QEMU's TCG, which emulates the emulated host, write-protects a page
# it has translated code from and takes its slow path (invalidating that code) on every write
# to it until it has none. Zeroing such huge pages cost an isovm run 2.1 s at the kernel load
# where the run before took 0.3 s (32 huge pages), and QEMU runs alike (5.6 s to 7.9 s): an
# artifact of the emulation, absent on a real host, which lands on whichever peer runs next.
# Written once before each measured run of either peer, those pages are plain RAM again.
warm_ram() {
    python3 -c 'import os; n = int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 0.7); b = b"\1" * n' ||
        echo "bench/linux.sh: could not warm the emulated host's memory (python3)" >&2
}

# the pool (isovm pool serve --rootfs): its machines made ahead, root mounted (docs/pool.md)
POOL_SOCK=$TMP/pool.sock POOL_PID=
pool_start() {
    "$ISOVM" pool serve --socket "$POOL_SOCK" --size 1 --rootfs "$TMP/root.img" --memory "$MEM" \
        --kernel "$KDIR/vmlinux" 2>"$TMP/pool.err" &
    POOL_PID=$!
    local i
    for ((i = 0; i < 600; i++)); do grep -q "ready at" "$TMP/pool.err" && return 0; sleep 0.1; done
    echo "bench/linux.sh: the pool did not get ready: $(tail -n 3 "$TMP/pool.err")" >&2
    return 1
}
pool_stop() { [ -n "$POOL_PID" ] && kill "$POOL_PID" 2>/dev/null && wait "$POOL_PID"; POOL_PID=; }
trap 'pool_stop; rm -rf "$TMP"' EXIT
# pool_settle: until the pool's processes use no CPU (its next machine made and parked), so
# that making it shares no measured run's time
pool_settle() {
    local prev=-1 cur i p
    for ((i = 0; i < 100; i++)); do
        cur=0
        for p in $(pgrep -f -- "pool serve --socket $POOL_SOCK"); do
            cur=$((cur + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
        done
        [ "$cur" = "$prev" ] && return 0
        prev=$cur
        sleep 0.3
    done
}
# the job's start from the process's start (a pooled job's: its client's), from the report
job_start_of() { echo $(($(rint launch_ns "$1") + $(rint job_start_ns "$1"))); }

if [ "${LINUX_BOOT:-1}" != 0 ]; then
# one unmeasured run of each first (isovm's makes the snapshot the measured runs start from)
warm_ram
run_isovm /bin/true && run_qemu /bin/true || exit 1
grep -q '"snapshot": "made"' "$TMP/r.json" || { echo "bench/linux.sh: isovm's first run made no snapshot" >&2; exit 1; }
pool_start || exit 1
echo "== boot to job and back: true ($RUNS runs each, interleaved, after one warm-up each)"
iso=() cold=() qem=() rdy=() job=() ent=() crdy=() cjob=() pjob=() pwall=() sjob=() pparts=()
for ((i = 0; i < RUNS; i++)); do
    pool_settle
    warm_ram
    t0=$(now_ns)
    "$ISOVM" launch --pool "$POOL_SOCK" --rootfs "$TMP/root.img" --memory "$MEM" --kernel "$KDIR/vmlinux" \
        --report "$TMP/r.json" -- /bin/true >"$TMP/out" 2>"$TMP/err" </dev/null ||
        { echo "pooled isovm failed: $(tail -n 3 "$TMP/err")" >&2; exit 1; }
    pwall+=("$(($(now_ns) - t0))")
    grep -q '"start": "warm"' "$TMP/r.json" || { echo "bench/linux.sh: the pooled job did not start warm" >&2; exit 1; }
    pjob+=("$(job_start_of "$TMP/r.json")")
    pparts+=("$(rint launch_ns "$TMP/r.json")+$(rint root_ready_ns "$TMP/r.json")/$(rint job_start_ns "$TMP/r.json")")
    pool_settle
    warm_ram
    run_isovm /bin/true || exit 1
    grep -q '"snapshot": "restored"' "$TMP/r.json" || { echo "bench/linux.sh: isovm did not start from the snapshot" >&2; exit 1; }
    iso+=("$WALL")
    rdy+=("$(rint ready_ns "$TMP/r.json")")
    job+=("$(rint job_start_ns "$TMP/r.json")")
    sjob+=("$(job_start_of "$TMP/r.json")")
    warm_ram
    run_qemu /bin/true || exit 1
    qem+=("$WALL")
    warm_ram
    run_isovm --no-snapshot /bin/true || exit 1
    cold+=("$WALL")
    ent+=("$(rint kernel_entry_ns "$TMP/r.json")")
    crdy+=("$(rint ready_ns "$TMP/r.json")")
    cjob+=("$(job_start_of "$TMP/r.json")")
    awk -v n=$((i + 1)) -v i="${iso[-1]}" -v j="${job[-1]}" -v q="${qem[-1]}" -v c="${cold[-1]}" \
        'BEGIN { printf "  run %d: isovm %.3f s (job start %.3f s), QEMU %.3f s, isovm without the snapshot %.3f s\n", n, i / 1e9, j / 1e9, q / 1e9, c / 1e9 }'
done
mi=$(median "${iso[@]}") mq=$(median "${qem[@]}") mc=$(median "${cold[@]}")
awk -v i="$mi" -v q="$mq" 'BEGIN { printf "isovm %.3f s, QEMU microvm %.3f s: ratio %.2fx (target <= 0.5x)\n", i / 1e9, q / 1e9, i / q }'
awk -v i="$mc" -v q="$mq" 'BEGIN { printf "isovm --no-snapshot %.3f s, QEMU microvm %.3f s: ratio %.2fx\n", i / 1e9, q / 1e9, i / q }'
awk -v r="$(median "${rdy[@]}")" -v j="$(median "${job[@]}")" \
    'BEGIN { printf "isovm phases (medians, from its start): restored and running %.3f s, job start %.3f s\n", r / 1e9, j / 1e9 }'
awk -v e="$(median "${ent[@]}")" -v r="$(median "${crdy[@]}")" -v j="$(median "${cjob[@]}")" \
    'BEGIN { printf "isovm --no-snapshot phases (medians): kernel entry %.3f s, init ready %.3f s, job start %.3f s\n", e / 1e9, r / 1e9, j / 1e9 }'
echo "  job start from the process's start, per run: pooled ${pjob[*]}; from the snapshot ${sjob[*]}; afresh ${cjob[*]} (ns)"
echo "  pooled runs, client's main to the adoption + adoption to the root ready / to the job's start: ${pparts[*]} (ns)"
awk -v p="$(median "${pjob[@]}")" -v s="$(median "${sjob[@]}")" -v c="$(median "${cjob[@]}")" -v w="$(median "${pwall[@]}")" \
    'BEGIN { printf "job start (medians, from the process'"'"'s start): pooled %.3f s, from the snapshot %.3f s, booting afresh %.3f s\n", p / 1e9, s / 1e9, c / 1e9
             printf "pooled against booting afresh: ratio %.3fx (target <= 0.1x); from the snapshot: %.3fx; a pooled run of true, whole: %.3f s\n", p / c, s / c, w / 1e9 }'
pool_stop
fi

bench_blk() { # NAME MODE N
    local name=$1 i bi=() bq=() r
    for ((i = 0; i < RUNS; i++)); do
        [ "$2" = seqwrite ] && mkfs.ext4 -q -F "$TMP/data.img" # isovm checks a disk's file system
        run_isovm /bin/blkbench /dev/vdb "$2" "$3" || return 1
        bi+=("$(awk -v b="$(kv bytes "$TMP/out")" -v n="$(kv ns "$TMP/out")" 'BEGIN { if (n > 0) printf "%.6g", b * 1000 / n }')")
        [ "$2" = seqwrite ] && mkfs.ext4 -q -F "$TMP/data.img"
        run_qemu /bin/blkbench /dev/vdb "$2" "$3" || return 1
        bq+=("$(awk -v b="$(kv bytes "$TMP/out")" -v n="$(kv ns "$TMP/out")" 'BEGIN { if (n > 0) printf "%.6g", b * 1000 / n }')")
    done
    echo "  $name, per run: isovm ${bi[*]}; QEMU ${bq[*]}"
    awk -v i="$(median "${bi[@]}")" -v q="$(median "${bq[@]}")" -v n="$name" \
        'BEGIN { printf "%s: isovm %.1f MB/s, QEMU %.1f MB/s: ratio %.2fx (target >= 0.9x)\n", n, i, q, (q > 0 ? i / q : 0) }'
}
[ "${LINUX_BLOCK:-1}" = 0 ] && exit 0 # LINUX_BLOCK=0: the boot comparison only
echo "== block throughput ($RUNS runs each, interleaved; MB/s by the guest's clock)"
DISK=1
run_isovm /bin/true || exit 1 # unmeasured: makes the snapshot of this kind (two disks)
bench_blk "sequential read 64 MiB" seqread 64
bench_blk "random 4 KiB reads x2000" randread 2000
bench_blk "sequential write 64 MiB" seqwrite 64
