#!/usr/bin/env bash
# The VMM seccomp filter's cost per hypercall: getpid round trips through isovm with the filter
# (the default) and with --no-seccomp, interleaved in one boot of the KVM host; prints medians.
# Run inside the KVM host (bench/inner.sh runs it unless BENCH_SECCOMP=0), or alone:
#   tests/emuhost/run.sh -- bench/seccomp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-21}
N=${BENCH_CALLS:-20000}
now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() { # ISOVM-OPTIONS... CALLS : wall ns of one launch
    local t0 t1
    t0=$(now_ns)
    "$B"/isovm launch "${@:1:$#-1}" -- "$B"/bench/getpid_loop.musl "${@: -1}" >/dev/null 2>&1 ||
        { echo "bench: isovm launch $* failed" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0))
}
one 0 >/dev/null # warm caches
on_n=() on_0=() off_n=() off_0=()
for ((r = 0; r < RUNS; r++)); do # interleaved, so drift hits both sides alike
    on_n+=("$(one "$N")"); off_n+=("$(one --no-seccomp "$N")")
    on_0+=("$(one 0)"); off_0+=("$(one --no-seccomp 0)")
done
m() { printf '%s\n' "$@" | median; }
on=$((($(m "${on_n[@]}") - $(m "${on_0[@]}")) / N))
off=$((($(m "${off_n[@]}") - $(m "${off_0[@]}")) / N))
echo "seccomp: runs $RUNS, calls per run $N"
awk -v on="$on" -v off="$off" -v l1="$(m "${on_0[@]}")" -v l0="$(m "${off_0[@]}")" 'BEGIN {
    printf "getpid round trip, VMM filter on:  %.2f us\n", on / 1e3
    printf "getpid round trip, --no-seccomp:   %.2f us\n", off / 1e3
    printf "filter cost per hypercall:         %.2f us (%.1f%%)\n", (on - off) / 1e3, 100 * (on - off) / off
    printf "launch (0 calls), filter on / off: %.2f / %.2f ms\n", l1 / 1e6, l0 / 1e6
}'
