#!/usr/bin/env bash
# Benchmark body, run inside the KVM host: fork + exit + wait (issue 17 part 1) under isovm against the same program natively, and against launching a new job.
#
# forkbench.musl ROUNDS KIB forks ROUNDS children that _exit at once, each waited for, timing the
# loop in the job (CLOCK_MONOTONIC). KIB of heap touched first: isovm copies every page the
# parent has touched into the child (no copy-on-write), so a fork's cost grows with it; Linux
# copies page tables and marks pages copy-on-write. The launch peer: `isovm launch hello.musl`,
# wall time per job. Interleaved runs, medians.
# Usage: tests/emuhost/run.sh -- env BUILD=build bench/fork.sh
set -euo pipefail
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-5}
ROUNDS=${BENCH_FORKS:-200}
job=$B/guest/forkbench.musl
[ -x "$job" ] && [ -x "$B/isovm" ] || { echo "bench: build $job and $B/isovm first" >&2; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
us_of() { sed -n 's/^fork_exit_wait_us=//p'; }
launch_us() {
    local t0 t1
    t0=$(date +%s%N)
    "$B"/isovm launch -- "$B"/guest/hello.musl >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}
for kib in 0 4096; do
    nat=() vm=() la=()
    for ((r = 0; r < RUNS; r++)); do
        nat+=("$("$job" "$ROUNDS" "$kib" | us_of)")
        vm+=("$("$B"/isovm launch -- "$job" "$ROUNDS" "$kib" | us_of)")
        la+=("$(launch_us)")
    done
    n=$(printf '%s\n' "${nat[@]}" | median)
    v=$(printf '%s\n' "${vm[@]}" | median)
    l=$(printf '%s\n' "${la[@]}" | median)
    echo "fork+exit+wait, $kib KiB touched, median of $RUNS x $ROUNDS rounds:"
    echo "  native        $n us"
    echo "  isovm         $v us"
    echo "  isovm launch  $l us (a new job: hello.musl, wall time)"
    python3 -c "print('  ratio isovm/native %.2fx, isovm fork/launch %.2fx' % ($v / $n, $v / $l))"
done
