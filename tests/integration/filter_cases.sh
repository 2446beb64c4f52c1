# Syscall filter cases (issue 4, part 1): the kill, errno and log actions, the errno defaults,
# the "none" profile with an allow list, hostile numbers, and what the report says about them.
# shellcheck shell=bash
# Sourced by run.sh: uses V4, V2, WORK, GUEST_DIR, ISOVM and lib.sh. Every case name starts with
# "filter/", so `run.sh filter/` runs just these. The jobs are guest/tests/blocked.c (one
# syscall named on its command line, then "ret=R errno=E", exit 0) and hello_raw.raw (write,
# exit_group). None is registered with ISOVM_NATIVE=1: the filter is isovm's.

# Every report key the filter adds, by type (see expect_report_schema).
FILTER_REPORT_INTS="exit_status hypercalls_total unknown_syscalls_total filtered_syscalls_total
    filter_logged_total denials_total"
FILTER_REPORT_OBJS="policy syscalls unknown_syscalls filtered_syscalls denials vm_exits"

# _fc_policy JSON : write the policy into the case's directory; P is its path
_fc_policy() {
    P=$WORK/case/policy.json
    printf '%s\n' "$1" >"$P"
}

# _fc_report_common REPORT : the filter's report keys are there and add up
_fc_report_common() {
    local r=$1
    expect_report "$r" isovm_report_version 3 || return
    expect_report_schema "$r" "$FILTER_REPORT_INTS" "$FILTER_REPORT_OBJS" || return
    expect_report_match "$r" '^  "host_timing_fields": \[.*"wall_time_ns".*"cpu_time_ns".*\]$' \
        'host_timing_fields missing or without wall_time_ns, cpu_time_ns' || return
    [ -n "$PYTHON3" ] || return 0
    local msg
    if ! msg=$(py - "$r" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = []
if sum(r["filtered_syscalls"].values()) != r["filtered_syscalls_total"]:
    bad.append("filtered_syscalls does not add up to filtered_syscalls_total")
if sum(r["denials"].values()) != r["denials_total"]:
    bad.append("denials does not add up to denials_total")
if r["denials"].get("syscall-filter") != r["filtered_syscalls_total"]:
    bad.append("denials.syscall-filter != filtered_syscalls_total")
f = r.get("filter", {})
if set(f) != {"profile", "action", "errno"}:
    bad.append("filter keys are %s" % sorted(f))
for k in r["host_timing_fields"]:
    if k not in r:
        bad.append("host_timing_fields names %s, which the report lacks" % k)
if bad:
    print("; ".join(bad)); sys.exit(1)
PY
    ); then
        fail "report: $msg"
        return 1
    fi
}

# _fc_audit_names LOG EVENT SYSCALL [ERRNO-NAME] : the audit log has an EVENT line naming SYSCALL
_fc_audit_names() {
    [ -f "$1" ] || { fail "no audit log at $1"; return 1; }
    py - "$@" <<'PY' 2>"$WORK/case/audit.err" || { fail "audit log: $(tail -n 2 "$WORK/case/audit.err")"; return 1; }
import json, sys
log, event, name = sys.argv[1:4]
want_errno = sys.argv[4] if len(sys.argv) > 4 else None
lines = [json.loads(l) for l in open(log)]
hits = [l for l in lines if l.get("event") == event and l.get("syscall") == name]
assert hits, "no %s event naming %s in %d lines" % (event, name, len(lines))
if event == "deny":
    assert hits[0].get("kind") == "syscall-filter", hits[0]
if want_errno:
    assert hits[0].get("errno") == want_errno, hits[0]
PY
}

