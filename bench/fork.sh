#!/usr/bin/env bash
# Benchmark body, run inside the KVM host: fork + exit + wait and fork + exec + wait (issue 17 parts 1 and 2) under isovm against the same program natively, and against launching a new job.
#
# forkbench.musl ROUNDS KIB forks ROUNDS children that _exit at once, each waited for, timing the
# loop in the job (CLOCK_MONOTONIC). KIB of heap touched first: isovm copies every page the
# parent has touched into the child (no copy-on-write), so a fork's cost grows with it; Linux
# copies page tables and marks pages copy-on-write. forkbench.musl ROUNDS 0 PROG: each child
# execs hello.musl (a static hello; under isovm from a grant with the exec right, /g). The
# launch peer: `isovm launch hello.musl`, wall time per job. Interleaved runs, medians.
# Usage: tests/emuhost/run.sh -- env BUILD=build bench/fork.sh
set -euo pipefail
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-5}
ROUNDS=${BENCH_FORKS:-200}
job=$B/guest/forkbench.musl
[ -x "$job" ] && [ -x "$B/isovm" ] || { echo "bench: build $job and $B/isovm first" >&2; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
us_of() { sed -n 's/^fork_ex[a-z]*_wait_us=//p'; }
launch_us() {
    local t0 t1
    t0=$(date +%s%N)
    "$B"/isovm launch -- "$B"/guest/hello.musl >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}
G=$(cd "$B/guest" && pwd)
for what in exit:0 exit:4096 exec:0; do
    kib=${what#*:} nat=() vm=() la=()
    nat_args=("$ROUNDS" "$kib") vm_args=("$ROUNDS" "$kib") grant=()
    if [ "${what%%:*}" = exec ]; then
        nat_args+=("$G/hello.musl") vm_args+=(/g/hello.musl) grant=(--grant "/g=$G:rx")
    fi
    for ((r = 0; r < RUNS; r++)); do
        nat+=("$("$job" "${nat_args[@]}" 2>/dev/null | us_of)")
        vm+=("$("$B"/isovm launch "${grant[@]}" -- "$job" "${vm_args[@]}" 2>/dev/null | us_of)")
        la+=("$(launch_us)")
    done
    n=$(printf '%s\n' "${nat[@]}" | median)
    v=$(printf '%s\n' "${vm[@]}" | median)
    l=$(printf '%s\n' "${la[@]}" | median)
    if [ "${what%%:*}" = exec ]; then
        echo "fork+exec+wait of hello.musl, median of $RUNS x $ROUNDS rounds:"
    else
        echo "fork+exit+wait, $kib KiB touched, median of $RUNS x $ROUNDS rounds:"
    fi
    echo "  native        $n us"
    echo "  isovm         $v us"
    echo "  isovm launch  $l us (a new job: hello.musl, wall time)"
    python3 -c "print('  ratio isovm/native %.2fx, isovm fork/launch %.2fx' % ($v / $n, $v / $l))"
done
