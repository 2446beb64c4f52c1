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

echo "where: $([ -n "${ISOVM_EMUHOST:-}" ] && echo "emulated KVM host (QEMU TCG, nested SVM)" || echo "this host's KVM")"
# Cold launch against the static floor, isovm's process start, the phases (bench/launch.sh).
BUILD=$B bench/launch.sh

# Round trips: (time with N calls - time with 0 calls) / N, medians over RUNS of each.
rt() { # CMD-PREFIX...: prints per-call ns
    local with without
    with=$(RUNS=$RUNS time_runs "$@" "$N" | median)
    without=$(RUNS=$RUNS time_runs "$@" 0 | median)
    echo $(((with - without) / N))
}
exit_ns=$(rt "$B"/bench/floor exits)
sys_ns=$(rt "$B"/isovm launch -- "$B"/bench/getpid_loop.musl)

echo "round trips: $RUNS runs, $N calls per run"
awk -v e="$exit_ns" -v s="$sys_ns" 'BEGIN {
    printf "raw port-I/O exit round trip:   %.1f us\n", e / 1e3
    printf "getpid round trip through isovm: %.1f us\n", s / 1e3
    printf "syscall ratio: %.2fx (target <= 1.3x)\n", s / e
}'

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
