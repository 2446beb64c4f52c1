#!/usr/bin/env bash
# shellcheck disable=SC2317 # the rows' functions are called by name
# The Linux tier's grants and network against QEMU's microvm, side by side in one KVM host (run
# it there: tests/emuhost/run.sh --timeout 3000 -- bench/linux_io.sh). Prints per-run values,
# medians and ratios; figures in docs/performance.md (issue 14's "Performance").
#
# Both peers boot the same vmlinux (PVH) with the same initramfs contents (isovm's init and the
# same modules; QEMU's carries the job file as /isovm/job, having no job channel), the same root
# image (squashfs: busybox and the guest programs, under a tmpfs writable layer), the same three
# named console ports, and the same share and network lines in the job:
#  - the grant: isovm `--grant /work=$TMP/share/0:rw` (its 9P server, virtio-9p) against QEMU's
#    own virtio-9p (`-fsdev local,security_model=none -device virtio-9p-device,mount_tag=isovm`,
#    exporting $TMP/share, whose entry 0 the init bind-mounts at /work as it does isovm's grant
#    0): the same host directory, the same mount options (init/abi.h's ISOVM_9P_OPTIONS).
#  - the network: isovm `--connect tcp:127.0.0.1:PORT` (libslirp in restricted mode, the
#    endpoint at ep0.isovm = 10.0.2.100) against QEMU user networking (`-netdev user`, slirp;
#    the job's `host ep0.isovm 10.0.2.2`, which slirp forwards to the host's loopback). The guest
#    is 10.0.2.15/24 in both; the host side is tests/tools/net_peer.py on 127.0.0.1:PORT.
# Rows (every one timed by the guest's clock, inside the job, so the boot is not in it):
#  - grant sequential read and write of a 64 MiB file in 1 MiB requests (guest/tests/blkbench.c;
#    9p refuses O_DIRECT, so it goes without; the write ends with fdatasync), MB/s;
#  - untar of a 2,000-file tree (40 directories of 50 files, 64 B to 8 KiB; the tar is in the root
#    image) into the grant with busybox tar, timed by guest/tests/timeit.c, seconds;
#  - TCP receive (netprobe recv against net_peer.py source) and send (guest/tests/netbench.c send
#    against net_peer.py sink, to the peer's close) of 64 MiB, MB/s;
#  - TCP round trip: 1 byte each way over one connection (netbench rr against net_peer.py echo,
#    after 100 unmeasured trips), the median trip of each run.
# Ratios are isovm/QEMU for throughput and QEMU/isovm for times, so >= 1.0x (the target) always
# means isovm is at least as fast. Runs are interleaved (isovm, QEMU, ...), LINUX_RUNS (default
# 5) of each after one unmeasured run of each (isovm's makes the snapshot its later runs start
# from); medians. Before each measured run the emulated host's free memory is written once
# (warm_ram, as in bench/linux.sh). LINUX_IO_ROWS picks rows by name (default: all of
# "read write untar rx tx rr"); LINUX_IO_ISOVM_ARGS adds options to isovm's (split at spaces);
# LINUX_IO_CPU=1 prints each run's CPU time (the peer's process and its children: VMM and
# guest together) beside its wall time.
# A row whose runs fail prints FAILED and the bench goes on.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# the loopback up: the endpoints are on 127.0.0.1, and the emulated host's starts down
ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true
B=${BUILD:-build}
RUNS=${LINUX_RUNS:-5}
ROWS=${LINUX_IO_ROWS:-read write untar rx tx rr}
ISOVM=${ISOVM:-$B/isovm}
QEMU=${QEMU:-qemu-system-x86_64}
KSRC=${ISOVM_TEST_KERNEL_DIR:-.cache/linux-kernel/current}
TRIPS=${LINUX_IO_TRIPS:-2000}
MIB=64
TMP=$(mktemp -d "${TMPDIR:-/tmp}/isovm-bench.XXXXXX") || exit 1
PEER_PID=
trap '[ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
export ISOVM_SNAPSHOT_CACHE=$TMP/snapshots
MEM=256M
LIMIT=300 # seconds for one run of either peer
CMDLINE="console=ttyS0 reboot=k panic=-1 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd tsc=reliable no_timer_check random.trust_cpu=on cryptomgr.notests pci=off rdinit=/init quiet"

