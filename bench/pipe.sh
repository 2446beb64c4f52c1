#!/usr/bin/env bash
# Benchmark body, run inside the KVM host: a pipe's throughput between two of a job's processes (issue 17 part 4) against the same program natively.
#
# pipebench.musl MIB BLOCK: a child writes MIB MiB into a pipe in BLOCK-byte writes, the parent
# reads to EOF (what `cat file | wc -c` does), timed in the job. Under isovm both ends are host
# pipe descriptors the VMM holds as capabilities: every read and write is a hypercall, the
# data copied by the host kernel straight between the pipe and guest memory. Interleaved runs,
# medians. Usage: tests/emuhost/run.sh -- env BUILD=build bench/pipe.sh
set -euo pipefail
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-5}
MIB=${BENCH_PIPE_MIB:-64}
job=$B/guest/pipebench.musl
[ -x "$job" ] && [ -x "$B/isovm" ] || { echo "bench: build $job and $B/isovm first" >&2; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rate_of() { sed -n 's/^pipe_mib_s=//p'; }
for block in 65536 4096; do
    nat=() vm=()
    for ((r = 0; r < RUNS; r++)); do
        nat+=("$("$job" "$MIB" "$block" | rate_of)")
        vm+=("$("$B"/isovm launch --memory 64MiB -- "$job" "$MIB" "$block" | rate_of)")
    done
    n=$(printf '%s\n' "${nat[@]}" | median)
    v=$(printf '%s\n' "${vm[@]}" | median)
    echo "pipe, $MIB MiB in $block-byte writes, median of $RUNS:"
    echo "  native  $n MiB/s"
    echo "  isovm   $v MiB/s"
    python3 -c "print('  ratio   isovm/native %.2fx' % ($v / $n))"
done
