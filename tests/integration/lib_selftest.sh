#!/usr/bin/env bash
# Checks lib.sh's file expectations, which use bash builtins for speed in the emulated host,
# against the programs they stand for (grep -F, grep -xF, grep -iF, grep -E, the sed of
# report_value, grep -o of stdout_value, od of expect_stdout_eq), on matching and non-matching
# inputs, files without a final newline, empty files, NUL bytes, regex characters; and the case
# loop's _fresh_case_dir and _claim, and _timed's watchdog. Runs anywhere (no KVM); run-tests.sh runs it as the stage
# integration-lib.
#
#   tests/integration/lib_selftest.sh      prints FAIL lines and "N passed, N failed"
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/isovm-libtest.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
ok=0
bad=0

same() { # NAME GOT WANT
    if [ "$2" = "$3" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "FAIL $1: got '$2', want '$3'"; fi
}
st() { "$@" >/dev/null 2>&1; echo $?; } # exit status of a command, 0 or 1 (grep's 2 is 1)
st01() { local s; s=$(st "$@"); [ "$s" = 0 ] && echo 0 || echo 1; }

n=0
mk() { n=$((n + 1)); printf "$1" >"$T/f$n"; F=$T/f$n; } # printf FORMAT into a new file F

files=()
for fmt in 'hello from isovm\n' 'hello from isovm' '' '\n' 'a\n\nb\n' 'FAIL x: one\nok\nFAIL y\n' \
    'x=1 chunks=42 wall_ns=7\nchunks=9\n' 'pre chunks=\n' 'A\0B chunks=3\n' 'Rip 0X1F\n' \
    '  "exit_reason": "exit",\n  "exit_status": 0,\n  "policy": {\n    "memory_bytes": 64\n  }\n' \
    '{\n  "a": 1 ,  \n  "b":"x"\n}' 'tab\there\n' '\r\nline\r\n' 'café\n'; do
    mk "$fmt"
    files+=("$F")
done
mk '' && files+=("$T/missing-file")

needles=('hello' 'hello from isovm' 'isovm\n' '' 'FAIL' 'FAIL y' 'chunks=9' 'B' 'rip 0x1f' 'x' '"exit"'
    'line' 'CAFÉ' 'a' 'b' '*' '[x]' '.')
for F in "${files[@]}"; do
    for k in "${needles[@]}"; do
        nd=$(printf "$k")
        same "_has $F '$k'" "$(st01 _has "$F" "$nd")" "$(st01 grep -qF -- "$nd" "$F")"
        same "_has_line $F '$k'" "$(st01 _has_line "$F" "$nd")" "$(st01 grep -qxF -- "$nd" "$F")"
        ERR_FILE=$F CASE_FAIL="" HUNG=0 CASE_SHOWN=1
        expect_stderr_has_i "$nd" >/dev/null
        same "expect_stderr_has_i $F '$k'" "$([ -z "$CASE_FAIL" ] && echo 0 || echo 1)" \
            "$(st01 grep -qiF -- "$nd" "$F")"
    done
    for re in '^    "memory_bytes": 64,?$' '"(exit|oom)"' '^  "a": 1' '^$' 'chunks=[0-9]+$' '[[:space:]]here' 'é'; do
        same "_has_match $F '$re'" "$(st01 _has_match "$F" "$re")" "$(st01 grep -qE -- "$re" "$F")"
    done
    for key in exit_reason exit_status policy memory_bytes a b missing; do
        _report_value "$F" "$key"
        same "_report_value $F $key" "$RV" \
            "$(sed -n "s/^[[:space:]]*\"$key\":[[:space:]]*\(.*\)\$/\1/p" "$F" 2>/dev/null | head -n1 | sed 's/,[[:space:]]*$//')"
    done
    for key in chunks wall_ns x missing; do
        same "stdout_value $key $F" "$(stdout_value "$key" "$F")" \
            "$(grep -o -- "\(^\|[[:space:]]\)$key=[^[:space:]]*" "$F" 2>/dev/null | head -n1 | sed "s/^[[:space:]]*$key=//")"
    done
    for want in 'hello from isovm' '' 'a

