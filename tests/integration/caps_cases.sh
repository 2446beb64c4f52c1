# Capability cases (issue 4): attenuation and amplification, expiry at the next use, revoking a
# directory closes what was opened beneath it, the capability limit, descriptor reuse, and the
# audit log's chains. Uses guest/tests/caps.c on granted host directories.
# shellcheck shell=bash
# Sourced by run.sh: uses V4, V2, WORK, GUEST_DIR, ISOVM and lib.sh. Every case name starts with
# "caps/", so `run.sh caps` runs just these. isovm only (grants have no native equivalent).

# _caps_tree : a fresh host tree under $WORK/case: data/f (rw grant), ro/b and ro/sub/x (ro grant)
_caps_tree() {
    CT=$WORK/case/tree
    rm -rf "$CT"
    mkdir -p "$CT/data" "$CT/ro/sub"
    printf 'hello\n' >"$CT/data/f"
    printf 'read-only\n' >"$CT/ro/b"
    printf 'beneath\n' >"$CT/ro/sub/x"
}

# _caps_policy FILE EXTRA-GRANT-FIELDS-FOR-/data : a policy granting /data rw and /ro ro
_caps_policy() {
    cat >"$1" <<JSON
{"grants": [{"guest": "/data", "host": "$CT/data", "rights": "rw"$2},
            {"guest": "/ro", "host": "$CT/ro", "rights": "ro"}]}
JSON
}

_json_lines_valid() { # FILE : every line is a JSON object
    py -c 'import json, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    o = json.loads(l)
    assert isinstance(o, dict), "line %d is not an object" % n' "$1" 2>"$WORK/case/json.err" ||
        { fail "audit log is not JSON lines: $(head -c 300 "$WORK/case/json.err")"; return 1; }
}

c_caps_attenuate() { # VARIANT
    need "caps.$1" || return
    _caps_tree
    local p=$WORK/case/p.json a=$WORK/case/audit.jsonl r=$WORK/case/r.json
    _caps_policy "$p" ""
    run_job launch --policy "$p" --audit "$a" --report "$r" -- "$J" attenuate /data/f
    expect_status 0 || return
    expect_checks_pass || return
    expect_report_ge "$r" denials_total 2
    [ -f "$a" ] || { fail "no audit log written"; return 1; }
    _json_lines_valid "$a" || return
    # the amplification is logged with its full chain: grant -> open -> derive
    py - "$a" <<'PY' 2>"$WORK/case/py.err" || { fail "audit chain: $(tail -n 3 "$WORK/case/py.err")"; return 1; }
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
amp = [e for e in ev if e.get("event") == "deny" and e.get("kind") == "amplification"]
assert amp, "no amplification denial in the log"
chain = amp[0]["chain"]
assert [c["how"] for c in chain] == ["grant", "open", "derive"], "chain %r" % chain
assert chain[0]["path"] == "/data", chain[0]
assert all("rights" in c and "cap" in c for c in chain), chain
assert any(e.get("event") == "grant" and e.get("path") == "/data" for e in ev), "no grant event"
assert any(e.get("event") == "derive" for e in ev), "no derive event"
rights = [e for e in ev if e.get("event") == "deny" and e.get("kind") == "rights"]
assert rights and rights[0].get("errno") == "EBADF", "write through the read-only copy: %r" % rights
PY
}

c_caps_expire() { # VARIANT
    need "caps.$1" || return
    _caps_tree
    local p=$WORK/case/p.json a=$WORK/case/audit.jsonl
    _caps_policy "$p" ', "expires": "3s"'
    run_job launch --policy "$p" --audit "$a" -- "$J" expire /data/f 4000
    expect_status 0 || return
    expect_checks_pass || return
    grep -q '"event": *"expire"' "$a" || fail "no expire event in the audit log"
}

c_caps_revoke_dir() { # VARIANT
    need "caps.$1" || return
    _caps_tree
    local p=$WORK/case/p.json r=$WORK/case/r.json
    _caps_policy "$p" ""
    run_job launch --policy "$p" --report "$r" -- "$J" revoke-dir /ro/sub x
    expect_status 0 || return
    expect_checks_pass || return
    expect_report_ge "$r" denials_total 3
}

