# Helpers for tests/integration/run.sh: case registry, running isovm with a per-case time budget,
# and expectations on exit status, stdout, stderr and the --report JSON.
# Needs only bash, coreutils, grep and sed.
#
# A case is a shell function; it calls run_isovm (or run_cmd) and then expect_* helpers. The first
# failed expectation becomes the case's FAIL reason; later ones are printed as detail lines.
#
# ISOVM_NATIVE=1 runs the jobs directly on the host instead of under isovm (to check the jobs and
# the expectations themselves): `launch` options are translated (--env -> env -i K=V), and checks
# that only make sense for isovm (fault messages, reports, CLI errors, ELF refusal) are skipped.

CASE_TIMEOUT=${CASE_TIMEOUT:-60}
ISOVM_NATIVE=${ISOVM_NATIVE:-0}

# PYTHON3: the python3 of every case's JSON checks and helpers, looked for once: /usr/bin/python3
# before the one PATH finds, which may be a wrapper (pyenv's shim is a bash script: 5-8 s per
# start in the emulated host, against 0.5-0.9 s for the interpreter). Empty if there is none.
if [ -z "${PYTHON3:-}" ]; then
    for PYTHON3 in /usr/bin/python3 "$(command -v python3 2>/dev/null)" ""; do
        [ -n "$PYTHON3" ] && [ -x "$PYTHON3" ] && "$PYTHON3" -c 'import json' >/dev/null 2>&1 && break
    done
fi

# --- py: python3 for short scripts, through one interpreter per run ----------------------------
# `py - ARGS... <<'PY' ... PY` (the script on stdin) and `py -c CODE ARGS...` (data on stdin) do
# what "$PYTHON3" would, in a python3 that run.sh starts once (py_start) instead of one per call:
# each start costs 0.4-0.9 s in the emulated host, and the cases make hundreds of JSON checks.
# The server runs the script with the caller's stdin, stdout, stderr (the very same open files,
# taken with pidfd_getfd; /proc/PID/fd opened again where that fails) and cwd, sys.argv as
# python3 would set it, and answers its exit status
# (sys.exit's, or 1 and the traceback on stderr for an exception). Without the server (not
# started, gone, or a call that outlived the case's time) py starts "$PYTHON3" as before.
# Long-running helpers (net_peer.py, http.server) and anything needing its own environment or
# process are started with "$PYTHON3" itself.
PY_SERVER_CODE='
import ctypes, gc, os, sys, traceback
libc = ctypes.CDLL(None, use_errno=True)
def take(pid, n):
    """the caller fd n itself (pidfd_getfd, syscall 438), or /proc/PID/fd/n opened again"""
    try:
        pfd = os.pidfd_open(int(pid))
        try:
            fd = libc.syscall(438, pfd, n, 0)
        finally:
            os.close(pfd)
        if fd >= 0:
            return fd
    except OSError:
        pass
    return os.open("/proc/%s/fd/%d" % (pid, n), os.O_RDONLY if n == 0 else os.O_WRONLY | os.O_APPEND)
req = os.fdopen(os.open(sys.argv[1], os.O_RDWR), "rb", buffering=0)
resp = os.fdopen(os.open(sys.argv[2], os.O_RDWR), "w", buffering=1)
buf = b""
def field():
    global buf
    while b"\0" not in buf:
        more = req.read(65536)
        if not more:
            sys.exit(0)
        buf += more
    f, buf = buf.split(b"\0", 1)
    return f.decode("utf-8", "surrogateescape")
while True:
    pid, fd_in, fd_out, fd_err, mode, n = field(), field(), field(), field(), field(), int(field())
    args = [field() for _ in range(n)]
    p = "/proc/%s/" % pid
    saved = [os.dup(0), os.dup(1), os.dup(2)]
    saved_sys, cwd, rc, g = (sys.stdin, sys.stdout, sys.stderr, sys.argv), os.getcwd(), 0, {}
    try:
        fds = [take(pid, int(fd_in)), take(pid, int(fd_out)), take(pid, int(fd_err))]
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
            os.close(fd)
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False, buffering=1)
        os.chdir(os.readlink(p + "cwd"))
        if mode == "-c":
            code, name, sys.argv = args[0], "<string>", ["-c"] + args[1:]
        else:
            code, name, sys.argv = sys.stdin.read(), "<stdin>", ["-"] + args
        g = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(code, name, "exec"), g)
    except SystemExit as e:
        if e.code is None:
            rc = 0
        elif isinstance(e.code, int):
            rc = e.code & 0xff
        else:
            sys.stdout.flush() # as python3 does before it prints the message
            print(e.code, file=sys.stderr)
            rc = 1
    except BaseException:
        sys.stdout.flush() # as python3 does before it prints the traceback
        t, v, tb = sys.exc_info()
        traceback.print_exception(t, v, tb.tb_next) # from the script down, as python3 prints it
        rc = 1
    finally:
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except Exception:
                pass
        g.clear()
        gc.collect()
        sys.stdin, sys.stdout, sys.stderr, sys.argv = saved_sys
        for i, fd in enumerate(saved):
            os.dup2(fd, i)
            os.close(fd)
        os.chdir(cwd)
    resp.write("%s %d\n" % (pid, rc))
'
PY_PID=""

