#!/usr/bin/env bash
# Resource-limit benchmarks, run inside the KVM host by bench/inner.sh (or on their own there:
# BUILD=build bench/limits.sh). Prints ratios; figures in docs/performance.md.
#
#  - CPU quota accuracy at 10%, 25%, 50%, 100% of a 100 ms period: guest/spin for 2 s under the
#    quota. Share of a CPU by the VMM's accounting, cpu_time_ns / (wall_time_ns - launch
#    overhead), and by the job's own progress, its rate against unthrottled runs of the same
#    spinner (chunks of ~1 ms) just before and after it. Printed as measured/target and the error in points (target: within
#    2 points).
#  - Compute throughput with no quota against the same spinner run natively in this host (chunks
#    of ~50 ms, so the clock read between chunks, a hypercall under isovm, costs ~0.1%): median
#    rate ratio of 2 x LIMITS_RUNS adjacent pairs of 1 s runs (target >= 0.95x: the run loop must
#    add no exits while unthrottled).
#  - Write throttle accuracy at 1, 4 and 16 MiB/s: guest/iowrite writes 2R MiB to /dev/null under
#    --set io.write.bandwidth=R MiB/s (bucket R/10, refilled every 100 ms, starting full), which
#    should take (2R - R/10) / R = 1.9 s: measured/expected by the job's own clock and by the
#    report's wall time minus the launch overhead (target within 2%).
#
# The launch overhead is the median wall_time_ns of runs of the job doing nothing under the
# same options. Medians of LIMITS_RUNS (default 5) runs everywhere (the emulated host is noisy:
# single runs of the same spinner differ by several per cent). When isovm does not take an
# option yet, that benchmark prints "n/a" and the others still run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
RUNS=${LIMITS_RUNS:-5}
ISOVM=${ISOVM:-$B/isovm}
SPIN=$B/guest/spin.musl
IOW=$B/guest/iowrite.musl
TMP=$(mktemp -d "${TMPDIR:-/tmp}/isovm-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
R=$TMP/report.json

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
# report_int KEY : integer value of KEY in the last report
report_int() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([0-9]*\),\{0,1\}[[:space:]]*\$/\1/p" "$R" | head -n1; }
# kv KEY FILE : VALUE of the first KEY=VALUE word in FILE
kv() { grep -o -- "\(^\|[[:space:]]\)$1=[^[:space:]]*" "$2" | head -n1 | sed "s/^[[:space:]]*$1=//"; }
# spin_rate FILE : chunks per second from spin's "chunks=N wall_ns=W"
spin_rate() { awk -v c="$(kv chunks "$1")" -v w="$(kv wall_ns "$1")" 'BEGIN { if (w > 0) printf "%.9g", c * 1e9 / w }'; }

# iso OPTIONS... -- JOB ARGS : run under isovm with a report, stdout to $TMP/out (iowrite: -o /dev/null)
iso() {
    rm -f "$R"
    "$ISOVM" launch --report "$R" "$@" >"$TMP/out" 2>"$TMP/err"
}
iso_null() {
    rm -f "$R"
    "$ISOVM" launch --report "$R" "$@" >/dev/null 2>"$TMP/err"
}
# supported OPTIONS... : isovm takes these options (a no-op spin runs)
supported() { "$ISOVM" launch "$@" -- "$SPIN" 0 >/dev/null 2>&1; }
# base_wall OPTIONS... -- JOB ARGS : median wall_time_ns of RUNS runs doing nothing
base_wall() {
    local i w=()
    for ((i = 0; i < RUNS; i++)); do
        iso "$@" || return 1
        w+=("$(report_int wall_time_ns)")
    done
    median "${w[@]}"
}
na() { echo "$1: n/a ($2)"; }

for f in "$ISOVM" "$SPIN" "$IOW"; do
    [ -x "$f" ] || { echo "limits: $f not built" >&2; exit 1; }
done
echo "limits benchmarks: medians of $RUNS runs"

# --- CPU quota accuracy -----------------------------------------------------------------------
iters=$("$ISOVM" launch -- "$SPIN" --calibrate 300 | sed -n 's/^iters_per_ms=//p')
if ! [[ "$iters" =~ ^[1-9][0-9]*$ ]]; then
    echo "limits: spin --calibrate under isovm failed" >&2
    exit 1
fi
if ! supported --cpu-quota 50% --cpu-period 100ms; then
    na "cpu quota accuracy" "isovm does not take --cpu-quota yet"
else
    base=$(base_wall -- "$SPIN" 0)
    declare -A prog=() acct=()
    # U Q10 U Q25 U Q50 U Q100 U per round: each quota run against the mean of the unthrottled
    # runs just before and after it, which cancels slow drift of the host's speed
    for ((i = 0; i < RUNS; i++)); do
        u=
        iso -- "$SPIN" 2 "$iters" && u=$(spin_rate "$TMP/out")
        for q in 10 25 50 100; do
            qa='' qc='' qw=''
            if iso --cpu-quota "$q%" --cpu-period 100ms -- "$SPIN" 2 "$iters"; then
                qa=$(spin_rate "$TMP/out") qc=$(report_int cpu_time_ns) qw=$(report_int wall_time_ns)
            fi
            prev=$u u=
            iso -- "$SPIN" 2 "$iters" && u=$(spin_rate "$TMP/out")
            [ -n "$qa" ] || continue
            prog[$q]+=" $(awk -v a="$qa" -v u1="$prev" -v u2="$u" 'BEGIN { if (u1 > 0 && u2 > 0) printf "%.3f", 200 * a / (u1 + u2) }')"
            acct[$q]+=" $(awk -v c="$qc" -v w="$qw" -v b="$base" 'BEGIN { if (w > b) printf "%.3f", 100 * c / (w - b) }')"
        done
    done
    for q in 10 25 50 100; do
        # shellcheck disable=SC2086 # word lists
        a=$(median ${acct[$q]:-}) p=$(median ${prog[$q]:-})
        awk -v q="$q" -v a="$a" -v p="$p" 'BEGIN {
            if (a == "" || p == "") { printf "cpu quota %3d%%: no measurement (runs failed)\n", q; exit }
            printf "cpu quota %3d%%: accounting %6.2f%% (%.3fx, %+.2f points), progress %6.2f%% (%.3fx, %+.2f points) (target within 2 points)\n",
                q, a, a / q, a - q, p, p / q, p - q }'
    done
