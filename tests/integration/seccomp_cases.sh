# The VMM's own seccomp filter (issue 5, part 3; docs/security.md): installed while a job runs
# (/proc/PID/status), absent with --no-seccomp (and the warning printed), and a forbidden host
# syscall made by the VMM after installation (test hooks of $BUILD/isovm-hooks) kills it with
# SIGSYS, while the same hook under --no-seccomp makes the call and lives on.
# shellcheck shell=bash
# Sourced by run.sh: uses WORK, GUEST_DIR, ISOVM and lib.sh. Names start with "seccomp/".
# Needs python3 (to tell death by SIGSYS from an exit status of 159).

ISOVM_HOOKS=${ISOVM_HOOKS:-$ISOVM-hooks}
SECCOMP_WARNING="WARNING: --no-seccomp"

# _sc_status_field PID FIELD : the value of FIELD in /proc/PID/status (empty if gone)
_sc_status_field() {
    sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}

# c_seccomp_status WANT_SECCOMP [ISOVM OPTIONS...] : a spinning job; while it runs, the VMM's
# Seccomp mode is WANT_SECCOMP (2: filter, 0: none), with NoNewPrivs and Seccomp_filters to match.
c_seccomp_status() {
    native && return
    need spin.musl || return
    local want=$1
    shift
    OUT_FILE="$WORK/out"
    ERR_FILE="$WORK/err"
    "$ISOVM" launch --timeout 20s "$@" -- "$J" 8 >"$OUT_FILE" 2>"$ERR_FILE" &
    local pid=$! mode="" filters="" nnp="" i
    # the filter goes on after setup, just before the first guest instruction: wait for the
    # spinning vCPU thread (Threads >= 2) before looking
    for ((i = 0; i < 100; i++)); do
        if [ "$(_sc_status_field "$pid" Threads)" -ge 2 ] 2>/dev/null; then
            mode=$(_sc_status_field "$pid" Seccomp)
            filters=$(_sc_status_field "$pid" Seccomp_filters)
            nnp=$(_sc_status_field "$pid" NoNewPrivs)
            break
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid"
    RC=$?
    HUNG=0
    if [ -z "$mode" ]; then
        fail "never saw the VMM (pid $pid) with its vCPU thread running"
        _show_outputs
        return
    fi
    [ "$mode" = "$want" ] || fail "Seccomp: $mode in /proc/$pid/status, want $want"
    if [ "$want" = 2 ]; then
        [ "${filters:-0}" -ge 1 ] || fail "Seccomp_filters: $filters, want >= 1"
        [ "$nnp" = 1 ] || fail "NoNewPrivs: $nnp, want 1"
    else
        [ "${filters:-0}" = 0 ] || fail "Seccomp_filters: $filters, want 0"
    fi
    expect_status 143 "isovm ends the job when it gets SIGTERM" # SIGTERM: 128 + 15
}