die() { echo "bench/linux_io.sh: $*" >&2; exit 1; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
kv() { grep -o -- "\(^\|[[:space:]]\)$1=[^[:space:]]*" "$2" | head -n1 | sed "s/^[[:space:]]*$1=//"; }

[ -x "$ISOVM" ] || die "no $ISOVM (make)"
[ -f "$KSRC/vmlinux" ] && [ -f "$KSRC/modules.cpio" ] || die "no kernel in $KSRC (scripts/linux-kernel.sh)"
command -v "$QEMU" >/dev/null || die "no $QEMU"
command -v mksquashfs >/dev/null || die "no mksquashfs (squashfs-tools)"
command -v python3 >/dev/null || die "no python3 (tests/tools/net_peer.py)"
for p in blkbench netprobe netbench timeit; do
    [ -x "$B/guest/$p.musl" ] || die "no $B/guest/$p.musl (make guest)"
done
KDIR=$TMP/kernel
mkdir -p "$KDIR" && cp --sparse=always "$KSRC/vmlinux" "$KSRC/modules.cpio" "$KDIR/" || exit 1

# the tree to untar: 40 directories of 50 files (64 B to 8 KiB, fixed sizes), owned by root
python3 - "$TMP/tree" <<'EOF' || die "could not make the tree"
import os, random, sys
r = random.Random(14)
for d in range(40):
    os.makedirs("%s/d%02d" % (sys.argv[1], d))
    for f in range(50):
        with open("%s/d%02d/f%02d.txt" % (sys.argv[1], d, f), "wb") as o:
            o.write(r.randbytes(r.randint(64, 8192)))
EOF
# the root image: busybox, the guest programs, the tar
mkdir -p "$TMP/root/bin" "$TMP/root/tmp" "$TMP/root/etc"
touch "$TMP/root/etc/hosts"
cp /bin/busybox "$TMP/root/bin/" && for a in sh true cat tar rm mkdir; do ln -s busybox "$TMP/root/bin/$a"; done
for p in blkbench netprobe netbench timeit; do cp "$B/guest/$p.musl" "$TMP/root/bin/$p" || exit 1; done
tar -C "$TMP" -cf "$TMP/root/tree.tar" --owner=0 --group=0 --numeric-owner --mtime=@1700000000 tree || die "could not make the tar"
rm -rf "$TMP/tree"
mksquashfs "$TMP/root" "$TMP/root.img" -comp zstd -noappend -quiet >/dev/null || exit 1
# the shared directory: $TMP/share/0 is isovm's grant and QEMU's export's entry 0
SHARE=$TMP/share/0
mkdir -p "$SHARE" && chmod 0777 "$SHARE" || exit 1
head -c $((MIB << 20)) /dev/urandom >"$SHARE/read.bin" || exit 1
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 1

# esc STRING : the job file's percent-escaping of one field (init/abi.h)
esc() { python3 -c 'import os, sys; print("".join(chr(c) if 0x21 <= c <= 0x7e and c != 0x25 else "%%%02X" % c for c in os.fsencode(sys.argv[1])))' "$1"; }

# qemu_initrd JOB... : $TMP/initrd for QEMU: /init, /isovm/job, the modules
qemu_initrd() {
    local d=$TMP/ird a
    rm -rf "$d"
    mkdir -p "$d/isovm"
    cp "$B/init/isovm-init" "$d/init" || return 1
    { echo "version 1"; for a in "$@"; do echo "arg $(esc "$a")"; done
      echo "root /dev/vda squashfs"; echo "overlay tmpfs"; echo "share /work rw"
      echo "net 10.0.2.15 24"; echo "host ep0.isovm 10.0.2.2"; } >"$d/isovm/job"
    (cd "$d" && find . -mindepth 1 | cpio -o -H newc --quiet -R 0:0) >"$TMP/initrd"
    cat "$KDIR/modules.cpio" >>"$TMP/initrd"
}

# run_isovm JOB... / run_qemu JOB... : one run, the job's stdout in $TMP/out, stderr in $TMP/err
# isovm killed by SIGSYS (its own seccomp filter) after the job's end is counted in SIGSYS_RUNS
# and the run kept: the figures are the job's, printed before (2026-12-05: the network's
# teardown, vmm/linux/lnet.c, unlinks its endpoint sockets, a call the filter does not allow)
SIGSYS_RUNS=0
run_isovm() {
    rm -f "$TMP/r.json"
    # shellcheck disable=SC2086 # LINUX_IO_ISOVM_ARGS: further options, split at spaces
    # (in a subshell whose own stderr, bash's "Bad system call" notice, is dropped)
    (timeout -k 5 "$LIMIT" "$ISOVM" launch --rootfs "$TMP/root.img" --memory "$MEM" --kernel "$KDIR/vmlinux" \
        --grant "/work=$SHARE:rw" --connect "tcp:127.0.0.1:$PORT" --report "$TMP/r.json" ${LINUX_IO_ISOVM_ARGS:-} \
        -- "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; exit $?) 2>/dev/null
    local rc=$?
    if [ $rc = 159 ] && grep -q '^status=' "$TMP/out"; then
        [ $SIGSYS_RUNS = 0 ] && echo "bench/linux_io.sh: isovm was killed by SIGSYS after its job ended (its seccomp filter); such runs are kept and counted" >&2
        SIGSYS_RUNS=$((SIGSYS_RUNS + 1))
        return 0
    fi
    [ $rc = 0 ] || { echo "isovm failed ($rc): $(tail -n 5 "$TMP/err")" >&2; return 1; }
}
run_qemu() {
    qemu_initrd "$@" || return 1
    timeout -k 5 "$LIMIT" "$QEMU" -M microvm,acpi=on,rtc=on -accel kvm -cpu host -m "$MEM" -smp 1 -nodefaults \
        -no-user-config -display none -no-reboot -serial null \
        -kernel "$KDIR/vmlinux" -initrd "$TMP/initrd" -append "$CMDLINE" \
        -drive id=root,file="$TMP/root.img",format=raw,if=none,readonly=on -device virtio-blk-device,drive=root \
        -fsdev local,id=fs0,path="$TMP/share",security_model=none -device virtio-9p-device,fsdev=fs0,mount_tag=isovm \
        -netdev user,id=n0,net=10.0.2.0/24 -device virtio-net-device,netdev=n0 \
        -device virtio-serial-device,max_ports=4 \
        -chardev null,id=cin -device virtserialport,chardev=cin,name=isovm.stdin \
        -chardev file,id=cout,path="$TMP/out" -device virtserialport,chardev=cout,name=isovm.stdout \
        -chardev file,id=cerr,path="$TMP/err" -device virtserialport,chardev=cerr,name=isovm.stderr \
        </dev/null >"$TMP/qemu.log" 2>&1
    local rc=$?
    [ $rc = 0 ] || { echo "qemu failed ($rc): $(tail -n 3 "$TMP/qemu.log") $(tail -n 5 "$TMP/err")" >&2; return 1; }
}

# warm_ram: as bench/linux.sh's (its comment says why): 70% of the free memory written once
warm_ram() {
    python3 -c 'import os; n = int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 0.7); b = b"\1" * n' ||
        echo "bench/linux_io.sh: could not warm the emulated host's memory (python3)" >&2
}

# peer_start MODE ARGS... / peer_stop : net_peer.py on 127.0.0.1:PORT, waited for until it listens
peer_start() {
    local mode=$1 i
    shift
    python3 tests/tools/net_peer.py "$mode" 127.0.0.1 "$PORT" "$@" >"$TMP/peer.out" 2>&1 &
    PEER_PID=$!
    for ((i = 0; i < 200; i++)); do
        grep -q ready "$TMP/peer.out" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "net_peer.py $mode did not start: $(head -c 300 "$TMP/peer.out")" >&2
    return 1
}
peer_stop() {
    [ -n "$PEER_PID" ] || return 0
    kill "$PEER_PID" 2>/dev/null
    wait "$PEER_PID" 2>/dev/null
    PEER_PID=
}

# The rows: prep_ROW (host side, before each run), job_ROW (the job's shell command), check_ROW
# (after it), value_ROW (the run's figure from $TMP/out)
prep_read() { :; }
job_read() { echo "blkbench /work/read.bin seqread $MIB"; }
prep_write() { rm -f "$SHARE/write.bin"; }
job_write() { echo "blkbench /work/write.bin seqwrite $MIB"; }
check_write() { [ "$(stat -c %s "$SHARE/write.bin" 2>/dev/null)" = $((MIB << 20)) ] || { echo "the written file is not $MIB MiB" >&2; return 1; }; }
prep_untar() { rm -rf "$SHARE/tree"; }
job_untar() { echo "timeit tar -xf /tree.tar -C /work"; }
check_untar() {
    local n
    n=$(find "$SHARE/tree" -type f 2>/dev/null | wc -l)
    [ "$n" = 2000 ] || { echo "the untarred tree has $n files, not 2000" >&2; return 1; }
}
prep_rx() { peer_start source "$MIB"; }
job_rx() { echo "netprobe recv ep0.isovm $PORT $MIB"; }
prep_tx() { peer_start sink; }
job_tx() { echo "netbench send ep0.isovm $PORT $MIB"; }
check_tx() { grep -q "received=$((MIB << 20))" "$TMP/peer.out" || { echo "the sink got $(cat "$TMP/peer.out")" >&2; return 1; }; }
prep_rr() { peer_start echo; }
job_rr() { echo "netbench rr ep0.isovm $PORT $TRIPS"; }
mbps() { awk -v b="$(kv bytes "$TMP/out")" -v n="$(kv ns "$TMP/out")" 'BEGIN { if (n > 0 && b > 0) printf "%.6g", b * 1000 / n }'; }
value_read() { mbps; }
value_write() { mbps; }
value_rx() { mbps; }
value_tx() { mbps; }
value_untar() { awk -v n="$(kv ns "$TMP/out")" 'BEGIN { if (n > 0) printf "%.4f", n / 1e9 }'; }
value_rr() { awk -v n="$(kv median_ns "$TMP/out")" 'BEGIN { if (n > 0) printf "%.1f", n / 1e3 }'; }

# progress TEXT : a line for the emulated host's progress file (printed if the run hangs)
progress() { [ -n "${ISOVM_EMUHOST_PROGRESS:-}" ] && echo "$*" >>"$ISOVM_EMUHOST_PROGRESS"; }

# cpu_children: this shell's times (its waited-for children's user and system CPU on the last
# line) into $TMP/times, in this shell (not a subshell); cpu_parse: those two as seconds
cpu_children() { times >"$TMP/times"; }
cpu_parse() { tail -n 1 | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.3f", t }'; }

# one_run ROW PEER : prep, warm_ram, the run, the checks; its figure in VAL
one_run() {
    local row=$1 peer=$2 rc=0
    VAL=
    progress "bench/linux_io.sh: $row, $peer, run $((i + 1))"
    declare -F "prep_$row" >/dev/null && { "prep_$row" || return 1; }
    warm_ram
    local c0 c1 w0 w1
    cpu_children; c0=$(cpu_parse <"$TMP/times"); w0=$(date +%s%N)
    "run_$peer" /bin/sh -c "$("job_$row"); echo status=\$?" || rc=1
    cpu_children; c1=$(cpu_parse <"$TMP/times"); w1=$(date +%s%N)
    [ -n "${LINUX_IO_CPU:-}" ] && awk -v a="$c0" -v b="$c1" -v w="$(((w1 - w0) / 1000000))" -v p="$peer" -v r="$row" \
        'BEGIN { printf "  cpu: %s, %s: %.2f s of CPU (the VMM and the guest) in %.2f s\n", r, p, b - a, w / 1000 }'
    peer_stop
    [ $rc = 0 ] || return 1
    grep -q '^status=0$' "$TMP/out" || { echo "$peer: the job failed: $(tail -n 3 "$TMP/out") $(tail -n 3 "$TMP/err")" >&2; return 1; }
    if declare -F "check_$row" >/dev/null; then "check_$row" || return 1; fi
    VAL=$("value_$row")
    [ -n "$VAL" ] || { echo "$peer: no figure in: $(head -c 300 "$TMP/out")" >&2; return 1; }
}

# bench_row ROW NAME UNIT HIGHER(1: higher is better)
FAILED=0
bench_row() {
    local row=$1 name=$2 unit=$3 higher=$4 i vi=() vq=()
    for ((i = 0; i < RUNS; i++)); do
        one_run "$row" isovm || { echo "$name: FAILED (isovm, run $((i + 1)))"; FAILED=1; return 1; }
        vi+=("$VAL")
        one_run "$row" qemu || { echo "$name: FAILED (QEMU, run $((i + 1)))"; FAILED=1; return 1; }
        vq+=("$VAL")
    done
    echo "  $name, per run ($unit): isovm ${vi[*]}; QEMU ${vq[*]}"
    awk -v i="$(median "${vi[@]}")" -v q="$(median "${vq[@]}")" -v n="$name" -v u="$unit" -v h="$higher" \
        'BEGIN { r = h ? (q > 0 ? i / q : 0) : (i > 0 ? q / i : 0)
                 how = h ? "isovm/QEMU" : "QEMU/isovm"; met = (r >= 1.0) ? "met" : "NOT met"
                 printf "%s: isovm %g %s, QEMU %g %s: ratio %.2fx (%s; target >= 1.0x: %s)\n", n, i, u, q, u, r, how, met }'
}

snap() { [ -f "$TMP/r.json" ] && sed -n 's/.*"snapshot": "\([a-z]*\)".*/\1/p' "$TMP/r.json" | head -n1 || echo "unknown (no report)"; }
# one unmeasured run of each (isovm's makes the snapshot of this kind: a grant and an endpoint)
warm_ram
run_isovm /bin/sh -c 'echo status=0' || die "isovm's warm-up run failed"
echo "isovm warm-up run: snapshot $(snap); files in the snapshot cache: $(find "$ISOVM_SNAPSHOT_CACHE" -type f 2>/dev/null | wc -l)"
run_qemu /bin/true || die "QEMU's warm-up run failed"
echo "== the grant and the network against QEMU ($RUNS runs each, interleaved; by the guest's clock)"
for row in $ROWS; do
    case $row in
    read) bench_row read "grant sequential read $MIB MiB" MB/s 1 ;;
    write) bench_row write "grant sequential write $MIB MiB + fdatasync" MB/s 1 ;;
    untar) bench_row untar "untar of 2000 files in 40 directories into the grant" s 0 ;;
    rx) bench_row rx "TCP receive $MIB MiB (host to guest)" MB/s 1 ;;
    tx) bench_row tx "TCP send $MIB MiB (guest to host)" MB/s 1 ;;
    rr) bench_row rr "TCP round trip, 1 byte each way (median of $TRIPS)" us 0 ;;
    *) die "unknown row $row (LINUX_IO_ROWS: read write untar rx tx rr)" ;;
    esac
done
echo "isovm's last run: snapshot $(snap)"
[ $SIGSYS_RUNS = 0 ] || echo "isovm runs killed by SIGSYS after the job (kept): $SIGSYS_RUNS"
exit $FAILED
