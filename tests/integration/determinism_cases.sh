# Deterministic jobs (issue 4, part 5): the same job run twice under the deterministic profile
# with one seed prints the same bytes and writes the same usage report (apart from the keys the
# report lists in "host_timing_fields"); another seed changes only the random bytes; without the
# profile real time passes; clone gets the filter's action.
# shellcheck shell=bash
# Sourced by run.sh: uses WORK, GUEST_DIR, ISOVM and lib.sh. Needs python3 (json) for the reports.
# Not registered with ISOVM_NATIVE=1 (the values checked are isovm's).
#
#   tests/integration/run.sh determinism

# _dc_policy SEED : writes a deterministic policy with that seed, prints its path
_dc_policy() {
    local f=$WORK/determinism-seed$1.json
    printf '{"syscalls": {"profile": "deterministic"}, "seed": %s}\n' "$1" >"$f"
    printf '%s' "$f"
}

# _dc_run POLICY OUT REPORT [ARGS...] : run the job J under POLICY; stdout kept in OUT
_dc_run() {
    local policy=$1 out=$2 report=$3
    shift 3
    run_isovm launch --policy "$policy" --report "$report" -- "$J" "$@"
    expect_status 0 "deterministic run" || return 1
    cp "$OUT_FILE" "$out"
}

