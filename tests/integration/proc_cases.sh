# Process cases (issue 17, parts 1 and 3): fork, vfork, clone of a process, wait4/waitid, exit
# statuses, process groups, orphans, descriptors shared across a fork, max_processes and the
# memory limit over several address spaces, the job's end with processes left.
# shellcheck shell=bash
# Sourced by run.sh: uses V4, WORK, GUEST_DIR, ISOVM and lib.sh. Names start with "proc/".

# Every check of proc_test's basic mode (natively too): copies, statuses, signal deaths, waitid,
# groups, an orphan reaped by the first process, a thread inside a child process.
c_proc_basic() { # VARIANT
    need "proc_test.$1" || return
    local r=$WORK/case/report.json
    run_job launch --report "$r" -- "$J" basic
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
    native && return
    expect_report "$r" processes_created 15
    expect_report "$r" processes_refused 0
    expect_report "$r" processes_killed 0
}

# A file written by parent, child, parent through one inherited descriptor: one offset (the open
# file description is shared, as on Linux): "ABC". The audit log names the fork and the
# capabilities the child holds, and the child's exit.
c_proc_files() { # VARIANT
    need "proc_test.$1" || return
    native && return
    local d=$WORK/case/out a=$WORK/case/audit.jsonl
    mkdir -p "$d"
    run_job launch --grant "/out=$d:rw" --audit "$a" -- "$J" files /out
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
    [ "$(cat "$d/shared.txt")" = ABC ] || fail "the file holds '$(cat "$d/shared.txt")', not ABC"
    grep -q '"event":"fork".*"pid":2,"ppid":1,"syscall":"\(fork\|clone\)".*"caps":\[[0-9,]*\]' "$a" ||
        fail "no fork line with the child's capabilities in the audit log: $(grep fork "$a")"
    grep -q '"event":"exit".*"pid":2,"ppid":1.*"status":0' "$a" ||
        fail "no exit line for the child in the audit log"
}

# A fork bomb under --max-processes 6: five children, then EAGAIN (counted), the VMM alive; once
# they are reaped, forks work again.
c_proc_bomb() { # VARIANT
    need "proc_test.$1" || return
    native && return
    local r=$WORK/case/report.json
    run_job launch --max-processes 6 --report "$r" -- "$J" bomb
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "forks 5 errno 11"
    expect_stdout_line "reaped 5"
    expect_stdout_line "fork after: ok"
    expect_report "$r" processes_peak 6
    expect_report_ge "$r" processes_refused 1
    expect_report_ge "$r" denied_syscalls_total 1
}

# The processes share the one memory limit: 12 MiB touched, forked once (a copy: 24 MiB in use
# of 32), a second fork finds no room for its copy (ENOMEM, the VMM alive), and once the first
# child is gone its frames serve the next fork.
c_proc_memory() { # VARIANT
    need "proc_test.$1" || return
    native && return
    local r=$WORK/case/report.json peak
    run_job launch --memory 32MiB --report "$r" -- "$J" memory 12
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "fork 1: ok"
    expect_stdout_line "fork 2: errno 12"
    expect_stdout_line "fork 3: ok"
    peak=$(report_int "$r" memory_peak_bytes)
    ((peak > 24 << 20 && peak <= 32 << 20)) || fail "memory_peak_bytes $peak: not both copies"
}

# The first process ends while a child runs: the job ends with its status, the child is killed
# and counted.
c_proc_leave() { # VARIANT
    need "proc_test.$1" || return
    native && return
    local r=$WORK/case/report.json
    run_job launch --report "$r" -- "$J" leave
    expect_status 5 || { _show_outputs; return; }
    expect_report "$r" processes_created 2
    expect_report "$r" processes_killed 1
}

# A child kills the first process: the job ends as its default action would (143), named.
c_proc_killparent() { # VARIANT
    need "proc_test.$1" || return
    native && return
    run_job launch -- "$J" killparent
    expect_status 143 || { _show_outputs; return; }
    expect_stderr_has "job killed by SIGTERM: sent by its process 2 (kill)"
}

# Pipes between processes (part 4): data through a pipe from a child, EOF, EPIPE and SIGPIPE,
# O_NONBLOCK, poll, PIPE_BUF atomicity between two writers, a child's stdout on a pipe, refused
# flags and pointers (natively too).
c_proc_pipes() { # VARIANT
    need "proc_test.$1" || return
    run_job launch -- "$J" pipes
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
}

