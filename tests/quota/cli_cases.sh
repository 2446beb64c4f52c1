#!/usr/bin/env bash
# `isovm quota`'s tests, host-side and fast (no KVM): budgets set, changed, lifted and shown;
# reports as a table, JSON (parsed back), OpenMetrics (its rules checked here) and the Prometheus
# text format (checked by promtool where Debian's prometheus package is installed); bad items, tenants, formats and dates refused with exit 125
# and a message naming them; a ledger that is not a database, or of a newer schema, refused with
# exit 1 and a message naming the file, and never a crash.
#
#   tests/quota/cli_cases.sh        ISOVM (default build/isovm) is the binary tested
#
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
ISOVM=$(realpath "${ISOVM:-$repo/build/isovm}")
[ -x "$ISOVM" ] || { echo "FAIL tests/quota/cli_cases.sh: no $ISOVM (make)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ISOVM_LEDGER=$tmp/state/ledger.db
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
no() { failed=$((failed + 1)); echo "FAIL $*"; }
# run ARGS...: isovm ARGS, stdout in $tmp/out, stderr in $tmp/err, status in $rc
run() { "$ISOVM" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
# expect NAME STATUS [PATTERN]: the last run exited STATUS, and its output (stdout and stderr)
# has PATTERN (a fixed string)
expect() {
  local name=$1 want=$2 pat=${3:-}
  if [ "$rc" != "$want" ]; then
    no "$name (exit $rc, wanted $want; stderr: $(head -c 300 "$tmp/err"))"
  elif [ -n "$pat" ] && ! cat "$tmp/out" "$tmp/err" | grep -qF -- "$pat"; then
    no "$name (no \"$pat\" in: $(cat "$tmp/out" "$tmp/err" | head -c 400))"
  else
    ok "$name"
  fi
}

run quota set acme cpu=10h/day io=200GiB/month jobs=4 memory=8GiB
expect "set makes the ledger and its folder" 0
[ -f "$ISOVM_LEDGER" ] && ok "the ledger is at \$ISOVM_LEDGER" || no "no ledger at $ISOVM_LEDGER"
run quota show acme
expect "show prints what set wrote" 0 "acme cpu=10h/day io=200GiB/month net=unlimited jobs=4 memory=8GiB"
run quota set acme jobs=6 io=unlimited net=5GiB/week
expect "a second set" 0
run quota show acme
expect "changes what it names, lifts io, keeps the rest" 0 \
  "acme cpu=10h/day io=unlimited net=5GiB/week jobs=6 memory=8GiB"
run quota --ledger "$tmp/other.db" set beta cpu=90m/hour
expect "--ledger PATH before the tenant" 0
run quota show --ledger "$tmp/other.db" beta
expect "--ledger after the subcommand" 0 "beta cpu=90m/hour"
run quota show beta
expect "another ledger's tenant is not in this one" 1 "no tenant 'beta' in the ledger"

run quota report
expect "table report" 0 "acme                 cpu      0.00 s           10h/day"
expect "table: jobs line" 0 "acme                 jobs 0 (0 running, 0 recovered"
run quota report --format json
expect "json report" 0
if python3 - "$tmp/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["tenants"][0]
assert t["tenant"] == "acme", t
b = t["budgets"]
assert b["cpu_ns"]["limit"] == 36000 * 10**9 and b["cpu_ns"]["window"] == "day", b
assert b["cpu_ns"]["window_end"].endswith("T00:00:00Z"), b
assert b["io_bytes"]["limit"] is None, b
assert b["net_bytes"]["limit"] == 5 << 30 and b["net_bytes"]["window"] == "week", b
assert b["jobs"]["limit"] == 6 and b["jobs"]["running"] == 0, b
assert b["memory_bytes"]["limit"] == 8 << 30, b
assert t["usage"]["cpu_ns"] == 0 and "read_ops" in t["usage"], t
EOF
then ok "json parses, units in the keys, budgets as set"; else no "json content: $(head -c 400 "$tmp/out")"; fi
run quota report --format openmetrics
expect "openmetrics report" 0 'isovm_tenant_cpu_seconds_total{tenant="acme"} 0'
expect "openmetrics budget" 0 'isovm_tenant_budget_cpu_limit_seconds{tenant="acme",window="day"} 36000'
[ "$(tail -n 1 "$tmp/out")" = "# EOF" ] && ok "openmetrics ends with # EOF" || no "openmetrics last line: $(tail -n 1 "$tmp/out")"
# OpenMetrics' own rules: every family typed before its samples, a counter's samples named
# FAMILY_total, a unit the family's name ends with, # EOF once and last
if python3 - "$tmp/out" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[-1] == "# EOF" and lines.count("# EOF") == 1
types, fam = {}, None
for l in lines[:-1]:
    m = re.match(r"# (TYPE|UNIT|HELP) ([a-z_:][a-z0-9_:]*) (.+)$", l)
    if m:
        fam = m.group(2)
        if m.group(1) == "TYPE":
            assert fam not in types, "family %s twice" % fam
            types[fam] = m.group(3)
        if m.group(1) == "UNIT":
            assert fam.endswith("_" + m.group(3)), l
        continue
    m = re.match(r'([a-z_:][a-z0-9_:]*)\{tenant="[A-Za-z0-9._-]+"(,window="[a-z]+")?\} [0-9.e+-]+$', l)
    assert m, "bad sample line: " + l
    want = fam + "_total" if types[fam] == "counter" else fam
    assert m.group(1) == want, "%s in family %s (%s)" % (m.group(1), fam, types[fam])
EOF
then ok "openmetrics: families typed, counters' samples _total, units in names"; else no "openmetrics structure"; fi
run quota report --format prometheus
expect "prometheus text format report" 0 '# TYPE isovm_tenant_cpu_seconds_total counter'
if command -v promtool >/dev/null; then
  if promtool check metrics <"$tmp/out" >"$tmp/prom" 2>&1; then ok "promtool check metrics (the Prometheus text format)"
  else no "promtool check metrics: $(head -c 400 "$tmp/prom")"; fi
else
  echo "NOTE promtool not installed here: the Prometheus text format is checked by the case above only"
fi
run quota report --tenant nobody
expect "report of an unknown tenant" 0 "no tenants named nobody"
run quota report --since 2026-12-01 --tenant acme
expect "--since a date" 0 "acme"
run quota report --since 24h --format json
expect "--since a duration" 0 '"since_s"'

# refusals: 125 and what is wrong
run quota set acme cpu=10h
expect "a windowed budget without its window" 125 "cpu needs a window"
run quota set acme disk=1GiB/day
expect "an unknown budget" 125 "unknown budget 'disk'"
run quota set acme jobs=4/day
expect "a window on jobs" 125 "jobs is held at once and takes no window"
run quota set acme cpu=lots/day
expect "a bad amount" 125 "'lots' is not a duration"
run quota set '../etc' cpu=1h/day
expect "a tenant name with a path in it" 125 "tenant '../etc'"
run quota set acme
expect "set without items" 125 "at least one budget"
run quota report --format yaml
expect "an unknown format" 125 "--format 'yaml'"
run quota report --since yesterday
expect "a bad --since" 125 "--since 'yesterday'"
run quota frobnicate
expect "an unknown subcommand" 125 "unknown subcommand 'frobnicate'"
run quota --help
expect "--help" 0 "usage: isovm quota set"
run quota show acme
expect "refusals changed nothing" 0 "acme cpu=10h/day io=unlimited net=5GiB/week jobs=6 memory=8GiB"

# damaged ledgers: exit 1, the file named, no crash, the file untouched
head -c 20000 /dev/urandom >"$tmp/junk.db"
cp "$tmp/junk.db" "$tmp/junk.copy"
run quota --ledger "$tmp/junk.db" report
expect "a ledger that is not a database" 1 "ledger $tmp/junk.db"
cmp -s "$tmp/junk.db" "$tmp/junk.copy" && ok "the damaged file is left as it was" || no "the damaged file was changed"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=7'); c.commit()" "$tmp/newer.db"
run quota --ledger "$tmp/newer.db" show acme
expect "a ledger of a newer schema" 1 "schema version 7 is newer than this isovm's"
mkdir -p "$tmp/ro" && : >"$tmp/ro/file"
run quota --ledger "$tmp/ro/file/ledger.db" report
expect "a ledger whose folder cannot be made" 1 "cannot make its folder"
python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" \
  "$ISOVM_LEDGER" >"$tmp/ic" 2>&1
[ "$(cat "$tmp/ic")" = ok ] && ok "the ledger passes PRAGMA integrity_check" || no "integrity_check: $(cat "$tmp/ic")"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