b'; do
        OUT_FILE=$F CASE_FAIL="" HUNG=0 CASE_SHOWN=1
        expect_stdout_eq "$want" >/dev/null 2>&1
        ref=1 # as lib.sh did with od (a missing file reads as empty)
        if [ -z "$want" ]; then [ -z "$(od -An -c 2>/dev/null <"$F")" ] && ref=0
        else [ "$(printf '%s\n' "$want" | od -An -c)" = "$(od -An -c 2>/dev/null <"$F")" ] && ref=0; fi
        same "expect_stdout_eq $F '$want'" "$([ -z "$CASE_FAIL" ] && echo 0 || echo 1)" "$ref"
    done
    OUT_FILE=$F CASE_FAIL="" HUNG=0 CASE_SHOWN=1
    expect_checks_pass >/dev/null 2>&1
    f=$(grep -m1 '^FAIL ' "$F" 2>/dev/null)
    if [ -n "$f" ]; then ref="job check failed: ${f#FAIL }"
    elif grep -qF "all checks passed" "$F" 2>/dev/null; then ref=""
    else ref="stdout lacks 'all checks passed'"; fi
    same "expect_checks_pass $F" "$CASE_FAIL" "$ref"
done

# _fresh_case_dir: empty afterwards, whatever was left (dot files, a symlink, a read-only file)
WORK=$T/w
mkdir -p "$WORK/case/sub" && touch "$WORK/case/.hidden" "$WORK/case/..x" && ln -s /nonexistent "$WORK/case/l"
_fresh_case_dir
same "_fresh_case_dir empties" "$(ls -A "$WORK/case" | wc -l)" 0
_fresh_case_dir
same "_fresh_case_dir keeps an empty one" "$([ -d "$WORK/case" ] && echo dir)" dir

# py (the python server) against python3 itself: output, exit status, stdin, argv, cwd, errors
WORK=$T/pyw
mkdir -p "$WORK"
CASE_DEADLINE=$((SECONDS + 60))
if [ -n "$PYTHON3" ]; then
    py_start
    printf 'line one\nline two\n' >"$T/data"
    pycmp() { # NAME ARGS... (for py and "$PYTHON3"; stdin from $T/data, output and status compared)
        local name=$1 a b
        shift
        a=$(cd "$T" && py "$@" <"$T/data" 2>&1; echo "status $?")
        b=$(cd "$T" && "$PYTHON3" "$@" <"$T/data" 2>&1; echo "status $?")
        same "py $name" "$a" "$b"
    }
    pycmp "-c print" -c 'print("hi")'
    pycmp "-c argv" -c 'import sys; print(sys.argv)' x 'y z' ''
    pycmp "-c stdin" -c 'import sys; print(sys.stdin.read().upper(), end="")'
    pycmp "-c cwd" -c 'import os; print(os.getcwd())'
    pycmp "-c exit 3" -c 'import sys; sys.exit(3)'
    pycmp "-c exit message" -c 'import sys; sys.exit("bad thing")'
    pycmp "-c stderr" -c 'import sys; print("to stderr", file=sys.stderr); print("out")'
    pycmp "-c assert" -c 'assert 1 == 2, "one is not two"'
    printf 'import sys\nprint(sys.argv)\nassert sys.argv[1] == "ok", "argv[1] is %%r" %% sys.argv[1]\n' >"$T/script"
    a=$(py - ok <"$T/script" 2>&1; echo "status $?")
    b=$("$PYTHON3" - ok <"$T/script" 2>&1; echo "status $?")
    same "py - ok" "$a" "$b"
    a=$(py - no <"$T/script" 2>&1 | tail -n 1; echo "status ${PIPESTATUS[0]}")
    b=$("$PYTHON3" - no <"$T/script" 2>&1 | tail -n 1; echo "status ${PIPESTATUS[0]}")
    same "py - no (traceback's last line)" "$a" "$b"
    py -c 'import sys; print("to a file")' >"$T/pyout" 2>"$T/pyerr"
    same "py output to a file" "$(cat "$T/pyout")" "to a file"
    same "py still the server" "$([ -n "$PY_PID" ] && kill -0 "$PY_PID" && echo yes)" yes
    py_stop