# A shell script as CI jobs write them, run by busybox sh or bash (Debian's static builds):
# pipelines, command substitution, subshells and their statuses, here-documents, `exec`
# redirections, `&` and `wait` (ash and bash wait for their SIGCHLD handler in sigsuspend), a
# killed background job, a TERM trap and an EXIT trap; and programs the shell runs (busybox's
# applets through /proc/self/exe, and by name through PATH in a grant of busybox and its
# links: find -exec, xargs, tar -czf and -xzf through gzip, sort, wc) on a read-write grant.
# bash also: arrays, [[ ]], arithmetic and expansions, functions with locals, a here-string,
# pipefail, wait -n, and every external program by name. The lines must be the same as the
# same script's natively.
PROC_SH_SCRIPT='cd "$1"; x=var
echo hi | { read x; echo got:$x; }
y=$(echo sub; echo two); echo "$y" | while read l; do echo "line:$l"; done
(echo subshell; exit 3); echo rc=$?
echo a b c | { read p q r; echo "$r$q$p"; } | { read s; echo "rev:$s"; }
cat <<EOF
here $x $(echo inner)
EOF
exec 3>out3; echo to3 >&3; exec 3>&-; cat out3
mkdir -p d/sub; echo one >d/a.txt; echo two >d/sub/b.txt
find d -name "*.txt" -exec cat {} \; | sort
find d -type f | sort | xargs wc -l | tail -n 1
tar -czf t.tgz d && rm -r d && tar -xzf t.tgz && cat d/sub/b.txt
ls d | sort | tr "\n" " "; echo
busybox true && echo "by name: $?"
sleep 0.1 & wait $!; echo "waited: $?"
(exit 7) & wait; echo "wait all: $?"
sleep 5 & kill $!; wait $!; echo "killed: $?"
trap "echo got TERM" TERM; kill -TERM $$; echo "after trap"
trap "echo bye" EXIT
'
PROC_BASH_EXTRA='a=(one two three); echo "${#a[@]} ${a[2]} ${a[*]:1}"
[[ $x == v* && -d d ]] && echo "[[ ]] ok"
echo $(( (3 + 4) * 5 % 6 )) {1..3} ${x^^} ${x/a/A}
f() { local v=$1; echo "f:$v:$#"; return 4; }; f arg two; echo "f rc=$?"
read -r w1 w2 <<< "here string"; echo "$w2 $w1"
set -o pipefail; false | true; echo "pipefail: $?"; set +o pipefail
(sleep 0.2; exit 2) & (exit 5) & wait -n; echo "wait -n: $?"; wait
'
c_proc_shell() { # busybox|bash
    [ -x "$BUSYBOX" ] || { fail "no busybox at $BUSYBOX"; return; }
    local sh=$1 script=$PROC_SH_SCRIPT bb=$WORK/case/bb w=$WORK/case/w nw=$WORK/case/nw a
    mkdir -p "$bb" "$w" "$nw"
    cp "$BUSYBOX" "$bb/busybox"
    local links="gzip gunzip sh" run=("$bb/busybox" sh)
    if [ "$sh" = bash ]; then
        [ -x /bin/bash-static ] ||
            { fail "no /bin/bash-static (scripts/install-deps.sh installs bash-static)"; return; }
        cp /bin/bash-static "$bb/bash"
        links="gzip gunzip sh cat sort find xargs wc tail tar rm ls tr mkdir sleep"
        run=("$bb/bash")
        script+=$PROC_BASH_EXTRA
    fi
    script+='echo end'
    # the programs run by name through PATH (tar runs gzip so); busybox sh runs its other
    # applets through /proc/self/exe
    for a in $links; do ln -s busybox "$bb/$a"; done
    local want
    want=$(cd "$nw" && env -i PATH="$bb" "${run[@]}" -c "$script" sh "$nw" 2>/dev/null)
    if native; then
        run_job launch --env "PATH=$bb" -- "${run[@]}" -c "$script" sh "$w"
    else
        run_job launch --grant "/bb=$bb:rx" --grant "/w=$w:rw" --env PATH=/bb -- \
            "${run[@]}" -c "$script" sh /w
    fi
    expect_status 0 || { _show_outputs; return; }
    [ "$(cat "$OUT_FILE")" = "$want" ] || {
        fail "$sh printed something else than natively:"
        CASE_DETAIL+=$(diff <(echo "$want") "$OUT_FILE" | sed 's/^/        | /')$'\n'
        _show_outputs
    }
    [[ $want == *"by name: 0"*"waited: 0"*"killed: 143"*"got TERM"*"end"*"bye" ]] ||
        fail "the native run is not what the case expects: $want"
    if [ "$sh" = bash ]; then
        [[ $want == *"3 three two three"*"[[ ]] ok"*"f:arg:2"*"f rc=4"*"string here"*"pipefail: 1"*"wait -n: 5"* ]] ||
            fail "the native bash run is not what the case expects: $want"
    fi
}