# py_start : the server (once per run; run.sh calls it, and a failed start leaves py to start
# "$PYTHON3" every time)
py_start() {
    [ -n "$PYTHON3" ] && [ -z "$PY_PID" ] || return 0
    rm -f "$WORK/py.req" "$WORK/py.resp"
    mkfifo "$WORK/py.req" "$WORK/py.resp" || return 0
    exec {PY_REQ}<>"$WORK/py.req" {PY_RESP}<>"$WORK/py.resp"
    "$PYTHON3" -c "$PY_SERVER_CODE" "$WORK/py.req" "$WORK/py.resp" </dev/null >/dev/null 2>&1 &
    PY_PID=$!
}

py_stop() { [ -z "$PY_PID" ] || kill "$PY_PID" 2>/dev/null; PY_PID=""; return 0; }

py() { # - ARGS... | -c CODE ARGS...
    if [ -z "$PY_PID" ] || ! kill -0 "$PY_PID" 2>/dev/null; then
        "$PYTHON3" "$@"
        return
    fi
    local mode=$1 line left in out err
    shift
    # the caller's stdin, stdout and stderr as other descriptors: writing the request redirects
    # stdout for a moment, and the server takes them as soon as it has read it
    exec {in}<&0 {out}>&1 {err}>&2
    printf '%s\0' "$BASHPID" "$in" "$out" "$err" "$mode" "$#" "$@" >&"$PY_REQ"
    left=$((CASE_DEADLINE - SECONDS))
    ((left > 0)) || left=1
    if ! IFS= read -r -t "$left" -u "$PY_RESP" line; then
        kill "$PY_PID" 2>/dev/null # a script that does not end: no server any more
        PY_PID=""
        fail "hang: a python check did not end within the case's time"
        exec {in}<&- {out}>&- {err}>&-
        return 1
    fi
    exec {in}<&- {out}>&- {err}>&-
    return "${line##* }"
}

declare -a CASE_NAMES=() CASE_CMDS=() CASE_FILES=()
PASSED=0
FAILED=0
declare -a FAILED_NAMES=()

# add_case NAME FUNCTION [ARGS...] (the file that calls it is recorded, for run.sh --file)
add_case() {
    local name=$1 f=1
    shift
    local cmd
    printf -v cmd '%q ' "$@"
    while [ "${BASH_SOURCE[$f]##*/}" = lib.sh ]; do f=$((f + 1)); done # add_case_san's caller
    CASE_NAMES+=("$name")
    CASE_CMDS+=("$cmd")
    CASE_FILES+=("${BASH_SOURCE[$f]##*/}")
}

# Is $ISOVM the sanitized build? (A case that measures timing accuracy, whose code paths other
# cases run under the sanitizers, is registered for the plain build only.)
san_isovm() {
    LC_ALL=C grep -q -a -m1 __asan_init "$ISOVM" 2>/dev/null
}

native() { [ "$ISOVM_NATIVE" = 1 ]; }

# Are the cases split between the two builds (docs/testing.md: a job's C-library variants, and
# the cases only one build runs)? Not in a native run, nor with ISOVM_TEST_SPLIT=0 (every case in
# either build: for a run of one build alone).
split_builds() { ! native && [ "${ISOVM_TEST_SPLIT:-1}" != 0 ]; }

# add_case_san NAME FUNCTION [ARGS...] : a case the sanitized build runs, and the plain one only
# when the cases are not split: a functional case of code both builds share, whose worth in a
# second run is what ASan and UBSan see (the Linux tier's: what the guest drives).
add_case_san() {
    if ! split_builds || san_isovm; then add_case "$@"; fi
}

# add_case_plain NAME FUNCTION [ARGS...] : a case the plain build runs, and the sanitized one
# only when the cases are not split: a measurement of timing accuracy, whose code paths another
# case runs under the sanitizers (the sanitized VMM's own CPU moves the measurement).
add_case_plain() {
    if ! split_builds || ! san_isovm; then add_case "$@"; fi
}

# timing_once : does this build take a timing case's measurement once, with its one-sided bound
# only (a throttle's time at least its rate's, a quota's share at most its own)? The sanitized
# build when the cases are split: the path is what it checks; the plain build measures accuracy.
timing_once() { split_builds && san_isovm; }

# --- per-case state ---------------------------------------------------------------------------
CASE_FAIL=""      # first failure reason
CASE_DETAIL=""    # further lines
CASE_DEADLINE=0
RC=0
HUNG=0
OUT_FILE=""
ERR_FILE=""
STDIN_FILE=/dev/null

fail() {
    if [ -z "$CASE_FAIL" ]; then
        CASE_FAIL=$1
    else
        CASE_DETAIL+="    also: $1"$'\n'
    fi
}

# need NAME.VARIANT : sets J to the job's path; fails the case if the job was not built.
need() {
    J="$GUEST_DIR/$1"
    if [ ! -f "$J" ]; then
        fail "job not built: $J"
        return 1
    fi
}

# with_stdin TEXT: the next run_isovm reads TEXT (exactly, no added newline) on stdin.
with_stdin() {
    STDIN_FILE="$WORK/stdin"
    printf '%s' "$1" >"$STDIN_FILE"
}

# --- the watchdog: a case's time limit without a timeout(1) per command ------------------------
# _timed used to start each command under timeout(1): one more program per command, 50-90 ms in
# the emulated host, for every launch of the suite. Now the command runs as a background job in
# a process group of its own (set -m) and is waited for, and one watchdog (a subshell started
# once, wd_start) ends a group that outlives its deadline as timeout -k 5 did: SIGTERM, then
# SIGKILL 5 s later. Requests on its FIFO: "add PGID DEADLINE" (EPOCHSECONDS), "del PGID". Without
# it (not started, or gone), timeout(1) as before.
WD_PID="" WD_CUR=""