# _sc_run_hook HOOK [ISOVM OPTIONS...] : run hello.musl under isovm-hooks with HOOK; sets RC,
# and SIG to the signal that ended isovm (python3's view of the wait status; empty: it exited;
# 60 s at most, then status 124)
_sc_run_hook() {
    local hook=$1
    shift
    OUT_FILE="$WORK/out"
    ERR_FILE="$WORK/err"
    HUNG=0
    local res
    res=$(py -c '
import os, subprocess, sys
env = dict(os.environ, ISOVM_TEST_HOOK=sys.argv[2])
with open(sys.argv[1] + "/out", "w") as out, open(sys.argv[1] + "/err", "w") as err:
    try:
        r = subprocess.run(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                           timeout=60)
        print(r.returncode)
    except subprocess.TimeoutExpired:
        print(124)' "$WORK" "$hook" "$ISOVM_HOOKS" launch "$@" -- "$J")
    RC=$res
    SIG=""
    case $res in -*) SIG=${res#-}; RC=$((128 + SIG)) ;; esac
}

# c_seccomp_hook HOOK : with the filter, the hook's forbidden call kills the VMM by SIGSYS (31)
# before it returns (no "test hook HOOK: the call returned" line, no job output).
c_seccomp_hook() {
    native && return
    need hello.musl || return
    [ -x "$ISOVM_HOOKS" ] || { fail "no $ISOVM_HOOKS (make all builds it)"; return; }
    _sc_run_hook "$1"
    if [ "$SIG" != 31 ]; then
        fail "isovm ended with ${SIG:+signal $SIG}${SIG:-exit status $RC}, want death by SIGSYS (31)"
        _show_outputs
    fi
    expect_status 159
    if grep -q "test hook $1: the call returned" "$ERR_FILE"; then
        fail "the forbidden call returned"
        _show_outputs
    fi
    expect_stdout_eq ""
}

# c_seccomp_hook_off HOOK WANT_STATUS : under --no-seccomp the same hook makes its call and the
# VMM is not killed (the warning is printed; WANT_STATUS: 0, the job ran).
c_seccomp_hook_off() {
    native && return
    need hello.musl || return
    [ -x "$ISOVM_HOOKS" ] || { fail "no $ISOVM_HOOKS (make all builds it)"; return; }
    _sc_run_hook "$1" --no-seccomp
    [ -z "$SIG" ] || fail "isovm was killed by signal $SIG under --no-seccomp"
    expect_status "$2"
    expect_stderr_has "$SECCOMP_WARNING"
    expect_stderr_has "test hook $1: the call returned"
    expect_stdout_eq "hello from isovm"
}

# c_seccomp_warning : --no-seccomp prints its warning exactly once, the job runs as usual; without
# it there is no warning.
c_seccomp_warning() {
    native && return
    need hello.musl || return
    run_isovm launch --no-seccomp -- "$J"
    expect_status 0
    expect_stdout_eq "hello from isovm"
    local n
    n=$(grep -c -- "$SECCOMP_WARNING" "$ERR_FILE")
    [ "$n" = 1 ] || fail "the warning appears $n times, want 1"
    run_isovm launch -- "$J"
    expect_status 0
    if grep -q -- "$SECCOMP_WARNING" "$ERR_FILE"; then
        fail "a warning without --no-seccomp"
    fi
}

# c_seccomp_help : --help documents the option
c_seccomp_help() {
    native && return
    run_isovm --help
    expect_status 0
    expect_stdout_has "--no-seccomp"
}

add_case "seccomp/installed while a job runs" c_seccomp_status 2
add_case "seccomp/installed with a control socket and a report" c_seccomp_status 2 \
    --control "$WORK/ctl.sock" --report "$WORK/report.json"
add_case "seccomp/not installed with --no-seccomp" c_seccomp_status 0 --no-seccomp
add_case "seccomp/--no-seccomp warns once" c_seccomp_warning
add_case "seccomp/--help names --no-seccomp" c_seccomp_help
for _h in execve fork ioctl mmap-exec open-cwd socket-netlink; do
    add_case "seccomp/hook $_h: killed by SIGSYS" c_seccomp_hook "seccomp-$_h"
done
# under --no-seccomp: each call is really made (execve replaces isovm by echo: no job output)
add_case "seccomp/hook fork: made under --no-seccomp" c_seccomp_hook_off seccomp-fork 0
add_case "seccomp/hook ioctl: made under --no-seccomp" c_seccomp_hook_off seccomp-ioctl 0
add_case "seccomp/hook mmap-exec: made under --no-seccomp" c_seccomp_hook_off seccomp-mmap-exec 0
add_case "seccomp/hook open-cwd: made under --no-seccomp" c_seccomp_hook_off seccomp-open-cwd 0
add_case "seccomp/hook socket-netlink: made under --no-seccomp" c_seccomp_hook_off \
    seccomp-socket-netlink 0

c_seccomp_execve_off() {
    native && return
    need hello.musl || return
    [ -x "$ISOVM_HOOKS" ] || { fail "no $ISOVM_HOOKS (make all builds it)"; return; }
    _sc_run_hook seccomp-execve --no-seccomp
    [ -z "$SIG" ] || fail "isovm was killed by signal $SIG under --no-seccomp"
    expect_status 0
    expect_stdout_eq "seccomp-execve: the new program ran"
}
add_case "seccomp/hook execve: made under --no-seccomp" c_seccomp_execve_off
unset _h
