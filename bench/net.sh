#!/usr/bin/env bash
# Network benchmark, run inside the KVM host by bench/inner.sh (or on its own there:
# BUILD=build bench/net.sh). One loopback echo server (bench/net_rr serve, native); the client
# bench/net_rr does N request/response round trips of SIZE bytes over TCP, natively and as an
# isovm job through a granted endpoint (--connect tcp:127.0.0.1:PORT), interleaved, NET_RUNS
# times each; prints the medians of the per-round-trip medians and the ratio isovm/native.
# Figures in docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
RUNS=${NET_RUNS:-5}
N=${NET_TRIPS:-2000}
ISOVM=${ISOVM:-$B/isovm}
RR=$B/bench/net_rr.musl
PORT=${NET_BENCH_PORT:-23999}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/isovm-bench-net.XXXXXX") || exit 1
ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true
"$RR" serve 127.0.0.1 "$PORT" >"$TMP/server" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$TMP"' EXIT
for ((i = 0; i < 50; i++)); do grep -q ready "$TMP/server" && break; sleep 0.1; done
grep -q ready "$TMP/server" || { echo "net bench: the echo server did not start" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() { # SIZE CMD-PREFIX...: the client's median_ns of one run
    local size=$1 out
    shift
    out=$("$@" "$RR" client 127.0.0.1 "$PORT" "$N" "$size" 2>"$TMP/err") ||
        { echo "net bench: $* failed: $(head -c 300 "$TMP/err")" >&2; exit 1; }
    sed -n 's/.*median_ns=\([0-9]*\).*/\1/p' <<<"$out"
}

echo "network round trips over loopback TCP: $N per run, $RUNS runs, median of medians"
for size in 1 64; do
    native=() jailed=()
    for ((r = 0; r < RUNS; r++)); do
        native+=("$(one "$size")")
        jailed+=("$(one "$size" "$ISOVM" launch --connect "tcp:127.0.0.1:$PORT" --)")
    done
    nm=$(printf '%s\n' "${native[@]}" | median)
    im=$(printf '%s\n' "${jailed[@]}" | median)
    awk -v s="$size" -v n="$nm" -v i="$im" 'BEGIN {
        printf "%2d-byte round trip: native %.1f us, isovm (granted endpoint) %.1f us, ratio %.2fx\n",
               s, n / 1e3, i / 1e3, i / n }'
done
