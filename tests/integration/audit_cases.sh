# Audit log and outside revocation cases (issue 4): a running job's console-derived capabilities
# are listed and revoked with `isovm cap` through the control socket while it runs; the audit
# log is valid JSON lines with grant, derive, revoke and deny events and full chains.
# shellcheck shell=bash
# Sourced by run.sh: uses WORK, GUEST_DIR, ISOVM and lib.sh. Every case name starts with
# "audit/", so `run.sh audit` runs just these. Needs python3 (the JSON checks). isovm only.
#
# The log and the socket are set with the policy keys "audit" and "control" (--set), the job id
# with "job_id" (docs/policy.md).

# _audit_opts LOG SOCKET : the launch options that name them
_audit_opts() {
    AUDIT_OPTS=(--set "audit=$1" --set "control=$2" --set job_id=audit-test)
}

# _wait_for FILE TEXT SECONDS : wait until FILE has a line containing TEXT; 1 on timeout
_wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# _audit_py LOG PROGRAM [ARGS...] : run a python3 check over the log's parsed lines (`lines`;
# ARGS in sys.argv[2:]); its output lines are failures
_audit_py() {
    local log=$1 prog=$2
    shift 2
    py -c "
import json, sys
lines = []
for n, l in enumerate(open(sys.argv[1], 'rb').read().decode('utf-8').split('\n')[:-1], 1):
    try:
        lines.append(json.loads(l))
    except Exception as e:
        print('line %d is not JSON: %s: %r' % (n, e, l[:200]))
        sys.exit(0)
$prog
" "$log" "$@"
}

