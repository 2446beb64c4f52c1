#!/usr/bin/env bash
# Tenant ledger benchmark, run inside the KVM host by bench/inner.sh (or on its own there:
# BUILD=build bench/quota.sh). The hello job launched plainly, with `--tenant` and a keeper of
# its own (forked per job: it opens SQLite, reserves, settles), and with `--tenant` through the
# keeper service (`isovm quota keeper`: one process holding the ledger for every job),
# interleaved in one boot: 1. QUOTA_RUNS (default 21) launches of each, one at a time: medians,
# what the ledger adds to a launch (target: <= 5%) and how long the launch waited for its
# reservation (the report's ledger.admit_wait_ns: the keeper reserves while the microVM is built
# and settles while it is torn down); 2. QUOTA_BATCH (default 24) launches QUOTA_PAR (default 4)
# at a time, QUOTA_ROUNDS (default 3) rounds of each: launches per second and the ratio to plain
# launches (target: >= 0.9x). The ledger is a fresh file with budgets that never refuse; the
# binaries run from a RAM-backed copy (the emulated host's own root is 9p). Figures in
# docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
RUNS=${QUOTA_RUNS:-21}
BATCH=${QUOTA_BATCH:-24}
PAR=${QUOTA_PAR:-4}
ROUNDS=${QUOTA_ROUNDS:-3}
TMP=$(mktemp -d /tmp/isovm-qbench.XXXXXX) || exit 1
SVC=""
trap '[ -n "$SVC" ] && kill "$SVC" 2>/dev/null; rm -rf "$TMP"' EXIT
cp "${ISOVM:-$B/isovm}" "$TMP/isovm" && cp "$B/guest/hello.musl" "$TMP/hello.musl" ||
    { echo "quota bench: cannot copy the binaries to $TMP" >&2; exit 1; }
ISOVM=$TMP/isovm
JOB=$TMP/hello.musl
export ISOVM_LEDGER=$TMP/ledger.db
"$ISOVM" quota set bench cpu=1000h/day io=1000TiB/day jobs=1000 >/dev/null ||
    { echo "quota bench: quota set failed" >&2; exit 1; }
"$ISOVM" quota keeper --socket "$TMP/keeper.sock" 2>"$TMP/keeper.log" &
SVC=$!
for ((i = 0; i < 100; i++)); do [ -S "$TMP/keeper.sock" ] && break; sleep 0.05; done
[ -S "$TMP/keeper.sock" ] || { echo "quota bench: the keeper service did not start: $(cat "$TMP/keeper.log")" >&2; exit 1; }

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() { # CMD...: wall ns of one run
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null 2>&1 || { echo "quota bench: $* failed" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0))
}
# MODE: the launch's options
opts() {
    case $1 in
        plain) ;;
        own) echo --tenant bench ;;
        svc) echo --tenant bench --ledger-socket "$TMP/keeper.sock" ;;
    esac
}
# shellcheck disable=SC2046
run() { "$ISOVM" launch $(opts "$1") --report "$TMP/r-$1.json" -- "$JOB"; }
admit_ns() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ledger"]["admit_wait_ns"])' "$TMP/r-$1.json"; }

for m in plain own svc; do one run "$m" >/dev/null; done # warm caches and the ledger file
declare -A T A
for ((r = 0; r < RUNS; r++)); do
    for m in plain own svc; do
        T[$m]+="$(one run "$m") "
        [ "$m" = plain ] || A[$m]+="$(admit_ns "$m") "
    done
done
med() { tr ' ' '\n' | grep . | median; }

# batch MODE: wall ns of BATCH launches, PAR at a time
batch() {
    local t0 t1
    t0=$(now_ns)
    # shellcheck disable=SC2046
    seq "$BATCH" | xargs -P "$PAR" -I{} "$ISOVM" launch $(opts "$1") -- "$JOB" >/dev/null 2>&1 ||
        { echo "quota bench: a batch launch ($1) failed" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0))
}
declare -A C
for ((r = 0; r < ROUNDS; r++)); do
    for m in plain own svc; do C[$m]+="$(batch "$m") "; done
done
jobs=$("$ISOVM" quota report --format json --tenant bench |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["tenants"][0]["jobs_total"])')
echo "quota: $RUNS launches of each, interleaved; ledger jobs recorded: $jobs"
p=$(echo "${T[plain]}" | med)
printf 'launch hello, no tenant:                  median %.2f ms\n' "$(echo "$p / 1000000" | bc -l)"
for m in own svc; do
    name=$([ "$m" = own ] && echo "a keeper of its own" || echo "the keeper service")
    t=$(echo "${T[$m]}" | med)
    a=$(echo "${A[$m]}" | med)
    awk -v p="$p" -v t="$t" -v a="$a" -v n="$name" 'BEGIN {
        printf "launch hello, --tenant, %-18s median %.2f ms: ledger cost %+.1f%%, %+.2f ms (target <= 5%%); wait for the reservation %.2f ms\n",
               n ":", t / 1e6, 100 * (t - p) / p, (t - p) / 1e6, a / 1e6 }'
done
cp=$(echo "${C[plain]}" | med)
awk -v b="$BATCH" -v par="$PAR" -v r="$ROUNDS" -v p="$cp" 'BEGIN {
    printf "concurrent: %d launches, %d at a time, %d rounds each, interleaved\n", b, par, r
    printf "launches per second, no tenant:            %.2f\n", b / (p / 1e9) }'
for m in own svc; do
    c=$(echo "${C[$m]}" | med)
    name=$([ "$m" = own ] && echo "a keeper of its own" || echo "the keeper service")
    awk -v b="$BATCH" -v p="$cp" -v c="$c" -v n="$name" 'BEGIN {
        printf "launches per second, --tenant, %-19s %.2f: %.3fx (target >= 0.9x)\n", n ":", b / (c / 1e9), p / c }'
done
