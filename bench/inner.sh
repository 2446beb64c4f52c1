#!/usr/bin/env bash
# Benchmark body, run inside the KVM host: times whole processes and prints medians and ratios.
set -euo pipefail
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-21}
N=${BENCH_CALLS:-20000}

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# time_runs CMD...: RUNS wall times in ns, one per line (outputs discarded)
time_runs() {
    local i t0 t1
    for ((i = 0; i < RUNS; i++)); do
        t0=$(now_ns); "$@" >/dev/null 2>&1 || { echo "bench: $* failed" >&2; exit 1; }; t1=$(now_ns)
        echo $((t1 - t0))
    done
}

# Launch against the floor from a RAM-backed copy (the emulated host's root is 9p: a program
# loaded from it pays 9p round trips, which a real host's page cache does not): the static floor
# program, isovm, and the hello job. Also isovm's process start alone (isovm --version) and the
# phases of a launch from the report (phases_ns: from main(), and main's realtime against the
# time noted before the exec for the process start).
RAM=$(mktemp -d /tmp/isovm-bench.XXXXXX)
trap 'rm -rf "$RAM"' EXIT
cp "$B"/bench/floor "$B"/isovm "$B"/guest/hello.musl "$RAM"/
"$RAM"/floor; "$RAM"/isovm launch -- "$RAM"/hello.musl >/dev/null 2>&1 # warm caches once

# Interleave the sides so drift hits them alike.
floor=(); launch=(); version=(); phases=()
for ((r = 0; r < RUNS; r++)); do
    floor+=("$(RUNS=1 time_runs "$RAM"/floor)")
    t0=$(now_ns)
    "$RAM"/isovm launch --report "$RAM/r.json" -- "$RAM"/hello.musl >/dev/null 2>&1 ||
        { echo "bench: launch failed" >&2; exit 1; }
    t1=$(now_ns)
    launch+=("$((t1 - t0))")
    phases+=("$(python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["phases_ns"]; print(max(0, p["main_realtime"] - int(sys.argv[2])), *(p[k] for k in ("launch", "program_read", "vm_created", "grants_opened", "elf_loaded", "stack_built", "vcpu_created", "filter_installed", "first_entry", "job_end")), int(sys.argv[3]) - p["main_realtime"])' "$RAM/r.json" "$t0" "$t1")")
    version+=("$(RUNS=1 time_runs "$RAM"/isovm --version)")
done
f=$(printf '%s\n' "${floor[@]}" | median)
l=$(printf '%s\n' "${launch[@]}" | median)
v=$(printf '%s\n' "${version[@]}" | median)

# Round trips: (time with N calls - time with 0 calls) / N, medians over RUNS of each.
rt() { # CMD-PREFIX...: prints per-call ns
    local with without
    with=$(RUNS=$RUNS time_runs "$@" "$N" | median)
    without=$(RUNS=$RUNS time_runs "$@" 0 | median)
    echo $(((with - without) / N))
}
exit_ns=$(rt "$B"/bench/floor exits)
sys_ns=$(rt "$B"/isovm launch -- "$B"/bench/getpid_loop.musl)

echo "where: $([ -n "${ISOVM_EMUHOST:-}" ] && echo "emulated KVM host (QEMU TCG, nested SVM)" || echo "this host's KVM")"
echo "runs: $RUNS, calls per run: $N"
awk -v f="$f" -v l="$l" -v v="$v" -v e="$exit_ns" -v s="$sys_ns" 'BEGIN {
    printf "launch hello (process start to exit): median %.2f ms\n", l / 1e6
    printf "KVM floor, static (VM + vCPU + HLT):  median %.2f ms\n", f / 1e6
    printf "isovm --version (process start):      median %.2f ms\n", v / 1e6
    printf "launch ratio: %.2fx (target <= 1.5x)\n", l / f
    printf "raw port-I/O exit round trip:   %.1f us\n", e / 1e3
    printf "getpid round trip through isovm: %.1f us\n", s / 1e3
    printf "syscall ratio: %.2fx (target <= 1.3x)\n", s / e
}'

# The phases' medians: each step's share of the launch (the steps' end times from main(), made
# differences; exec to main() from main's realtime against the time noted before the exec)
printf '%s\n' "${phases[@]}" | python3 -c '
import sys, statistics
rows = [list(map(int, l.split())) for l in sys.stdin if l.strip()]
names = ["exec to main()", "options, policy", "program read", "VM (KVM, RAM, page tables, firmware)",
         "grants", "ELF", "stack", "vCPU", "seccomp filter", "to the first guest instruction",
         "the job (to its end)"]
ends = [statistics.median(r[i] for r in rows) for i in range(11)]
total = statistics.median(r[0] + r[11] for r in rows)
prev = 0
print("launch phases (medians of %d; from the time noted before the exec):" % len(rows))
for i, n in enumerate(names):
    d = ends[i] if i == 0 else ends[i] - (ends[i - 1] if i > 1 else 0)
    print("  %-40s %8.2f ms  %5.1f%%" % (n, d / 1e6, 100 * d / total))
rest = statistics.median(r[11] - r[10] for r in rows)
print("  %-40s %8.2f ms  %5.1f%%" % ("after the job: report, teardown, exit", rest / 1e6, 100 * rest / total))
'

# Resource limits: CPU quota accuracy, compute throughput vs native, write throttle accuracy.
[ "${BENCH_LIMITS:-1}" = 0 ] || BUILD=$B bench/limits.sh

# Capabilities: small reads with and without a capability chain, sha256 of a granted file.
[ "${BENCH_CAPS:-1}" = 0 ] || BUILD=$B bench/caps.sh

# Jailer: launch through `isovm jail` against plain launch.
[ "${BENCH_JAIL:-1}" = 0 ] || BUILD=$B bench/jail.sh
# The tenant ledger: launch --tenant against plain launch, alone and 4 at a time.
[ "${BENCH_QUOTA:-1}" = 0 ] || BUILD=$B bench/quota.sh
# The VMM's seccomp filter: getpid round trips with and without --no-seccomp.
[ "${BENCH_SECCOMP:-1}" = 0 ] || BUILD=$B bench/seccomp.sh
# Network: TCP round trips through a granted endpoint against the same client run natively.
[ "${BENCH_NET:-1}" = 0 ] || BUILD=$B bench/net.sh
