#!/usr/bin/env bash
# Benchmark body, run inside the KVM host: the cost of a job's first touches of memory (issue 17 part 6: pages given at first touch) against the same program natively.
#
# reserve.musl touch MIB maps MIB MiB and writes one byte per page in order, timing the loop
# itself (CLOCK_MONOTONIC in the job; under isovm its clock is the host's). Natively each page
# is a kernel page fault; under isovm a page with no entry is a #PF the firmware reports with
# an exit, the VMM gives it (and, with frames to spare, the rest of its group of 16), and the
# job resumes; the host page behind it is then a KVM fault without an exit. Interleaved runs,
# medians. Usage: tests/emuhost/run.sh -- env BUILD=build bench/first_touch.sh
set -euo pipefail
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-7}
MIB=${BENCH_TOUCH_MIB:-64}
job=$B/guest/reserve.musl
[ -x "$job" ] && [ -x "$B/isovm" ] || { echo "bench: build $job and $B/isovm first" >&2; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ns_of() { sed -n 's/^touch_ns=//p'; }
nat=() vm=() faults=0
for ((r = 0; r < RUNS; r++)); do
    nat+=("$("$job" touch "$MIB" | ns_of)")
    vm+=("$("$B"/isovm launch --memory $((MIB * 2 + 16))MiB --report /tmp/ft.json -- "$job" touch "$MIB" | ns_of)")
    faults=$(python3 -c 'import json; print(json.load(open("/tmp/ft.json")).get("memory_page_faults", 0))')
done
n=$(printf '%s\n' "${nat[@]}" | median)
v=$(printf '%s\n' "${vm[@]}" | median)
pages=$((MIB * 256))
echo "first touch of $MIB MiB ($pages pages), median of $RUNS:"
echo "  native  $((n / 1000)) us  ($((n / pages)) ns/page)"
echo "  isovm   $((v / 1000)) us  ($((v / pages)) ns/page, $faults exits for first touches)"
python3 -c "print('  ratio   isovm/native %.2fx' % ($v / $n))"