# action kill: the job ends with SIGSYS (159), stderr, report and audit log name the syscall
c_fc_kill() { # VARIANT DENY-ENTRY (a name or a number)
    need "blocked.$1" || return
    local r=$WORK/case/report.json
    _fc_policy "{\"syscalls\": {\"profile\": \"default\", \"deny\": [$2], \"action\": \"kill\"}}"
    run_isovm launch --policy "$P" --report "$r" --audit "$WORK/case/audit.jsonl" -- "$J" getpid
    expect_status 159 || { _show_outputs; return; }
    expect_stdout_eq "" || return
    expect_stderr_has "isovm: job killed by SIGSYS: syscall getpid (39) blocked by the syscall filter" ||
        return
    expect_report "$r" exit_reason '"signal"'
    expect_report "$r" exit_status 159
    expect_report "$r" signal '"SIGSYS"'
    expect_report_match "$r" '^    "getpid": 1,?$' 'filtered_syscalls lacks "getpid": 1'
    expect_report "$r" filtered_syscalls_total 1
    expect_report_match "$r" '^    "syscall-filter": 1,?$' 'denials lacks "syscall-filter": 1'
    expect_report_match "$r" '^    "action": "kill",?$' 'filter.action is not "kill"'
    _fc_audit_names "$WORK/case/audit.jsonl" deny getpid
    _fc_report_common "$r"
}

# action errno: the job gets the errno and goes on
c_fc_errno() { # VARIANT PROFILE SYSCALL ERRNO-JSON-OR-EMPTY WANT-ERRNO
    need "blocked.$1" || return
    local r=$WORK/case/report.json e=""
    [ -n "$4" ] && e=", \"errno\": $4"
    _fc_policy "{\"syscalls\": {\"profile\": \"$2\", \"deny\": [\"$3\"], \"action\": \"errno\"$e}}"
    run_isovm launch --policy "$P" --report "$r" --audit "$WORK/case/audit.jsonl" -- "$J" "$3"
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_eq "ret=-1 errno=$5" || return
    _fc_audit_names "$WORK/case/audit.jsonl" deny "$3" "$(py -c 'import errno, sys; print(errno.errorcode[int(sys.argv[1])])' "$5")" || return
    expect_report "$r" exit_reason '"exit"'
    expect_report_match "$r" "^    \"$3\": 1,?\$" "filtered_syscalls lacks \"$3\": 1"
    expect_report "$r" filtered_syscalls_total 1
    expect_report_match "$r" "^    \"errno\": $5\$" "filter.errno is not $5"
    expect_report_match "$r" "^    \"profile\": \"$2\",\$" "filter.profile is not $2"
    _fc_report_common "$r"
}

# the deterministic profile's default errno is EPERM; socket is not in it
c_fc_deterministic_socket() { # VARIANT
    need "blocked.$1" || return
    local r=$WORK/case/report.json
    _fc_policy '{"syscalls": {"profile": "deterministic"}}'
    run_isovm launch --policy "$P" --report "$r" -- "$J" socket
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_eq "ret=-1 errno=1" || return
    expect_report_match "$r" '^    "socket": 1,?$' 'filtered_syscalls lacks "socket": 1'
    expect_report "$r" filtered_syscalls_total 1 # libc start-up needed nothing outside the profile
    _fc_report_common "$r"
}

# action log: the call runs normally and is counted
c_fc_log() { # VARIANT
    need "blocked.$1" || return
    local r=$WORK/case/report.json
    _fc_policy '{"syscalls": {"profile": "default", "deny": ["getpid"], "action": "log"}}'
    run_isovm launch --policy "$P" --report "$r" --audit "$WORK/case/audit.jsonl" -- "$J" getpid
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_eq "ret=1 errno=0" || return
    _fc_audit_names "$WORK/case/audit.jsonl" syscall-log getpid || return
    expect_report "$r" filter_logged_total 1
    expect_report "$r" filtered_syscalls_total 0
    expect_report_match "$r" '^    "39": 1,?$' 'syscalls lacks "39": 1 (getpid ran)'
    _fc_report_common "$r"
}