# The job holds a read copy of stdin, a write copy of stdout and a copy of that copy; they are
# revoked from outside, one subtree at a time, while it runs.
c_audit_revoke_outside() {
    need "cap_hold.$1" || return
    native && return
    local log=$WORK/case/audit.log sock=$WORK/case/ctl.sock out=$WORK/case/job.out
    local err=$WORK/case/job.err pid rc line rcap wcap w2cap
    _audit_opts "$log" "$sock"
    timeout -k 5 120 "$ISOVM" launch "${AUDIT_OPTS[@]}" -- "$J" 90 </dev/null >"$out" 2>"$err" &
    pid=$!
    if ! _wait_for "$out" ready 60; then
        fail "the job did not print ready"
        kill "$pid" 2>/dev/null
        wait "$pid"
        CASE_DETAIL+="    job stdout: $(head -c 300 "$out")"$'\n'"    job stderr: $(head -c 300 "$err")"$'\n'
        return
    fi
    line=$(grep -m1 ready "$out")
    rcap=$(sed -n 's/.* rcap=\([0-9]*\).*/\1/p' <<<"$line")
    wcap=$(sed -n 's/.* wcap=\([0-9]*\).*/\1/p' <<<"$line")
    w2cap=$(sed -n 's/.* w2cap=\([0-9]*\).*/\1/p' <<<"$line")
    [ -S "$sock" ] || fail "no socket at $sock while the job runs"
    if [ "$(stat -c %a "$sock")" != 600 ]; then fail "socket mode $(stat -c %a "$sock"), want 600"; fi

    # list: the console roots and the three copies
    run_cmd "$ISOVM" cap list --control "$sock"
    expect_status 0 "cap list"
    expect_stdout_has "CAP"
    grep -qE "^$wcap +2 +console +derive +write " "$OUT_FILE" ||
        fail "cap list has no row for capability $wcap (derived from 2, write)"
    grep -qE "^$w2cap +$wcap +console +derive " "$OUT_FILE" ||
        fail "cap list has no row for capability $w2cap (derived from $wcap)"
    run_cmd "$ISOVM" cap list --json --control "$sock"
    expect_status 0 "cap list --json"
    py -c '
import json, sys
caps = {c["cap"]: c for c in map(json.loads, open(sys.argv[1]).read().splitlines())}
assert caps[int(sys.argv[2])]["parent"] == 1 and caps[int(sys.argv[2])]["rights"] == ["read"], caps
assert caps[int(sys.argv[3])]["refs"] == 1 and not caps[int(sys.argv[3])]["revoked"], caps
' "$OUT_FILE" "$rcap" "$wcap" 2>"$WORK/case/py.err" || fail "cap list --json: $(tail -n1 "$WORK/case/py.err")"
    run_cmd "$ISOVM" cap info --control "$sock"
    expect_status 0 "cap info"
    expect_stdout_has '"job":"audit-test"'

    # refusals: the console itself, an id that does not exist
    run_cmd "$ISOVM" cap revoke --control "$sock" 2
    expect_status 1 "revoking the console"
    expect_stderr_has "EPERM"
    run_cmd "$ISOVM" cap revoke --control "$sock" 999
    expect_status 1 "revoking a capability that does not exist"
    expect_stderr_has "ENOENT no capability 999"

    # the write copy and the copy derived from it
    run_cmd "$ISOVM" cap revoke --control "$sock" "$wcap"
    expect_status 0 "cap revoke $wcap"
    expect_stdout_has "revoked 2 capabilities"
    _wait_for "$out" "revoked write2" 30 || fail "the job did not see its write copies revoked"
    grep -q "revoked read" "$out" && fail "the read copy was revoked with the write copy"
    run_cmd "$ISOVM" cap revoke --control "$sock" "$rcap"
    expect_status 0 "cap revoke $rcap"
    expect_stdout_has "revoked 1 capability"

    wait "$pid"
    rc=$?
    if [ "$rc" != 0 ]; then
        fail "job exit status $rc, want 0"
        CASE_DETAIL+="    job stdout: $(head -c 300 "$out")"$'\n'"    job stderr: $(head -c 300 "$err")"$'\n'
    fi
    grep -qx "all revoked" "$out" || fail "the job did not report every copy revoked"
    [ -e "$sock" ] && fail "the socket file is left after the job ended"

    # the log: valid JSON lines, the events and full chains
    local problems
    problems=$(_audit_py "$log" "
r, w, w2 = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ev = lambda e: [l for l in lines if l['event'] == e]
for l in lines:
    for k in ('time', 't_ns', 'job', 'event', 'by'):
        if k not in l: print('line without %s: %s' % (k, l))
    if l.get('job') != 'audit-test': print('job id', l.get('job'))
grants = [l['cap'] for l in ev('grant')]
if grants[:3] != [1, 2, 3]: print('console grants', grants)
d = {l['cap']: l for l in ev('derive')}
for c in (r, w, w2):
    if c not in d: print('no derive of', c)
if w2 in d:
    ch = [(x['cap'], x['how']) for x in d[w2]['chain']]
    if ch != [(2, 'console'), (w, 'derive'), (w2, 'derive')]: print('chain of', w2, ch)
    if d[w2].get('syscall') != 'isovm_cap_derive': print('derive syscall', d[w2].get('syscall'))
    if d[w2]['chain'][0].get('console') != 'stdout': print('chain root', d[w2]['chain'][0])
rv = [(l['cap'], l['by']) for l in ev('revoke')]
if rv != [(w, 'control'), (w2, 'control'), (r, 'control')]: print('revokes', rv)
deny = [l for l in ev('deny') if l.get('kind') == 'revoked']
if not any(l['cap'] == w2 and l.get('errno') == 'EKEYREVOKED' and l.get('syscall') == 'write'
           and len(l['chain']) == 3 for l in deny):
    print('no revoked write denial of', w2, deny[:2])
" "$rcap" "$wcap" "$w2cap" 2>&1)
    [ -n "$problems" ] && fail "audit log: $(head -n3 <<<"$problems" | tr '\n' '|')"
    if ! py -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$log"; then
        fail "the audit log is not JSON lines"
    fi
    [ "$(stat -c %a "$log")" = 600 ] || fail "audit log mode $(stat -c %a "$log"), want 600"
}

# The VMM refuses what it cannot set up: a log it cannot open, a socket path taken by a file or
# by a live socket. The client names the path it cannot reach.
c_audit_setup_errors() {
    need hello.musl || return
    native && return
    local sock=$WORK/case/ctl.sock
    run_isovm launch --set "audit=$WORK/case/no/such/dir/a.log" -- "$J"
    expect_status 125 "unopenable audit log"
    expect_stderr_has "$WORK/case/no/such/dir/a.log"
    : >"$WORK/case/plain"
    run_isovm launch --set "control=$WORK/case/plain" -- "$J"
    expect_status 125 "control path is a regular file"
    expect_stderr_has "not a socket"
    [ -f "$WORK/case/plain" ] || fail "the regular file was removed"
    run_cmd "$ISOVM" cap list --control "$WORK/case/none.sock"
    expect_status 125 "cap list on a missing socket"
    expect_stderr_has "$WORK/case/none.sock"
    run_cmd "$ISOVM" cap revoke --control "$sock"
    expect_status 125 "cap revoke without an id"
    expect_stderr_has "usage"
    # a stale socket (its VMM gone) is replaced; hello runs, logs and leaves no socket
    py -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
    run_isovm launch --set "control=$sock" --set "audit=$WORK/case/a.log" -- "$J"
    expect_status 0 "stale socket replaced"
    expect_stdout_eq "hello from isovm"
    [ -e "$sock" ] && fail "socket left after the job"
    py -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$WORK/case/a.log" ||
        fail "the audit log is not JSON lines"
    grep -q '"event":"grant"' "$WORK/case/a.log" || fail "no grant lines in the log"
}

add_case "audit/revoke from outside cap_hold.musl" c_audit_revoke_outside musl
add_case "audit/revoke from outside cap_hold.glibc-pie" c_audit_revoke_outside glibc-pie
add_case "audit/setup errors" c_audit_setup_errors
