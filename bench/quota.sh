#!/usr/bin/env bash
# Tenant ledger benchmark, run inside the KVM host by bench/inner.sh (or on its own there:
# BUILD=build bench/quota.sh). 1. The ledger's cost per launch: the hello job launched plainly
# against `launch --tenant` (the keeper forked, the ledger opened, the reservation and the
# settlement), interleaved in one boot, QUOTA_RUNS (default 21) runs each: the medians of both
# and what the ledger adds (target: <= 5% of the plain launch), and how long the launch waited
# for its reservation (the report's ledger.admit_wait_ns: the keeper reserves while the microVM
# is built, and settles while it is torn down). The binaries run from a RAM-backed copy (the
# emulated host's own root is 9p). 2. Concurrent launches per second: QUOTA_BATCH (default 24) launches of the
# hello job, QUOTA_PAR (default 4) at a time, with and without a tenant, QUOTA_ROUNDS (default 3)
# rounds interleaved: the median rate of each and their ratio (target: >= 0.9x). The ledger is a
# fresh file in a temporary folder with budgets that never refuse. Figures in docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
RUNS=${QUOTA_RUNS:-21}
BATCH=${QUOTA_BATCH:-24}
PAR=${QUOTA_PAR:-4}
ROUNDS=${QUOTA_ROUNDS:-3}
TMP=$(mktemp -d /tmp/isovm-qbench.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
cp "${ISOVM:-$B/isovm}" "$TMP/isovm" && cp "$B/guest/hello.musl" "$TMP/hello.musl" ||
    { echo "quota bench: cannot copy the binaries to $TMP" >&2; exit 1; }
ISOVM=$TMP/isovm
JOB=$TMP/hello.musl
export ISOVM_LEDGER=$TMP/ledger.db
"$ISOVM" quota set bench cpu=1000h/day io=1000TiB/day jobs=1000 >/dev/null ||
    { echo "quota bench: quota set failed" >&2; exit 1; }

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() { # CMD...: wall ns of one run
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null 2>&1 || { echo "quota bench: $* failed" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0))
}
plain() { "$ISOVM" launch -- "$JOB"; }
tenant() { "$ISOVM" launch --tenant bench --report "$TMP/r.json" -- "$JOB"; }
admit_ns() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ledger"]["admit_wait_ns"])' "$TMP/r.json"; }

one plain >/dev/null; one tenant >/dev/null # warm caches and the ledger file
p=(); t=(); l=()
for ((r = 0; r < RUNS; r++)); do
    p+=("$(one plain)")
    t+=("$(one tenant)")
    l+=("$(admit_ns)") || { echo "quota bench: no ledger timings in the report" >&2; exit 1; }
done
pm=$(printf '%s\n' "${p[@]}" | median)
tm=$(printf '%s\n' "${t[@]}" | median)
lm=$(printf '%s\n' "${l[@]}" | median)

# batch MODE: wall ns of BATCH launches, PAR at a time
batch() {
    local t0 t1 flag=()
    [ "$1" = tenant ] && flag=(--tenant bench)
    t0=$(now_ns)
    seq "$BATCH" | xargs -P "$PAR" -I{} "$ISOVM" launch "${flag[@]}" -- "$JOB" >/dev/null 2>&1 ||
        { echo "quota bench: a batch launch failed" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0))
}
bp=(); bt=()
for ((r = 0; r < ROUNDS; r++)); do
    bp+=("$(batch plain)")
    bt+=("$(batch tenant)")
done
bpm=$(printf '%s\n' "${bp[@]}" | median)
btm=$(printf '%s\n' "${bt[@]}" | median)
jobs=$("$ISOVM" quota report --format json --tenant bench |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["tenants"][0]["jobs_total"])')
awk -v p="$pm" -v t="$tm" -v l="$lm" -v n="$RUNS" -v bp="$bpm" -v bt="$btm" -v b="$BATCH" -v par="$PAR" \
    -v rounds="$ROUNDS" -v jobs="$jobs" 'BEGIN {
    printf "quota: runs %d each, interleaved; ledger jobs recorded: %d\n", n, jobs
    printf "launch hello, no tenant:       median %.2f ms\n", p / 1e6
    printf "launch hello, --tenant:        median %.2f ms\n", t / 1e6
    printf "wait for the reservation:      median %.2f ms\n", l / 1e6
    printf "ledger cost per launch: %+.1f%%, %+.2f ms (target <= 5%%)\n", 100 * (t - p) / p, (t - p) / 1e6
    printf "concurrent: %d launches, %d at a time, %d rounds each, interleaved\n", b, par, rounds
    printf "launches per second, no tenant: %.2f\n", b / (bp / 1e9)
    printf "launches per second, --tenant:  %.2f\n", b / (bt / 1e9)
    printf "concurrent ratio: %.3fx (target >= 0.9x)\n", bp / bt
}'