c_caps_limit() { # VARIANT
    need "caps.$1" || return
    _caps_tree
    local p=$WORK/case/p.json r=$WORK/case/r.json
    _caps_policy "$p" ""
    # 10 slots: console 3 + grants 2 + the open file 1 leave 4 to derive
    run_job launch --policy "$p" --max-capabilities 10 --report "$r" -- "$J" limit /data/f
    expect_status 0 || return
    expect_checks_pass || return
    expect_stdout_line "derived 4" || return
    expect_report_ge "$r" capabilities_refused 3
}

c_caps_reuse() { # VARIANT
    need "caps.$1" || return
    _caps_tree
    local p=$WORK/case/p.json
    _caps_policy "$p" ""
    run_job launch --policy "$p" -- "$J" reuse /data/f /ro/b
    expect_status 0 || return
    expect_checks_pass
}

# _pattern FILE SIZE : byte i = (i * 7 + i / 4096) & 0xff (what guest/tests/readcache.c checks)
_pattern() {
    py -c 'import sys
n = int(sys.argv[2])
open(sys.argv[1], "wb").write(bytes(((i * 7 + i // 4096) & 0xff) for i in range(n)))' "$1" "$2"
}

# The firmware's read cache: sequential reads see exactly the file, whatever comes in between.
c_caps_read_cache() { # VARIANT
    need "readcache.$1" || return
    _caps_tree
    local p=$WORK/case/p.json r=$WORK/case/r.json
    _caps_policy "$p" ""
    _pattern "$CT/ro/pat" 1000003
    run_job launch --policy "$p" --report "$r" -- "$J" verify /ro/pat 1000003
    expect_status 0 || return
    expect_checks_pass || return
    expect_report_ge "$r" read_cache_hits 100
    expect_report_ge "$r" read_cache_fills 2
}

# A revocation from outside stops reads the firmware would answer from its cache.
c_caps_read_cache_revoke() { # VARIANT
    need "readcache.$1" || return
    _caps_tree
    local p=$WORK/case/p.json sock=$WORK/case/ctl.sock out=$WORK/case/job.out err=$WORK/case/job.err pid i
    _caps_policy "$p" ""
    _pattern "$CT/ro/pat" 600000
    timeout -k 5 120 "$ISOVM" launch --policy "$p" --control "$sock" -- "$J" spin /ro/pat \
        </dev/null >"$out" 2>"$err" &
    pid=$!
    for ((i = 0; i < 600; i++)); do grep -q ready "$out" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$out" || { fail "the job did not print ready"; kill "$pid"; wait "$pid"; return 1; }
    sleep 1 # let it read through the cache for a while
    run_cmd "$ISOVM" cap revoke --control "$sock" --path /ro
    expect_status 0 "cap revoke --path /ro" || { kill "$pid"; wait "$pid"; return 1; }
    wait "$pid"
    RC=$?
    OUT_FILE=$out
    ERR_FILE=$err
    expect_status 0 "the job"
    grep -q "read failed errno=$(py -c 'import errno; print(errno.EKEYREVOKED)') after" "$out" ||
        fail "the job's reads did not stop with EKEYREVOKED: $(tail -n 2 "$out")"
}

if ! native; then
    for v in $V2; do
        add_case "caps/read cache: exact bytes and positions readcache.$v" with_budget 30 c_caps_read_cache "$v"
        add_case "caps/read cache: revoked from outside readcache.$v" with_budget 40 c_caps_read_cache_revoke "$v"
        add_case "caps/attenuate and amplify caps.$v" with_budget 20 c_caps_attenuate "$v"
        add_case "caps/expiry at the next use caps.$v" with_budget 30 c_caps_expire "$v"
        add_case "caps/revoking a directory closes files beneath caps.$v" with_budget 20 c_caps_revoke_dir "$v"
        add_case "caps/limit without leaks caps.$v" with_budget 20 c_caps_limit "$v"
        add_case "caps/reused descriptor number caps.$v" with_budget 20 c_caps_reuse "$v"
    done
fi