_wd_loop() { # the watchdog's body: reads requests, looks at its groups every 0.2 s
    local -A due=() killed=()
    local op pg at now
    while :; do
        if IFS=' ' read -r -t 0.2 op pg at; then
            case $op in
                add) due[$pg]=$at ;;
                del) unset "due[$pg]" "killed[$pg]" ;;
                quit) return 0 ;;
            esac
            continue
        elif (($? <= 128)); then
            return 0 # end of file: run.sh is gone
        fi
        kill -0 "$$" 2>/dev/null || return 0 # run.sh is gone
        now=$EPOCHSECONDS
        for pg in "${!due[@]}"; do
            ((now >= due[$pg])) || continue
            if [ -z "${killed[$pg]:-}" ]; then
                kill -TERM -- "-$pg" 2>/dev/null
                killed[$pg]=1
                due[$pg]=$((now + 5))
            else
                kill -KILL -- "-$pg" 2>/dev/null
                unset "due[$pg]" "killed[$pg]"
            fi
        done
    done
}

wd_start() { # once per run (run.sh)
    [ -z "$WD_PID" ] || return 0
    rm -f "$WORK/wd.fifo"
    mkfifo "$WORK/wd.fifo" || return 0
    exec {WD_FD}<>"$WORK/wd.fifo"
    _wd_loop <&"$WD_FD" >/dev/null 2>&1 &
    WD_PID=$!
}

# wd_stop : the watchdog ends; so does a command still running (run.sh interrupted: the command
# is in a process group of its own, which a terminal's ^C does not reach)
wd_stop() {
    [ -z "${WD_CUR:-}" ] || kill -TERM -- "-$WD_CUR" 2>/dev/null
    [ -z "$WD_PID" ] || kill "$WD_PID" 2>/dev/null
    WD_PID="" WD_CUR=""
    return 0
}

# _timed CMD... : runs CMD with the remaining time budget of the case; sets RC and HUNG.
_timed() {
    local left=$((CASE_DEADLINE - SECONDS))
    ((left < 1)) && left=1
    local t0=$SECONDS pid
    # the groups' 2>/dev/null silence bash's own job notices ("Segmentation fault", native runs)
    if [ -n "$WD_PID" ] && kill -0 "$WD_PID" 2>/dev/null; then
        {
            set -m
            "$@" <"$STDIN_FILE" >"$OUT_FILE" 2>"$ERR_FILE" &
            pid=$!
            set +m
            WD_CUR=$pid
            printf 'add %s %s\n' "$pid" "$((EPOCHSECONDS + left))" >&"$WD_FD"
            wait "$pid"
            RC=$?
            printf 'del %s\n' "$pid" >&"$WD_FD"
            WD_CUR=""
        } 2>/dev/null
    else
        { timeout -k 5 "$left" "$@" <"$STDIN_FILE" >"$OUT_FILE" 2>"$ERR_FILE"; RC=$?; } 2>/dev/null
    fi
    STDIN_FILE=/dev/null
    if { [ "$RC" = 124 ] || [ "$RC" = 137 ] || [ "$RC" = 143 ]; } && ((SECONDS - t0 >= left - 1)); then
        HUNG=1
        fail "hang: timed out after $CASE_TIMEOUT s"
    fi
}

# run_isovm ARGS... : `$ISOVM ARGS...` (natively: the translated job command).
run_isovm() {
    OUT_FILE="$WORK/out"
    ERR_FILE="$WORK/err"
    HUNG=0
    if native; then
        local -a envs=() cmd=()
        [ "${1:-}" = launch ] && shift
        while [ $# -gt 0 ]; do
            case $1 in
                --memory | --report) shift 2 ;;
                --env) envs+=("$2"); shift 2 ;;
                --) shift; break ;;
                -*) shift ;;
                *) break ;;
            esac
        done
        cmd=(env -i "${envs[@]}" "$@")
        _timed "${cmd[@]}"
    else
        _timed "$ISOVM" "$@"
    fi
}

# run_cmd CMD... : run a helper command (not isovm) with the same capture.
run_cmd() {
    OUT_FILE="$WORK/out"
    ERR_FILE="$WORK/err"
    HUNG=0
    _timed "$@"
}

# launch JOB ARGS... : run_isovm launch -- JOB ARGS...
launch() {
    run_isovm launch -- "$@"
}

# --- expectations -----------------------------------------------------------------------------
# The expectations run on every case, many times: they read files with bash builtins rather than
# grep, sed or od, since starting a program costs 50-300 ms in the emulated host (0.5 ms here).
# Each falls back to the program for what a bash variable cannot hold (a NUL byte) or a
# pattern it would read differently (one with a newline).

# _slurp FILE : TEXT = FILE's content; status 1 (TEXT cut short) if FILE holds a NUL byte or
# cannot be read
_slurp() {
    TEXT=""
    [ -f "$1" ] && [ -r "$1" ] || return 1
    IFS= read -r -d '' TEXT <"$1" && return 1 # read stops at a NUL byte with status 0, at EOF with 1
    return 0
}

_show() { # a short excerpt of a file for detail lines: its failed checks if it has any
    if grep -q -a '^FAIL ' "$1" 2>/dev/null; then
        grep -a -m 8 '^FAIL \|check(s) failed' "$1" | cut -c 1-300 | sed 's/^/        | /'
        return
    fi
    head -c 600 "$1" | sed -n '1,8p' | sed 's/^/        | /'
}