fi

# _claim: the first creation wins, the second fails, noclobber is off again
same "_claim first" "$(st01 _claim "$T/claim")" 0
same "_claim second" "$(st01 _claim "$T/claim")" 1
_claim "$T/claim2"
same "_claim leaves noclobber off" "$([[ $- == *C* ]] && echo on || echo off)" off

# _timed through the watchdog: the status, the streams, stdin; a command past its budget ended
# with its children (TERM), one that ignores TERM killed 5 s later, both reported as hangs
WORK=$T
wd_start
same "watchdog started" "$([ -n "$WD_PID" ] && kill -0 "$WD_PID" && echo yes)" yes
OUT_FILE=$T/wd.out ERR_FILE=$T/wd.err CASE_FAIL="" CASE_TIMEOUT=60
CASE_DEADLINE=$((SECONDS + 60))
with_stdin "in"
_timed sh -c 'cat; echo err >&2; exit 7'
same "_timed: status" "$RC/$HUNG" "7/0"
same "_timed: stdout from stdin" "$(cat "$T/wd.out")" in
same "_timed: stderr" "$(cat "$T/wd.err")" err
CASE_TIMEOUT=2 CASE_DEADLINE=$((SECONDS + 2)) t0=$SECONDS
_timed sh -c 'sleep 30 & echo $! >'"$T/wd.child"'; wait'
same "_timed: a hang ended and named" "$HUNG/${CASE_FAIL%% after*}" "1/hang: timed out"
same "_timed: within its budget" "$((SECONDS - t0 <= 4))" 1
_nap 0.3
child_state=$(cut -d' ' -f3 "/proc/$(cat "$T/wd.child")/stat" 2>/dev/null) # Z: ended, not reaped
same "_timed: its child ended too" "${child_state:-gone}" "$([ "$child_state" = Z ] && echo Z || echo gone)"
[ "${child_state:-gone}" = gone ] || [ "$child_state" = Z ] || kill "$(cat "$T/wd.child")" 2>/dev/null
CASE_FAIL="" CASE_TIMEOUT=1 CASE_DEADLINE=$((SECONDS + 1)) t0=$SECONDS
_timed sh -c 'trap "" TERM; sleep 20'
same "_timed: TERM ignored, KILL after 5 s" "$HUNG/$RC/$((SECONDS - t0 >= 5 && SECONDS - t0 <= 9))" "1/137/1"
CASE_FAIL="" CASE_DEADLINE=$((SECONDS + 60))
_timed true
same "_timed: the watchdog still there" "$RC/$(kill -0 "$WD_PID" && echo yes)" "0/yes"
wd_stop
CASE_DEADLINE=$((SECONDS + 60)) HUNG=0
_timed sh -c 'exit 3'
same "_timed without the watchdog: timeout(1)" "$RC/$HUNG" "3/0"

# median and all_within (the two-of-three early stop)
same "median 3" "$(median 3.9 4.1 3.0)" 3.9
same "median 2" "$(median 4.1 3.9)" 3.9
same "all_within in" "$(st01 all_within 3.822 3.978 3.9 3.95)" 0
same "all_within edges" "$(st01 all_within 23 27 23 27.0)" 0
same "all_within one out" "$(st01 all_within 3.822 3.978 3.9 3.99)" 1
same "all_within below" "$(st01 all_within 23 27 22.99)" 1
same "all_within none" "$(st01 all_within 1 2)" 1
same "all_within not a number" "$(st01 all_within 1 2 1.5 x)" 1

echo "$ok passed, $bad failed"
[ "$bad" = 0 ]
