#!/usr/bin/env bash
# Capability benchmarks, run inside the KVM host by bench/inner.sh (or on their own there:
# BUILD=build bench/caps.sh). Prints ratios; figures in docs/performance.md.
#
#  - Small read() round trip: bench/read_loop reads 16 bytes N times from stdin redirected from
#    a file (the console capability: a root with no expiry) and from the same file opened beneath
#    a grant that expires in an hour and attenuated twice (a chain of 4 with a deadline, so every
#    read checks generation, revocation, expiry and rights). Per-read cost = (time with N reads -
#    time with 0) / N, medians of CAPS_RUNS; ratio chain/console (target: 1.00x within noise).
#  - sha256 of a 64 MiB file: busybox sha256sum on a granted file under isovm against the same
#    command run natively in this host; throughput ratio native_time / isovm_time (target >= 0.8x).
#    Two ratios: of the whole command (start-up included: isovm's some 0.3 s in the emulated
#    host against busybox's own 0.08 s), and of the hashing throughput, 64 MiB over the time
#    beyond the same command on an empty file (as the round trips above take off the run
#    with 0 reads). The grant has no expiry, so the firmware's read cache serves busybox's
#    4 KiB reads (docs/hypercalls.md); the same with a grant that expires in an hour (no cache:
#    every read exits, so that expiry is checked at each) is printed too.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
RUNS=${CAPS_RUNS:-9}
N=${CAPS_READS:-20000}
ISOVM=${ISOVM:-$B/isovm}
BUSYBOX=${BUSYBOX:-/bin/busybox}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/isovm-bench-caps.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # CMD...: wall ns of one run (output discarded), or exits on failure
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null 2>"$TMP/err" || { echo "caps bench: $* failed: $(head -c 300 "$TMP/err")" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0))
}

mkdir -p "$TMP/data"
head -c $((N * 16 + 4096)) /dev/zero > "$TMP/data/small"
cat > "$TMP/grant.json" <<JSON
{"grants": [{"guest": "/data", "host": "$TMP/data", "rights": "ro", "expires": "1h"}]}
JSON
cat > "$TMP/plain.json" <<JSON
{"grants": [{"guest": "/data", "host": "$TMP/data", "rights": "ro"}]}
JSON

console_run() { "$ISOVM" launch -- "$B/bench/read_loop.musl" - "$1" < "$TMP/data/small"; }
chain_run() { "$ISOVM" launch --policy "$TMP/grant.json" -- "$B/bench/read_loop.musl" /data/small "$1" 2; }
console_run 10 >/dev/null 2>&1 || { echo "caps bench: read_loop failed"; exit 1; }
chain_run 10 >/dev/null 2>&1 || { echo "caps bench: read_loop on a grant failed (no grants yet?)"; exit 1; }
c_with=(); c_without=(); k_with=(); k_without=()
for ((r = 0; r < RUNS; r++)); do   # interleaved, so drift hits both alike
    c_with+=("$(timed console_run "$N")"); k_with+=("$(timed chain_run "$N")")
    c_without+=("$(timed console_run 0)"); k_without+=("$(timed chain_run 0)")
done
med() { printf '%s\n' "$@" | median; }
c=$(( ($(med "${c_with[@]}") - $(med "${c_without[@]}")) / N ))
k=$(( ($(med "${k_with[@]}") - $(med "${k_without[@]}")) / N ))
awk -v c="$c" -v k="$k" -v n="$N" -v r="$RUNS" 'BEGIN {
    printf "read(16 bytes) round trip, %d reads, median of %d runs:\n", n, r
    printf "  console capability (root, no expiry):            %.1f us\n", c / 1e3
    printf "  granted file, chain of 4 with expiry:            %.1f us\n", k / 1e3
    printf "  capability chain ratio: %.3fx (target 1.00x within noise)\n", k / c
}'

# sha256 of 64 MiB
head -c $((64 << 20)) /dev/urandom > "$TMP/data/big"
want=$("$BUSYBOX" sha256sum "$TMP/data/big" | cut -d' ' -f1)
got=$("$ISOVM" launch --policy "$TMP/plain.json" -- "$BUSYBOX" sha256sum /data/big | cut -d' ' -f1)
[ "$want" = "$got" ] || { echo "caps bench: sha256 under isovm differs: $got vs $want"; exit 1; }
: >"$TMP/data/empty"
nat=(); iso=(); exp=(); nat0=(); iso0=(); exp0=()
for ((r = 0; r < ${SHA_RUNS:-5}; r++)); do
    nat+=("$(timed "$BUSYBOX" sha256sum "$TMP/data/big")")
    iso+=("$(timed "$ISOVM" launch --policy "$TMP/plain.json" -- "$BUSYBOX" sha256sum /data/big)")
    exp+=("$(timed "$ISOVM" launch --policy "$TMP/grant.json" -- "$BUSYBOX" sha256sum /data/big)")
    nat0+=("$(timed "$BUSYBOX" sha256sum "$TMP/data/empty")")
    iso0+=("$(timed "$ISOVM" launch --policy "$TMP/plain.json" -- "$BUSYBOX" sha256sum /data/empty)")
    exp0+=("$(timed "$ISOVM" launch --policy "$TMP/grant.json" -- "$BUSYBOX" sha256sum /data/empty)")
done
awk -v a="$(med "${nat[@]}")" -v b="$(med "${iso[@]}")" -v x="$(med "${exp[@]}")" \
    -v a0="$(med "${nat0[@]}")" -v b0="$(med "${iso0[@]}")" -v x0="$(med "${exp0[@]}")" 'BEGIN {
    printf "sha256sum of a 64 MiB granted file, median of %d runs each:\n", '"${SHA_RUNS:-5}"'
    printf "  whole command: native %.2f s, isovm %.2f s: %.2fx\n", a / 1e9, b / 1e9, a / b
    printf "  of which start-up (the same on an empty file): native %.2f s, isovm %.2f s\n", a0 / 1e9, b0 / 1e9
    printf "  hashing throughput: native %.0f MiB/s, isovm %.0f MiB/s\n", 64e9 / (a - a0), 64e9 / (b - b0)
    printf "  sha256 throughput ratio: %.2fx (target >= 0.8x)\n", (a - a0) / (b - b0)
    printf "  on a grant that expires (no read cache): whole %.2fx, throughput %.2fx\n", a / x, (a - a0) / (x - x0)
}'