CASE_SHOWN=0
_show_outputs() { # once per case: excerpts of the job's stderr and stdout
    [ "$CASE_SHOWN" = 1 ] && return
    CASE_SHOWN=1
    [ -s "$ERR_FILE" ] && CASE_DETAIL+="    stderr:"$'\n'"$(_show "$ERR_FILE")"$'\n'
    [ -s "$OUT_FILE" ] && CASE_DETAIL+="    stdout:"$'\n'"$(_show "$OUT_FILE")"$'\n'
    return 0
}

expect_status() {
    [ "$HUNG" = 1 ] && return 1
    if [ "$RC" != "$1" ]; then
        fail "exit status $RC, want $1${2:+ ($2)}"
        _show_outputs
        return 1
    fi
}

# expect_status_in "A B C"
expect_status_in() {
    [ "$HUNG" = 1 ] && return 1
    local s
    for s in $1; do [ "$RC" = "$s" ] && return 0; done
    fail "exit status $RC, want one of: $1"
    CASE_DETAIL+="    stderr:"$'\n'"$(_show "$ERR_FILE")"$'\n'
    return 1
}

# expect_stdout_eq TEXT : stdout is exactly TEXT followed by one newline (empty TEXT: no output)
expect_stdout_eq() {
    [ "$HUNG" = 1 ] && return 1
    local want got same=0
    if _slurp "$OUT_FILE"; then
        if [ -z "$1" ]; then [ -z "$TEXT" ] && same=1; else [ "$TEXT" = "$1"$'\n' ] && same=1; fi
    else
        if [ -z "$1" ]; then
            want=""
        else
            want=$(printf '%s\n' "$1" | od -An -c)
        fi
        got=$(od -An -c <"$OUT_FILE")
        [ "$want" = "$got" ] && same=1
    fi
    if [ "$same" = 0 ]; then
        fail "stdout is not '$(printf '%s' "$1" | head -c 80 | tr '\n' '|')'"
        _show_outputs
        return 1
    fi
}

_has() { # FILE TEXT : grep -qF -- TEXT FILE
    if [[ $2 != *$'\n'* ]] && _slurp "$1"; then
        [ -n "$TEXT" ] && [[ $TEXT == *"$2"* ]] # (no line at all: not even "" matches)
    else
        grep -qF -- "$2" "$1" 2>/dev/null
    fi
}

_has_line() { # FILE LINE : grep -qxF -- LINE FILE
    if [[ $2 != *$'\n'* ]] && _slurp "$1"; then
        local t=$'\n'$TEXT
        [[ $t == *$'\n' ]] || t+=$'\n'
        [[ $t == *$'\n'"$2"$'\n'* ]]
    else
        grep -qxF -- "$2" "$1" 2>/dev/null
    fi
}

expect_stdout_has() {
    [ "$HUNG" = 1 ] && return 1
    if ! _has "$OUT_FILE" "$1"; then
        fail "stdout lacks '$1'"
        _show_outputs
        return 1
    fi
}

expect_stdout_lacks() {
    [ "$HUNG" = 1 ] && return 1
    if _has "$OUT_FILE" "$1"; then
        fail "stdout contains '$1'"
        _show_outputs
        return 1
    fi
}

expect_stdout_line() { # a whole line equal to $1
    [ "$HUNG" = 1 ] && return 1
    if ! _has_line "$OUT_FILE" "$1"; then
        fail "stdout has no line '$1'"
        _show_outputs
        return 1
    fi
}

expect_stderr_has() {
    [ "$HUNG" = 1 ] && return 1
    if ! _has "$ERR_FILE" "$1"; then
        fail "stderr lacks '$1'"
        _show_outputs
        return 1
    fi
}

expect_stderr_has_i() { # case-insensitive
    [ "$HUNG" = 1 ] && return 1
    local found=0
    if [[ $1 != *$'\n'* ]] && _slurp "$ERR_FILE"; then
        [ -n "$TEXT" ] && [[ ${TEXT,,} == *"${1,,}"* ]] && found=1
    else
        grep -qiF -- "$1" "$ERR_FILE" 2>/dev/null && found=1
    fi
    if [ "$found" = 0 ]; then
        fail "stderr lacks '$1' (any case)"
        _show_outputs
        return 1
    fi
}

# A job built on check.h: no "FAIL " line and the final "all checks passed".
expect_checks_pass() {
    [ "$HUNG" = 1 ] && return 1
    local f=""
    if _slurp "$OUT_FILE"; then
        [[ $'\n'$TEXT =~ $'\n'(FAIL [^$'\n']*) ]] && f=${BASH_REMATCH[1]}
    else
        f=$(grep -m1 '^FAIL ' "$OUT_FILE")
    fi
    if [ -n "$f" ]; then
        fail "job check failed: ${f#FAIL }"
        CASE_DETAIL+="$(grep '^FAIL ' "$OUT_FILE" | sed -n '2,20p' | sed 's/^/    also: /')"$'\n'
        return 1
    fi
    expect_stdout_has "all checks passed"
}

# expect_fault SIGNAL STATUS KIND : a CPU exception killed the job
expect_fault() {
    local sig=$1 status=$2 kind=$3
    expect_status "$status" "$sig" || return 1
    native && return 0
    expect_stderr_has "$sig"
    expect_stderr_has "$kind"
    expect_stderr_has "rip 0x"
}