# Signal delivery (part 5) by signal_test: handlers with siginfo and ucontext, masks, SA_RESTART
# and EINTR, rt_sigsuspend, SIGCHLD, the alternate stack, SA_NODEFER and SA_RESETHAND, a thread
# spinning in user code interrupted, a fatal signal once unblocked; hostile: forged rt_sigreturn
# frames (a kernel or non-canonical rip, a ring-0 cs, IOPL 3, an unreadable FPU state) and a
# handler in the firmware's space, each ending its process with SIGSEGV (or ring 3 going on).
c_proc_signals() { # VARIANT
    need "signal_test.$1" || return
    run_job launch -- "$J"
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
}

# Hostile: 64 MiB through a pipe in a job of 16 MiB (a pipe's bytes are the host's, never in
# guest memory) and a pipe nobody reads filling at its capacity (EAGAIN), not growing.
c_proc_pipefill() { # VARIANT
    need "proc_test.$1" || return
    run_job launch --memory 16MiB -- "$J" pipefill
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
}

# Hostile: another job runs with a pid 2 of its own (busybox sh and a background sleep); this
# job's wait4 and kill of pid 2, and of that job's VMM by its host pid, reach nothing (ECHILD,
# ESRCH): a job's pids are its own.
c_proc_otherjob() { # VARIANT
    need "proc_test.$1" || return
    native && return
    [ -x "$BUSYBOX" ] || { fail "no busybox at $BUSYBOX"; return; }
    local b i
    "$ISOVM" launch --timeout 60s -- "$BUSYBOX" sh -c 'sleep 60 & echo started; wait' \
        </dev/null >"$WORK/case/other.out" 2>&1 &
    b=$!
    for ((i = 0; i < 300; i++)); do
        _has "$WORK/case/other.out" started && break
        _nap 0.1
    done
    _has "$WORK/case/other.out" started || fail "the other job did not start"
    run_job launch -- "$J" otherjob "$b"
    kill -TERM "$b" 2>/dev/null
    wait "$b" 2>/dev/null
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
}

# Timers that signal and waiting for signals (part 5) by timer_test: alarm, setitimer's three
# timers (the CPU ones not while asleep), POSIX timers (SIGEV_SIGNAL with its sigval and
# overruns, SIGEV_NONE, SIGEV_THREAD_ID to one thread, the C library's SIGEV_THREAD, CPU-time
# clocks, TIMER_ABSTIME, the refusals, the limit), rt_sigtimedwait (a pending signal, the
# timeout, a signal sent to the process while it waits, EINTR), sigqueue, a sleep cut short with
# the time left, ppoll's mask, and a fork's child without the timers. Then a SIGALRM nobody
# handles ends the job (142) and says which timer; and (hostile) a 1 ns period is taken as
# 100 us, its overruns counted while its signal is blocked.
c_proc_timers() { # VARIANT
    need "timer_test.$1" || return
    run_job launch -- "$J"
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
    run_job launch -- "$J" alarm-kill
    expect_status 142 || return
    native && return
    expect_stderr_has "job killed by SIGALRM: a timer of its own expired (alarm or setitimer)"
    run_job launch -- "$J" fast-timer # hostile: a 1 ns period
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
}

# A Go program (Debian's golang-go, CGO_ENABLED=0, no GODEBUG setting): goroutines and
# channels, timers and a ticker, a spinning goroutine preempted by the runtime's SIGURG,
# os/exec of a granted static program (its output through a pipe; one outside the grants
# refused), signal.Notify for SIGUSR1 and SIGTERM.
c_proc_go() {
    need gotest.go || return
    need hello.musl || return
    if native; then
        run_job launch -- "$GUEST_DIR/gotest.go" "$GUEST_DIR/hello.musl"
    else
        run_job launch --grant "/g=$GUEST_DIR:rx" -- "$GUEST_DIR/gotest.go" /g/hello.musl
    fi
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
}