# _dc_reports_same R1 R2 : identical once the keys each lists in host_timing_fields are removed
# (a key "a.b" names member b of object a). A report without host_timing_fields fails.
_dc_reports_same() {
    local msg
    msg=$(py -c '
import json, sys

def load(path):
    with open(path) as f:
        report = json.load(f)
    fields = report.get("host_timing_fields")
    if not isinstance(fields, list):
        sys.exit("%s: no \"host_timing_fields\" array: the report does not mark its host timing fields" % path)
    for name in fields:
        node, parts = report, str(name).split(".")
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return report

def flat(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(flat(v, prefix + k + "."))
        return out or {prefix[:-1]: {}}
    return {prefix[:-1]: obj}

a, b = flat(load(sys.argv[1])), flat(load(sys.argv[2]))
diff = sorted(k for k in set(a) | set(b) if a.get(k, "<missing>") != b.get(k, "<missing>"))
if diff:
    sys.exit("reports differ in: " + ", ".join("%s (%s vs %s)" % (k, a.get(k, "<missing>"), b.get(k, "<missing>")) for k in diff[:8]))
' "$1" "$2" 2>&1)
    if [ $? != 0 ]; then
        fail "${msg:-python3 failed on the reports}"
        return 1
    fi
}

# _dc_line FILE KEY : the value of the first line KEY=... of FILE
_dc_line() {
    sed -n "s/^$2=//p" "$1" | head -n1
}

# the fixed values every deterministic run must show
_dc_expect_fixed() { # OUT
    local o=$1 v
    v=$(_dc_line "$o" realtime)
    [[ $v == 946684800.* ]] || fail "realtime is '$v', want the virtual epoch 946684800.x (2000-01-01)"
    v=$(_dc_line "$o" monotonic)
    [[ $v == 0.* ]] || fail "monotonic is '$v', want virtual time under a second"
    v=$(_dc_line "$o" busy_100_syscalls_ns)
    [ "$v" = 101000 ] || fail "busy_100_syscalls_ns is '$v', want 101000 (101 hypercalls x 1000 ns)"
    v=$(_dc_line "$o" nanosleep_250ms)
    [ "$v" = "0 elapsed_ns=250002000" ] ||
        fail "nanosleep_250ms is '$v', want '0 elapsed_ns=250002000' (250 ms + 2 hypercalls)"
    v=$(_dc_line "$o" time)
    [ "$v" = 946684800 ] || fail "time is '$v', want 946684800"
    v=$(_dc_line "$o" getrandom_rc)
    [ "$v" = 32 ] || fail "getrandom returned '$v', want 32"
    v=$(_dc_line "$o" uname)
    [ "$v" = "Linux|isovm|6.1.0-isovm|#1 SMP isovm|x86_64" ] || fail "uname is '$v'"
    v=$(_dc_line "$o" pid)
    [ "$v" = "1 tid=1 ppid=0 uid=0 gid=0" ] || fail "ids are 'pid=$v'"
    [ -z "$CASE_FAIL" ] || _show_outputs
}

c_det_same_seed() { # VARIANT : two runs with seed 42, byte-identical stdout and reports
    need "determinism.$1" || return
    local p out1=$WORK/det-out1 out2=$WORK/det-out2 r1=$WORK/det-r1.json r2=$WORK/det-r2.json
    p=$(_dc_policy 42)
    _dc_run "$p" "$out1" "$r1" || return
    _dc_expect_fixed "$out1"
    _dc_run "$p" "$out2" "$r2" || return
    if ! cmp -s "$out1" "$out2"; then
        fail "two runs with seed 42 printed different bytes"
        CASE_DETAIL+="$(diff "$out1" "$out2" | head -n 12 | sed 's/^/        | /')"$'\n'
    fi
    _dc_reports_same "$r1" "$r2"
}

c_det_other_seed() { # VARIANT : seed 43 changes the random bytes, and nothing else
    need "determinism.$1" || return
    local o42=$WORK/det-out42 o43=$WORK/det-out43 r=$WORK/det-r.json k
    _dc_run "$(_dc_policy 42)" "$o42" "$r" || return
    _dc_run "$(_dc_policy 43)" "$o43" "$r" || return
    for k in getrandom at_random; do
        if [ "$(_dc_line "$o42" $k)" = "$(_dc_line "$o43" $k)" ]; then
            fail "$k is the same with seeds 42 and 43"
        fi
    done
    # (no process substitution: the emulated host has no /dev/fd)
    grep -vE '^(getrandom|at_random)=' "$o42" >"$o42.rest"
    grep -vE '^(getrandom|at_random)=' "$o43" >"$o43.rest"
    if ! cmp -s "$o42.rest" "$o43.rest"; then
        fail "seeds 42 and 43 differ in more than the random bytes"
        CASE_DETAIL+="$(diff "$o42.rest" "$o43.rest" | head -n 12 | sed 's/^/        | /')"$'\n'
    fi
}

c_det_real_time() { # VARIANT : without the profile the host's clock runs and sleeps take time
    need "determinism.$1" || return
    launch "$J"
    expect_status 0 || return
    local v
    v=$(_dc_line "$OUT_FILE" realtime)
    ((${v%%.*} > 1600000000)) || fail "realtime is '$v', want the host's date"
    v=$(_dc_line "$OUT_FILE" nanosleep_250ms)
    v=${v#*elapsed_ns=}
    [[ $v =~ ^[0-9]+$ ]] && ((v >= 250000000)) || fail "nanosleep of 250 ms took '$v' ns"
    v=$(_dc_line "$OUT_FILE" busy_100_syscalls_ns)
    [ "$v" != 101000 ] || fail "busy loop took exactly the virtual 101000 ns without the profile"
    [ -z "$CASE_FAIL" ] || _show_outputs
}

c_det_clone() { # VARIANT : the deterministic profile refuses clone with its errno (EPERM)
    need "determinism.$1" || return
    local r=$WORK/det-clone.json
    run_isovm launch --policy "$(_dc_policy 42)" --report "$r" -- "$J" clone
    expect_status 0 || return
    expect_stdout_eq "clone=-1 errno=1"
}

if ! native; then
    for v in $V4; do
        add_case "determinism/same-seed.$v" c_det_same_seed "$v"
    done
    add_case "determinism/other-seed.musl" c_det_other_seed musl
    add_case "determinism/other-seed.glibc-pie" c_det_other_seed glibc-pie
    add_case "determinism/real-time.musl" c_det_real_time musl
    add_case "determinism/clone.musl" c_det_clone musl
    add_case "determinism/clone.glibc" c_det_clone glibc
fi