# --- report JSON (one key per line: "key": value) ------------------------------------------------
# _report_value FILE KEY : RV = the raw value text after "KEY": (first occurrence), without a
# trailing comma (builtins; as sed -n 's/^[[:space:]]*"KEY":[[:space:]]*\(.*\)$/\1/p' | head -n1)
_report_value() {
    RV=""
    if _slurp "$1"; then
        local sp=$'[ \t\r\v\f]' re
        re="(^|"$'\n'")$sp*\"$2\":$sp*([^"$'\n'"]*)"
        [[ $TEXT =~ $re ]] || return 0
        RV=${BASH_REMATCH[2]}
    else
        RV=$(sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\(.*\)\$/\1/p" "$1" 2>/dev/null | head -n1)
    fi
    [[ $RV =~ ^(.*),[[:space:]]*$ ]] && RV=${BASH_REMATCH[1]}
    return 0
}

# report_value FILE KEY : prints _report_value's RV
report_value() {
    _report_value "$1" "$2"
    printf '%s\n' "$RV"
}

expect_report() { # FILE KEY VALUE (value text as written in JSON, e.g. 0 or "exit")
    native && return 0
    [ "$HUNG" = 1 ] && return 1
    if [ ! -s "$1" ]; then
        fail "report $1 missing or empty"
        return 1
    fi
    local v
    _report_value "$1" "$2"
    v=$RV
    if [ "$v" != "$3" ]; then
        fail "report $2 is '${v}', want '$3'"
        return 1
    fi
}

expect_report_ge() { # FILE KEY MIN (integer)
    native && return 0
    [ "$HUNG" = 1 ] && return 1
    if [ ! -s "$1" ]; then
        fail "report $1 missing or empty"
        return 1
    fi
    local v
    _report_value "$1" "$2"
    v=$RV
    if ! [[ "$v" =~ ^[0-9]+$ ]] || ((v < $3)); then
        fail "report $2 is '${v}', want >= $3"
        return 1
    fi
}

_has_match() { # FILE REGEX : grep -qE -- REGEX FILE (a line of FILE matches the extended REGEX)
    local line re=$2
    if [[ $2 != *$'\n'* ]] && _slurp "$1"; then
        [ -n "$TEXT" ] || return 1
        [[ $TEXT == *$'\n' ]] && TEXT=${TEXT%$'\n'} # the here-string adds it back
        while IFS= read -r line; do
            [[ $line =~ $re ]] && return 0
        done <<<"$TEXT"
        return 1
    fi
    grep -qE -- "$2" "$1" 2>/dev/null
}

expect_report_match() { # FILE REGEX DESCRIPTION : some line of the report matches REGEX (grep -E)
    native && return 0
    [ "$HUNG" = 1 ] && return 1
    if ! _has_match "$1" "$2"; then
        fail "report: $3"
        return 1
    fi
}

# --- running cases ----------------------------------------------------------------------------
# Set by run.sh's options (see its header):
SELECT_EXACT=0      # --exact: filters are whole case names, not substrings
SELECT_FILES=()     # --file F: only cases registered by F (e.g. limits_cases.sh, run.sh)
CLAIM_DIR=""        # --claim DIR: run case I only if this run creates DIR/I (shared work queue)
CLAIM_REVERSE=0     # --reverse: go through the cases from the last one
TIMES_FILE=""       # --times FILE: append "MS<tab>PASS|FAIL<tab>LABEL<tab>NAME" per case run
# ISOVM_TEST_LABEL names this run (e.g. the isovm binary and the emulated host) in progress lines
# and the times file.

_progress() {
    if [ -n "${ISOVM_EMUHOST_PROGRESS:-}" ]; then
        printf 'running %s%s\n' "${ISOVM_TEST_LABEL:+[$ISOVM_TEST_LABEL] }" "$1" \
            >>"$ISOVM_EMUHOST_PROGRESS" 2>/dev/null || true
    fi
}

# _selected I FILTER... : case I is chosen by the filters (none: every case) and --file
_selected() {
    local i=$1 f ok
    shift
    if [ ${#SELECT_FILES[@]} -gt 0 ]; then
        ok=0
        for f in "${SELECT_FILES[@]}"; do [ "${CASE_FILES[$i]}" = "${f##*/}" ] && ok=1; done
        [ $ok = 1 ] || return 1
    fi
    [ $# -eq 0 ] && return 0
    for f in "$@"; do
        if [ "$SELECT_EXACT" = 1 ]; then
            [ "${CASE_NAMES[$i]}" = "$f" ] && return 0
        else
            [[ "${CASE_NAMES[$i]}" == *"$f"* ]] && return 0
        fi
    done
    return 1
}

# _fresh_case_dir : an empty $WORK/case; left as it is when it already is (most cases leave it
# so, and starting rm or mkdir costs a tenth of a second or more in the emulated host), else
# emptied with one rm
_fresh_case_dir() {
    local f
    local -a left=()
    if [ -d "$WORK/case" ] && [ ! -L "$WORK/case" ]; then
        for f in "$WORK/case"/* "$WORK/case"/.[!.]* "$WORK/case"/..?*; do
            if [ -e "$f" ] || [ -L "$f" ]; then left+=("$f"); fi
        done
        [ ${#left[@]} -eq 0 ] || rm -rf -- "${left[@]}"
    else
        rm -rf "$WORK/case"
        mkdir -p "$WORK/case"
    fi
}

# _claim FILE : create FILE, failing if it is there (O_EXCL, which the host's file system makes
# atomic, also for two emulated hosts through 9p); no process started, where mkdir costs 0.1 s
_claim() {
    local rc
    set -C
    { : >"$1"; } 2>/dev/null
    rc=$?
    set +C
    return $rc
}

# list_cases [FILTER...] : the names of the selected cases, one a line
list_cases() {
    local i
    for i in "${!CASE_NAMES[@]}"; do
        _selected "$i" "$@" && printf '%s\n' "${CASE_NAMES[$i]}"
    done
    return 0
}

# run_cases [FILTER...] : run every selected case (see _selected); with CLAIM_DIR, only those
# this run claims first.
run_cases() {
    local i name matched=0 t0 ms result
    local -a order=("${!CASE_NAMES[@]}")
    if [ "$CLAIM_REVERSE" = 1 ]; then
        local -a rev=()
        for ((i = ${#order[@]} - 1; i >= 0; i--)); do rev+=("${order[$i]}"); done
        order=("${rev[@]}")
    fi
    for i in "${order[@]}"; do
        name=${CASE_NAMES[$i]}
        _selected "$i" "$@" || continue
        matched=$((matched + 1))
        # one claimant wins; a claimed case is skipped without trying (a look costs 2 ms)
        if [ -n "$CLAIM_DIR" ]; then
            [ -e "$CLAIM_DIR/$i" ] && continue
            _claim "$CLAIM_DIR/$i" || continue
        fi
        _progress "$name"
        CASE_FAIL=""
        CASE_DETAIL=""
        CASE_SHOWN=0
        RC=0
        HUNG=0
        STDIN_FILE=/dev/null
        CASE_DEADLINE=$((SECONDS + CASE_TIMEOUT))
        _fresh_case_dir
        t0=${EPOCHREALTIME//[!0-9]/} # microseconds, no process started
        eval "${CASE_CMDS[$i]}"
        ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
        if [ -z "$CASE_FAIL" ]; then
            result=PASS
            echo "PASS $name"
            PASSED=$((PASSED + 1))
        else
            result=FAIL
            echo "FAIL $name: $CASE_FAIL"
            [ -n "$CASE_DETAIL" ] && printf '%s' "$CASE_DETAIL" | sed '/^$/d'
            FAILED=$((FAILED + 1))
            FAILED_NAMES+=("$name")
        fi
        if [ -n "$TIMES_FILE" ]; then
            printf '%s\t%s\t%s\t%s\n' "$ms" "$result" "${ISOVM_TEST_LABEL:-}" "$name" >>"$TIMES_FILE"
        fi
    done
    if [ "$matched" = 0 ]; then
        echo "no case matches: $*" >&2
        FAILED=$((FAILED + 1))
    fi
}

# --- resource limits (limits_cases.sh) ----------------------------------------------------------
# with_budget SECONDS FUNCTION [ARGS...] : run a case function with its own time budget instead
# of CASE_TIMEOUT (times ${LIMITS_BUDGET_SCALE:-1}, for slower hosts).
with_budget() {
    local CASE_TIMEOUT=$(($1 * ${LIMITS_BUDGET_SCALE:-1}))
    CASE_DEADLINE=$((SECONDS + CASE_TIMEOUT))
    shift
    "$@"
}

# --- the host's load (tests/emuhost/cpu_meter.py) -----------------------------------------------
# In the emulated host, the guest's clock follows the real one while its speed follows the share
# of a host core QEMU gets, which a busy machine (a build, another emulated host) takes from it
# unseen: the emulated kernel charges the lost time to whatever ran. run.sh's CPU meter measures
# that share from outside, and the stretches in which the emulated CPU stood still. Without a
# meter (direct mode: real KVM, whose kernel accounts for it itself) the share is 1 and nothing
# is frozen.

# host_cpu_read : HC_T HC_R HC_N HC_F = the meter's host time, vCPU run time, vCPUs, frozen time
# (ns); empty without a meter. A bash builtin read (no process started).
host_cpu_read() {
    HC_T="" HC_R="" HC_N="" HC_F="" HC_BOOST=""
    [ -n "${ISOVM_EMUHOST_CPU_METER:-}" ] || return 0
    read -r HC_T HC_R HC_N HC_F HC_BOOST <"$ISOVM_EMUHOST_CPU_METER" 2>/dev/null || HC_T=""
}

# _nap SECONDS : sleep without starting a process (a read that times out on a FIFO nobody writes)
_nap() {
    if [ -z "${NAP_FD:-}" ]; then
        mkfifo "$WORK/nap.fifo" 2>/dev/null
        exec {NAP_FD}<>"$WORK/nap.fifo"
    fi
    read -r -t "$1" -u "$NAP_FD" _ 2>/dev/null
    return 0
}

# host_boost on|off : ask the emulated host's meter to run QEMU at a higher CPU priority (or no
# longer), so that a measurement gets a whole host core on a busy machine; "on" waits (at most
# 1 s) until the meter says it is done. Nothing without a meter, or where the meter may not
# raise priorities (the measurement then goes on without, and run_usable still checks it).
host_boost() {
    [ -n "${ISOVM_EMUHOST_BOOST:-}" ] || return 0
    printf '%s\n' "$1" >"$ISOVM_EMUHOST_BOOST" 2>/dev/null || return 0
    [ "$1" = on ] || return 0
    local i extra
    for ((i = 0; i < 50; i++)); do
        read -r _ _ _ _ extra <"$ISOVM_EMUHOST_CPU_METER" 2>/dev/null
        [ "$extra" = boost ] && return 0
        _nap 0.02
    done
    return 0
}

# with_boost FUNCTION [ARGS...] : a case function run with host_boost on (a timing case that
# times its own jobs)
with_boost() {
    local rc
    host_boost on
    "$@"
    rc=$?
    host_boost off
    return $rc
}

# run_metered RUN_JOB-ARGS... : run_job bracketed by meter reads. HOST_SHARE: the share of a host
# core the emulated CPU had during the run (4 decimals); HOST_FROZEN_MS: how long it stood still
# in stretches of 30 ms or more. (1 and 0 without a meter.)
run_metered() {
    local t0 r0 f0
    host_cpu_read
    t0=$HC_T r0=$HC_R f0=$HC_F
    run_job "$@"
    host_cpu_read
    HOST_SHARE=1
    HOST_FROZEN_MS=0
    if [ -n "$t0" ] && [ -n "$HC_T" ] && ((HC_T > t0)); then
        HOST_SHARE=$(awk -v t="$((HC_T - t0))" -v r="$((HC_R - r0))" -v n="${HC_N:-1}" \
            'BEGIN { s = r / t / n; if (s <= 0.01) s = 0.01; printf "%.4f", s }')
        HOST_FROZEN_MS=$(((${HC_F:-0} - ${f0:-0}) / 1000000))
    fi
}

# _size_kib SIZE : "32MiB", "64M", "512KiB", "1G" or bytes -> KiB (for ulimit)
_size_kib() {
    local n=${1%%[!0-9]*} u=${1##*[0-9]}
    case ${u,,} in
        "" | b) echo $((n / 1024)) ;;
        k | kb | kib) echo "$n" ;;
        m | mb | mib) echo $((n * 1024)) ;;
        g | gb | gib) echo $((n * 1024 * 1024)) ;;
        *) echo 0 ;;
    esac
}

# _dur_s DURATION : "1s", "500ms", "62500us", "2" (seconds) -> seconds, decimal
_dur_s() {
    local n=${1%%[!0-9.]*} u=${1##*[0-9.]}
    awk -v n="$n" -v u="$u" 'BEGIN {
        m = (u == "ms") ? 1e-3 : (u == "us") ? 1e-6 : (u == "ns") ? 1e-9 : (u == "m") ? 60 : 1
        printf "%.6g", n * m }'
}

# run_job [--out FILE] ISOVM-ARGS... : run_isovm (ARGS start with "launch"), the job's stdout
# going to FILE (e.g. /dev/null) instead of the usual capture when --out is given. Natively, the
# options with a Linux equivalent are applied: --memory -> ulimit -v, --max-capabilities ->
# ulimit -n, --cpu-time-limit -> ulimit -S -t (SIGXCPU, status 152), --timeout -> timeout(1)
# (status 124), --env -> env -i K=V; the others (--policy, --cpu-quota, --cpu-period,
# --max-threads, --set, --report, ...) are dropped.
run_job() {
    local out="$WORK/out"
    if [ "${1:-}" = --out ]; then
        out=$2
        shift 2
    fi
    OUT_FILE="$WORK/out"
    ERR_FILE="$WORK/err"
    HUNG=0
    if ! native; then
        OUT_FILE=$out
        _timed "$ISOVM" "$@"
        OUT_FILE="$WORK/out"
        return
    fi
    local -a envs=() pre=()
    local ulim=""
    [ "${1:-}" = launch ] && shift
    while [ $# -gt 0 ]; do
        case $1 in
            --memory) ulim+="ulimit -v $(_size_kib "$2"); "; shift 2 ;;
            --max-capabilities) ulim+="ulimit -n $2; "; shift 2 ;;
            --cpu-time-limit)
                ulim+="ulimit -S -t $(awk -v s="$(_dur_s "$2")" 'BEGIN { c = int(s); if (c < s) c++; print c }'); "
                shift 2 ;;
            --timeout) pre=(timeout "$(_dur_s "$2")"); shift 2 ;;
            --env) envs+=("$2"); shift 2 ;;
            --policy | --report | --cpu-quota | --cpu-period | --max-threads | --max-processes | --set) shift 2 ;;
            --) shift; break ;;
            -*) shift ;;
            *) break ;;
        esac
    done
    OUT_FILE=$out
    _timed bash -c "${ulim}exec \"\$@\"" run_job env -i "${envs[@]}" "${pre[@]}" "$@"
    OUT_FILE="$WORK/out"
}

# stdout_value KEY [FILE] : VALUE of the first "KEY=VALUE" word in FILE (default the job's stdout)
stdout_value() {
    if _slurp "${2:-$OUT_FILE}"; then
        local re="(^|[[:space:]])$1=([^[:space:]]*)"
        [[ $TEXT =~ $re ]] && printf '%s\n' "${BASH_REMATCH[2]}"
        return 0
    fi
    grep -o -- "\(^\|[[:space:]]\)$1=[^[:space:]]*" "${2:-$OUT_FILE}" 2>/dev/null | head -n1 |
        sed "s/^[[:space:]]*$1=//"
}

# stderr_value KEY : the same in the job's stderr
stderr_value() { stdout_value "$1" "$ERR_FILE"; }

# report_int FILE KEY : the integer value of KEY, or nothing
report_int() {
    _report_value "$1" "$2"
    [[ "$RV" =~ ^[0-9]+$ ]] && echo "$RV"
}

expect_report_in() { # FILE KEY LO HI : integer LO <= value <= HI
    native && return 0
    [ "$HUNG" = 1 ] && return 1
    if [ ! -s "$1" ]; then
        fail "report $1 missing or empty"
        return 1
    fi
    local v
    _report_value "$1" "$2"
    v=$RV
    if ! [[ "$v" =~ ^[0-9]+$ ]] || ((v < $3 || v > $4)); then
        fail "report $2 is '${v}', want $3..$4"
        return 1
    fi
}

# expect_near WHAT GOT WANT TOL : |GOT - WANT| <= TOL (decimal numbers); prints nothing on success
expect_near() {
    if ! [[ "$2" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then
        fail "$1: no value (got '$2')"
        return 1
    fi
    if ! awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
        fail "$1 is $2, want $3 +/- $4"
        return 1
    fi
}

# median NUMBER... : the median (middle value; lower middle for an even count)
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'
}

# all_within LO HI NUMBER... : every NUMBER is in [LO, HI]. A case that takes the median of three
# runs stops after two that both are: the median of the three is then in range whatever the third
# (the verdict is the same, one run sooner).
all_within() {
    local lo=$1 hi=$2
    shift 2
    [ $# -gt 0 ] && printf '%s\n' "$@" | awk -v lo="$lo" -v hi="$hi" '
        !($1 ~ /^-?[0-9]+(\.[0-9]+)?$/) || $1 < lo || $1 > hi { bad = 1 } END { exit bad }'
}

# expect_report_schema FILE INT_KEYS OBJECT_KEYS : FILE is valid JSON (python3 when there is one,
# else a structural check with grep/sed) whose top level has every INT_KEYS key as a non-negative
# integer, every OBJECT_KEYS key as an object of non-negative integers (the key "policy" may hold
# anything), "exit_reason" a known reason, and "signal" a string, present when exit_reason is
# "signal" and absent when it is "exit".
expect_report_schema() {
    native && return 0
    [ "$HUNG" = 1 ] && return 1
    local f=$1 ints=$2 objs=$3 msg
    if [ ! -s "$f" ]; then
        fail "report $f missing or empty"
        return 1
    fi
    if [ -n "$PYTHON3" ]; then
        if ! msg=$(py - "$f" "$ints" "$objs" 2>&1 <<'PY'
import json, sys
path, ints, objs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
try:
    with open(path) as fh:
        r = json.load(fh)
except ValueError as e:
    print("not valid JSON: %s" % e); sys.exit(1)
bad = []
if not isinstance(r, dict):
    print("top level is not an object"); sys.exit(1)
reasons = ("exit", "signal", "cpu-limit", "timeout", "oom", "killed", "internal-error")
if r.get("exit_reason") not in reasons:
    bad.append("exit_reason %r is not one of %s" % (r.get("exit_reason"), ", ".join(reasons)))
for k in ints:
    v = r.get(k)
    if k not in r:
        bad.append("no key %s" % k)
    elif type(v) is not int or v < 0:
        bad.append("%s is %r, not a non-negative integer" % (k, v))
for k in objs:
    v = r.get(k)
    if k not in r:
        bad.append("no key %s" % k)
    elif not isinstance(v, dict):
        bad.append("%s is not an object" % k)
    elif k != "policy":
        for kk, vv in v.items():
            if type(vv) is not int or vv < 0:
                bad.append("%s.%s is %r, not a non-negative integer" % (k, kk, vv)); break
if "signal" in r and not isinstance(r["signal"], str):
    bad.append("signal is not a string")
if r.get("exit_reason") == "signal" and "signal" not in r:
    bad.append("exit_reason is signal but there is no signal key")
if "signal" in r and r.get("exit_reason") == "exit":
    bad.append("signal key with exit_reason %r" % r.get("exit_reason"))
for t, o in (("denied_syscalls_total", "denied_syscalls"), ("unknown_syscalls_total", "unknown_syscalls")):
    if isinstance(r.get(t), int) and isinstance(r.get(o), dict) and \
            all(type(x) is int for x in r[o].values()) and sum(r[o].values()) != r[t]:
        bad.append("%s is %d but %s adds up to %d" % (t, r[t], o, sum(r[o].values())))
if bad:
    print("; ".join(bad)); sys.exit(1)
PY
        ); then
            fail "report: ${msg:-python3 failed}"
            return 1
        fi
        return 0
    fi
    # structural check: braces balance, no comma before a closing brace, every line inside the
    # outer object is  "key": value  or a brace
    local k v opens closes
    opens=$(tr -cd '{' <"$f" | wc -c)
    closes=$(tr -cd '}' <"$f" | wc -c)
    if [ "$opens" != "$closes" ] || [ "$(head -c1 "$f")" != "{" ]; then
        fail "report: not a JSON object (braces $opens/$closes)"
        return 1
    fi
    if tr -d ' \n\t' <"$f" | grep -qE ',[]}]'; then
        fail "report: a comma before a closing brace"
        return 1
    fi
    for k in $ints; do
        v=$(report_value "$f" "$k")
        [[ "$v" =~ ^[0-9]+$ ]] || { fail "report $k is '$v', not a non-negative integer"; return 1; }
    done
    for k in $objs; do
        grep -qE "^[[:space:]]*\"$k\":[[:space:]]*\{" "$f" || { fail "report: no object $k"; return 1; }
    done
    grep -qE '^[[:space:]]*"exit_reason":[[:space:]]*"(exit|signal|cpu-limit|timeout|oom|killed|internal-error)"' "$f" ||
        { fail "report: exit_reason missing or unknown"; return 1; }
}