# execve (part 2) by exec_test's main mode: arguments, environment, close-on-exec, signal actions
# reset, the pid kept, posix_spawn, exec from a process with threads and by a thread other than
# the first, /proc/self/exe, execveat of a descriptor, #! scripts and their loop, the refusals
# (ENOENT outside the grants, EACCES without the exec right or the execute bit, ENOEXEC, EFAULT,
# E2BIG); the first process execs last, and the job's status is the new image's. Audited.
c_proc_exec() { # VARIANT OTHER
    need "exec_test.$1" || return
    local w=$WORK/case/w a=$WORK/case/audit.jsonl r=$WORK/case/report.json
    mkdir -p "$w"
    if native; then
        run_job launch -- "$J" main "$GUEST_DIR" "$w" - "exec_test.$1" "exec_test.$2"
    else
        run_job launch --grant "/g=$GUEST_DIR:rx" --grant "/ro=$GUEST_DIR:ro" --grant "/w=$w:rwx" \
            --audit "$a" --report "$r" -- "$J" main /g /w /ro "exec_test.$1" "exec_test.$2"
    fi
    expect_status 0 || { _show_outputs; return; }
    expect_stdout_line "all checks passed"
    native && return
    grep -q '"event":"exec","pid":1,.*"path":"/g/exec_test\.'"$1"'",.*"argv0":"final"' "$a" ||
        fail "no exec line for the first process in the audit log"
    grep -q '"event":"exec",.*"path":"/g/exec_test\.'"$2"'",.*"argv0":"other"' "$a" ||
        fail "no exec line for the spawned program in the audit log"
    grep -q '"event":"deny".*"path":"/ro/exec_test' "$a" ||
        fail "the exec without the exec right is not in the audit log"
    expect_report "$r" processes_killed 0
}

# Each C library's build once in each build of isovm: musl's in the plain one, glibc's
# static-PIE in the sanitized one (the VMM's paths are the same; the libraries' uses of them,
# vfork in posix_spawn, select's timeout, differ).
if san_isovm; then v=glibc-pie other=musl; else v=musl other=glibc-pie; fi
add_case "proc/basic: fork, wait, groups, orphans proc_test.$v" with_budget 30 c_proc_basic "$v"
add_case "proc/pipes: data, EOF, EPIPE, SIGPIPE, poll, select, epoll proc_test.$v" with_budget 20 c_proc_pipes "$v"
add_case "proc/exec: execve, scripts, refusals exec_test.$v" with_budget 30 c_proc_exec "$v" "$other"
add_case "proc/signals: handlers, masks, restart, sigreturn forged signal_test.$v" with_budget 30 c_proc_signals "$v"
add_case "proc/timers: alarm, itimers, POSIX timers, sigtimedwait timer_test.$v" with_budget 60 c_proc_timers "$v"
add_case "proc/go: goroutines, timers, preemption, os/exec, signal.Notify gotest.go" with_budget 60 c_proc_go
add_case "proc/hostile: 64 MiB through a pipe in a 16 MiB job proc_test.$v" with_budget 60 c_proc_pipefill "$v"
add_case "proc/hostile: another job's pids out of reach proc_test.$v" with_budget 60 c_proc_otherjob "$v"
add_case "proc/busybox sh: pipelines, \$(), &, wait, trap, find -exec, xargs, tar -z" with_budget 40 c_proc_shell busybox
add_case "proc/bash: the same, arrays, [[ ]], functions, pipefail, wait -n" with_budget 60 c_proc_shell bash
add_case "proc/files: one offset across a fork, audited proc_test.musl" with_budget 15 c_proc_files musl
add_case "proc/fork bomb stopped at --max-processes 6 proc_test.glibc" with_budget 20 c_proc_bomb glibc
add_case "proc/fork past 32MiB: ENOMEM, frames back proc_test.musl" with_budget 20 c_proc_memory musl
add_case "proc/first process ends: the job ends, others killed proc_test.musl" with_budget 15 c_proc_leave musl
add_case "proc/a child kills the first process: 143 proc_test.glibc-pie" with_budget 15 c_proc_killparent glibc-pie