# profile none + an allow list of exactly what a raw program needs
c_fc_none_raw() { # ALLOW-LIST WANT-STATUS WANT-STDOUT [STDERR-TEXT]
    need hello_raw.raw || return
    local r=$WORK/case/report.json
    _fc_policy "{\"syscalls\": {\"profile\": \"none\", \"allow\": [$1], \"action\": \"kill\"}}"
    run_isovm launch --policy "$P" --report "$r" -- "$J"
    expect_status "$2" || { _show_outputs; return; }
    expect_stdout_eq "$3" || return
    if [ -n "${4:-}" ]; then
        expect_stderr_has "$4" || return
        expect_report "$r" signal '"SIGSYS"'
    elif [ -s "$ERR_FILE" ]; then
        fail "stderr not empty"
        _show_outputs
        return
    fi
    _fc_report_common "$r"
}

# numbers isovm has never heard of get the action too
c_fc_hostile() { # VARIANT ACTION NUMBER WANT-STATUS WANT-STDOUT [STDERR-TEXT]
    need "blocked.$1" || return
    local r=$WORK/case/report.json
    _fc_policy "{\"syscalls\": {\"profile\": \"default\", \"action\": \"$2\", \"errno\": \"EACCES\"}}"
    run_isovm launch --policy "$P" --report "$r" -- "$J" "$3"
    expect_status "$4" || { _show_outputs; return; }
    expect_stdout_eq "$5" || return
    [ -n "${6:-}" ] && { expect_stderr_has "$6" || return; }
    expect_report "$r" filtered_syscalls_total 1
    expect_report_ge "$r" unknown_syscalls_total 1
    _fc_report_common "$r"
}

# action log on a number isovm lacks: logged, then ENOSYS as any unknown number
c_fc_hostile_log() { # VARIANT
    need "blocked.$1" || return
    local r=$WORK/case/report.json
    _fc_policy '{"syscalls": {"profile": "default", "action": "log"}}'
    run_isovm launch --policy "$P" --report "$r" -- "$J" 5000
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_eq "ret=-1 errno=38" || return
    expect_report "$r" filter_logged_total 1
    expect_report "$r" filtered_syscalls_total 0
    expect_report_match "$r" '^    "5000": 1,?$' 'unknown_syscalls lacks "5000": 1'
    _fc_report_common "$r"
}

if ! native; then
    for v in $V4; do
        add_case "filter/kill getpid by name blocked.$v" c_fc_kill "$v" '"getpid"'
    done
    add_case "filter/kill getpid by number blocked.musl" c_fc_kill musl 39
    for v in $V2; do
        add_case "filter/errno EACCES blocked.$v" c_fc_errno "$v" default uname '"EACCES"' 13
        add_case "filter/errno default ENOSYS under default blocked.$v" \
            c_fc_errno "$v" default getppid "" 38
        add_case "filter/errno default EPERM under deterministic blocked.$v" \
            c_fc_errno "$v" deterministic getpid "" 1
        add_case "filter/errno numeric 13 blocked.$v" c_fc_errno "$v" default gettid 13 13
        add_case "filter/log getpid blocked.$v" c_fc_log "$v"
    done
    for v in $V4; do
        add_case "filter/deterministic profile refuses socket blocked.$v" c_fc_deterministic_socket "$v"
    done
    add_case "filter/none + allow write, exit_group: hello_raw.raw" c_fc_none_raw \
        '"write", "exit_group"' 0 "raw hello"
    add_case "filter/none + allow exit_group only: hello_raw.raw killed" c_fc_none_raw \
        '"exit_group"' 159 "" "syscall write (1) blocked by the syscall filter"
    add_case "filter/hostile 5000 kill blocked.musl" c_fc_hostile musl kill 5000 159 "" \
        "syscall 5000 blocked by the syscall filter"
    add_case "filter/hostile -1 kill blocked.glibc" c_fc_hostile glibc kill -1 159 "" \
        "syscall -1 blocked by the syscall filter"
    add_case "filter/hostile -1 errno blocked.musl" c_fc_hostile musl errno -1 0 "ret=-1 errno=13"
    add_case "filter/hostile 1023 errno blocked.glibc-pie" c_fc_hostile glibc-pie errno 1023 0 \
        "ret=-1 errno=13"
    add_case "filter/hostile 5000 log blocked.musl" c_fc_hostile_log musl
fi