fi

# --- compute throughput, no quota vs native -------------------------------------------------------
nat_iters=$("$SPIN" --calibrate 300 | sed -n 's/^iters_per_ms=//p')
big=$((${nat_iters:-1} * 50))
# adjacent pairs (native, isovm) of 1 s runs, the median of their ratios: slow drift of the
# host's speed cancels within a pair
ratios=()
for ((i = 0; i < 2 * RUNS; i++)); do
    n='' v=''
    "$SPIN" 1 "$big" >"$TMP/nat" 2>/dev/null && n=$(spin_rate "$TMP/nat")
    iso -- "$SPIN" 1 "$big" && v=$(spin_rate "$TMP/out")
    [ -n "$n" ] && [ -n "$v" ] && ratios+=("$(awk -v n="$n" -v v="$v" 'BEGIN { printf "%.4f", v / n }')")
done
awk -v r="$(median "${ratios[@]}")" -v all="${ratios[*]}" 'BEGIN {
    if (r == "") { print "compute throughput: no measurement (runs failed)"; exit }
    printf "compute throughput, no quota vs native: %.3fx (target >= 0.95x; pairs: %s)\n", r, all }'

# --- write throttle accuracy --------------------------------------------------------------------
if ! supported --set io.write.bandwidth=4MiB/s; then
    na "write throttle accuracy" "isovm does not take --set io.write.bandwidth yet"
else
    for rate in 1 4 16; do
        opt=(--set "io.write.bandwidth=${rate}MiB/s")
        base=$(base_wall "${opt[@]}" -- "$IOW" 0)
        job=() wall=()
        for ((i = 0; i < RUNS; i++)); do
            if iso_null "${opt[@]}" -- "$IOW" $((2 * rate)); then
                job+=("$(kv elapsed_ns "$TMP/err")")
                wall+=("$(($(report_int wall_time_ns) - base))")
            fi
        done
        awk -v r="$rate" -v j="$(median "${job[@]}")" -v w="$(median "${wall[@]}")" 'BEGIN {
            if (j == "" || w == "") { printf "write throttle %2d MiB/s: no measurement (runs failed)\n", r; exit }
            e = 1.9e9
            printf "write throttle %2d MiB/s: job %.3fx, wall %.3fx of %.2f s expected (target within 2%%)\n",
                r, j / e, w / e, e / 1e9 }'
    done
fi
