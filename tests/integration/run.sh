#!/usr/bin/env bash
# Integration tests: run the guest jobs (build/guest), malformed ELFs and busybox under isovm and
# check exit status, stdout, stderr and the --report JSON. Needs a working /dev/kvm: run it
# through tests/emuhost/run.sh (docs/testing.md).
#
#   tests/integration/run.sh [OPTIONS] [FILTER...]
#
# Runs the cases whose name contains any FILTER (no FILTER: all of them). Options:
#   --exact        a FILTER must be a whole case name (run exactly one case)
#   --file FILE    only the cases registered by FILE (repeatable): limits_cases.sh, run.sh, ...
#   --list         print the selected case names, one a line, and run nothing
#   --claim DIR    shared work queue: run a case only if this run is the first to create the
#                  file DIR/<case index> (two emulated hosts share DIR and split the cases)
#   --reverse      go through the cases from the last one (with --claim: start at the other end)
#   --times FILE   append "MS<tab>PASS|FAIL<tab>LABEL<tab>NAME" for every case run
#
# Environment:
#   ISOVM      isovm binary            (default <repo>/$BUILD/isovm)
#   GUEST_DIR  built guest jobs        (default <repo>/$BUILD/guest)
#   BUILD      build directory         (default build; relative paths are relative to the repo)
#   BUSYBOX    static busybox          (default /bin/busybox)
#   CASE_TIMEOUT  seconds per case     (default 60)
#   ISOVM_EMUHOST_PROGRESS  if set, "running [LABEL] <case>" is appended to this file before
#              each case (tests/emuhost/run.sh prints the last one if the host hangs)
#   ISOVM_TEST_LABEL  LABEL above and in the --times file (e.g. "build-san/isovm, host 2")
#   ISOVM_NATIVE=1  run the jobs directly on the host (checks the jobs, not isovm)
#   ISOVM_TEST_SPLIT=0  every case in either build: each C-library variant of a job (not this
#              build's share, V4 below) and the cases only one build runs (lib.sh, add_case_san)
#
# Prints "PASS name" or "FAIL name: reason" per case, then "N passed, N failed".
# Exit status 1 if any case failed, 2 for a bad option. Needs only bash, coreutils, grep and sed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BUILD_DIR=$BUILD ;; *) BUILD_DIR=$REPO/$BUILD ;; esac
ISOVM=${ISOVM:-$BUILD_DIR/isovm}
GUEST_DIR=${GUEST_DIR:-$BUILD_DIR/guest}
BUSYBOX=${BUSYBOX:-/bin/busybox}
BADELF=${BADELF:-$BUILD_DIR/tests/badelf}
# absolute paths: some cases change directory
case $ISOVM in /*) ;; */*) ISOVM=$PWD/$ISOVM ;; esac
case $GUEST_DIR in /*) ;; *) GUEST_DIR=$PWD/$GUEST_DIR ;; esac

# shellcheck source=lib.sh
. "$HERE/lib.sh"

LIST=0
while [ $# -gt 0 ]; do
    case $1 in
        --exact) SELECT_EXACT=1 ;;
        --file) [ $# -ge 2 ] || { echo "run.sh: --file needs a case file name" >&2; exit 2; }
            SELECT_FILES+=("$2"); shift ;;
        --list) LIST=1 ;;
        --claim) [ $# -ge 2 ] && [ -d "$2" ] || { echo "run.sh: --claim needs an existing folder" >&2; exit 2; }
            CLAIM_DIR=$2; shift ;;
        --reverse) CLAIM_REVERSE=1 ;;
        --times) [ $# -ge 2 ] || { echo "run.sh: --times needs a file" >&2; exit 2; }
            TIMES_FILE=$2; shift ;;
        -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) break ;;
    esac
    shift
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/isovm-it.XXXXXX") || { echo "mktemp failed" >&2; exit 1; }
trap 'py_stop; wd_stop; rm -rf "$WORK"' EXIT

# The guest jobs' C-library variants. The plain and the sanitized builds are one VMM, so a case
# run for each variant of a job runs each variant in one build only (docs/testing.md): every
# variant runs once a suite, and each build runs both C libraries and both kinds of ELF.
#   V4  this build's share of the four (musl, musl-pie, glibc, glibc-pie): plain musl and
#       glibc-pie, sanitized musl-pie and glibc
#   V2  this build's share of the two the costlier cases use (musl, glibc-pie): plain musl,
#       sanitized glibc-pie
# Native runs, and ISOVM_TEST_SPLIT=0, take every variant in either build.
if ! split_builds; then
    V4="musl musl-pie glibc glibc-pie" V2="musl glibc-pie"
elif san_isovm; then
    V4="musl-pie glibc" V2="glibc-pie"
else
    V4="musl glibc-pie" V2="musl"
fi
GIB=$((1 << 30))

# ---------------------------------------------------------------------------------------------
# Well-behaved jobs

c_hello() { # VARIANT [ISOVM OPTIONS...]
    need "hello.$1" || return
    local v=$1
    shift
    run_isovm launch "$@" -- "$J"
    expect_status 0
    expect_stdout_eq "hello from isovm"
    expect_stderr_has "to stderr"
}

c_hello_raw() {
    need hello_raw.raw || return
    launch "$J"
    expect_status 0
    expect_stdout_eq "raw hello"
}

c_exit_raw() { # JOB STATUS
    need "$1" || return
    launch "$J"
    expect_status "$2"
}

c_args() {
    need "args.$1" || return
    launch "$J" a "b c" "" 'd"e' "ünï"
    expect_status 0
    expect_stdout_eq "argc=6
argv[0]=$J
argv[1]=a
argv[2]=b c
argv[3]=
argv[4]=d\"e
argv[5]=ünï
envc=0"
}

c_args_env() {
    need "args.$1" || return
    run_isovm launch --env A=1 --env "B=two words" --env EMPTY= -- "$J" x
    expect_status 0
    expect_stdout_eq "argc=2
argv[0]=$J
argv[1]=x
envp[0]=A=1
envp[1]=B=two words
envp[2]=EMPTY=
envc=3"
}

c_args_many() {
    need "args.$1" || return
    local -a a=()
    local i long
    for ((i = 1; i <= 300; i++)); do a+=("arg$i"); done
    long=$(printf '%04000d' 7)
    a+=("$long")
    launch "$J" "${a[@]}"
    expect_status 0
    expect_stdout_line "argc=302"
    expect_stdout_line "argv[300]=arg300"
    expect_stdout_line "argv[301]=$long"
}

c_argv0_relative() { # argv[0] is PROGRAM exactly as given, here a relative path
    need "args.$1" || return
    local rel="./${J##*/}" old=$PWD
    cd "$GUEST_DIR" || { fail "cd $GUEST_DIR"; return; }
    launch "$rel"
    cd "$old" || true
    expect_status 0
    expect_stdout_line "argv[0]=$rel"
}

c_selfexe_relative() { # /proc/self/exe is absolute even when PROGRAM was given relative
    need "selfexe.$1" || return
    local rel="./${J##*/}" old=$PWD
    cd "$GUEST_DIR" || { fail "cd $GUEST_DIR"; return; }
    launch "$rel"
    cd "$old" || true
    expect_status 0
    expect_checks_pass
    expect_stdout_line "exe=$(cd "$GUEST_DIR" && pwd -P)/${J##*/}"
}

c_exitcode() {
    need "exitcode.$1" || return
    local n
    for n in 0 3 42 255; do
        launch "$J" "$n"
        expect_status "$n" "exit($n)" || return
    done
    launch "$J" 256
    expect_status 0 "exit(256) keeps the low 8 bits"
}

c_retmain() {
    need "retmain.$1" || return
    launch "$J"
    expect_status 7
}

c_checks() { # JOB.VARIANT [ARGS...] : a check.h job that must exit 0 with every check ok
    need "$1" || return
    shift
    launch "$J" "$@"
    expect_status 0
    expect_checks_pass
}

c_malloc() {
    need "malloc_stress.$1" || return
    launch "$J"
    expect_status 0
    expect_stdout_has "malloc ok"
}

c_mmap() {
    need "mmap_test.$1" || return
    if native; then
        launch "$J"
    else
        run_isovm launch --memory 16M -- "$J" --expect-enomem # every page it maps is touched
    fi
    expect_status 0
    expect_checks_pass
}

c_writev() {
    need "writev_test.$1" || return
    with_stdin $'hello, readv\n'
    launch "$J"
    expect_status 0
    expect_stdout_has "one two three"
    expect_checks_pass
}

c_hostile() {
    need "hostile_ptrs.$1" || return
    with_stdin "$(printf 'x%.0s' {1..64})"
    if native; then launch "$J" --native; else launch "$J"; fi
    expect_status 0
    expect_checks_pass
    expect_stdout_lacks "SOFW" # firmware image magic: firmware bytes leaked to stdout
}

c_report_hello() {
    need "hello.$1" || return
    local r=$WORK/case/report.json
    run_isovm launch --report "$r" -- "$J"
    expect_status 0
    expect_stdout_eq "hello from isovm"
    native && return
    expect_report "$r" exit_reason '"exit"'
    expect_report "$r" exit_status 0
    expect_report_ge "$r" hypercalls_total 2
    # glibc's stdio writes with write (1), musl's with writev (20)
    expect_report_match "$r" '"(1|20)":[[:space:]]*[1-9]' 'syscalls has no count for write ("1") or writev ("20")'
    expect_report_match "$r" '"(231|60)":[[:space:]]*1' 'syscalls has no exit_group ("231") or exit ("60")'
    expect_report "$r" unknown_syscalls_total 0
}

c_report_unknown() {
    need "unknown_syscall.$1" || return
    local r=$WORK/case/report.json
    run_isovm launch --report "$r" -- "$J"
    expect_status 0
    native && return
    expect_report "$r" exit_reason '"exit"'
    expect_report_ge "$r" unknown_syscalls_total 4
    expect_report_match "$r" '"9999":[[:space:]]*1' 'unknown_syscalls lacks "9999": 1'
    expect_report_match "$r" '"500":[[:space:]]*1' 'unknown_syscalls lacks "500": 1'
}

c_report_exit() { # exit status in the report for a non-zero exit
    need "exitcode.$1" || return
    local r=$WORK/case/report.json
    run_isovm launch --report "$r" -- "$J" 42
    expect_status 42
    expect_report "$r" exit_reason '"exit"'
    expect_report "$r" exit_status 42
}

# ---------------------------------------------------------------------------------------------
# Faults

c_fault() { # JOB.VARIANT SIGNAL STATUS KIND MARKER [STDERR_TEXT]
    need "$1" || return
    local r=$WORK/case/report.json
    run_isovm launch --report "$r" -- "$J"
    expect_fault "$2" "$3" "$4" || return
    # the job must have got as far as the faulting statement (not died earlier, e.g. in libc)
    expect_stdout_line "$5"
    expect_stdout_lacks "still alive"
    if [ -n "${6:-}" ] && ! native; then expect_stderr_has "$6"; fi
    expect_report "$r" exit_reason '"signal"'
    expect_report "$r" signal "\"$2\""
}

# entry point of an ELF64 file, from its header (coreutils od only)
elf_entry() {
    local hex
    hex=$(od -An -t x8 -j 24 -N 8 "$1" | tr -d ' \n')
    printf '%d' "$((16#$hex))"
}

# the "rip 0x..." of the fault line lies in [entry, entry + 64): the fault happened in the first
# few instructions of the raw job, not somewhere else (e.g. in the firmware start path)
expect_rip_near_entry() {
    native && return 0
    local rip entry
    rip=$(sed -n 's/.*rip 0x\([0-9a-fA-F]*\).*/\1/p' "$ERR_FILE" | head -n1)
    entry=$(elf_entry "$1")
    if [ -z "$rip" ]; then
        fail "no 'rip 0x...' in stderr"
        return 1
    fi
    if (( 16#$rip < entry || 16#$rip >= entry + 64 )); then
        fail "fault at rip 0x$rip, not in the job's first instructions (entry $(printf '0x%x' "$entry"))"
        return 1
    fi
}

# ring-3 privileged/hostile first instruction: must fault, and no hypercall may have happened
c_raw_fault() { # JOB SIGNAL STATUS KIND [STDERR_TEXT]
    need "$1.raw" || return
    local r=$WORK/case/report.json
    run_isovm launch --report "$r" -- "$J"
    expect_fault "$2" "$3" "$4" || return
    if [ -n "${5:-}" ] && ! native; then
        expect_stderr_has "$5"
    else
        expect_rip_near_entry "$J"
    fi
    expect_report "$r" exit_reason '"signal"'
    expect_report "$r" signal "\"$2\""
    expect_report "$r" hypercalls_total 0
}

c_sysret() { # Linux: sysret at CPL 3 is #GP -> SIGSEGV; accept #UD -> SIGILL too
    need sysret.raw || return
    local r=$WORK/case/report.json
    run_isovm launch --report "$r" -- "$J"
    expect_status_in "139 132" || return
    native && return
    expect_rip_near_entry "$J"
    grep -qE 'SIGSEGV|SIGILL' "$ERR_FILE" || fail "stderr names neither SIGSEGV nor SIGILL"
    expect_stderr_has "rip 0x"
    expect_report "$r" hypercalls_total 0
}

# ---------------------------------------------------------------------------------------------
# Refused programs and CLI errors

c_missing() {
    run_isovm launch -- "$WORK/no/such/job"
    expect_status 127
    native || expect_stderr_has "$WORK/no/such/job"
}

c_badelf_file() { # FILE [DESCRIPTION]
    if [ ! -e "$1" ]; then
        fail "malformed ELF $1 was not generated"
        return
    fi
    run_isovm launch -- "$1"
    case $RC in
        125 | 134 | 139) fail "isovm itself failed (status $RC) on $1${2:+ ($2)}" ;;
    esac
    expect_status 126 "refused ELF" || return
    expect_stderr_has "bad ELF"
    expect_stderr_has "isovm: "
}

# own malformed files, made with coreutils only
make_own_badelf() { # KIND -> prints the path
    local f=$WORK/own-$1 src=$GUEST_DIR/hello.musl
    case $1 in
        empty) : >"$f" ;;
        script) printf '#!/bin/sh\necho hi\n' >"$f" ;;
        zeros) head -c 4096 /dev/zero >"$f" ;;
        header-only) head -c 64 "$src" >"$f" ;;
        truncated) head -c 300 "$src" >"$f" ;;
        class32) cp "$src" "$f" && printf '\001' | dd of="$f" bs=1 seek=4 conv=notrunc status=none ;;
        bigendian) cp "$src" "$f" && printf '\002' | dd of="$f" bs=1 seek=5 conv=notrunc status=none ;;
        machine-i386) cp "$src" "$f" && printf '\003\000' | dd of="$f" bs=1 seek=18 conv=notrunc status=none ;;
        type-rel) cp "$src" "$f" && printf '\001\000' | dd of="$f" bs=1 seek=16 conv=notrunc status=none ;;
        phoff-huge) cp "$src" "$f" && printf '\377\377\377\377\377\377\377\177' | dd of="$f" bs=1 seek=32 conv=notrunc status=none ;;
        phnum-huge) cp "$src" "$f" && printf '\377\377' | dd of="$f" bs=1 seek=56 conv=notrunc status=none ;;
        dynamic) f=/usr/bin/true ;; # a dynamically linked program (PT_INTERP)
    esac
    printf '%s' "$f"
}

c_own_badelf() { # KIND
    if [ ! -f "$GUEST_DIR/hello.musl" ]; then
        fail "job not built: $GUEST_DIR/hello.musl"
        return
    fi
    local f
    f=$(make_own_badelf "$1")
    c_badelf_file "$f" "$1"
}

c_badelf_missing() {
    fail "$BADELF not built (make $BUILD/tests/badelf)"
}

c_badelf_gen_failed() {
    fail "$BADELF $WORK/badelf failed with status $1"
}

c_cli() { # WANT_STATUS WANT_USAGE(1/0) ISOVM ARGS...
    local want=$1 usage=$2
    shift 2
    run_isovm "$@"
    expect_status "$want" || return
    if [ "$usage" = 1 ]; then expect_stderr_has_i "usage"; fi
}

c_cli_ok_job() { # isovm options that must still run hello
    need hello.musl || return
    run_isovm "$@" "$J"
    expect_status 0
    expect_stdout_eq "hello from isovm"
}

# ---------------------------------------------------------------------------------------------
# busybox (Debian busybox-static)

c_bb() { # WANT_STATUS WANT_STDOUT(or -) [--stdin TEXT] [--env K=V] APPLET ARGS...
    local want=$1 out=$2
    shift 2
    local -a opts=()
    while [ $# -gt 0 ]; do
        case $1 in
            --stdin) with_stdin "$2"; shift 2 ;;
            --env) opts+=(--env "$2"); shift 2 ;;
            *) break ;;
        esac
    done
    if [ ! -x "$BUSYBOX" ]; then
        fail "$BUSYBOX not found (busybox-static)"
        return
    fi
    run_isovm launch "${opts[@]}" -- "$BUSYBOX" "$@"
    expect_status "$want" || return
    if [ "$out" != - ]; then expect_stdout_eq "$out"; fi
}

# ---------------------------------------------------------------------------------------------
# Registration

for v in $V4; do
    add_case "hello.$v" c_hello "$v"
done
add_case "hello.musl --memory 16M" c_hello musl --memory 16M
add_case "hello.glibc-pie --memory 16M" c_hello glibc-pie --memory 16M
add_case "hello_raw.raw" c_hello_raw
add_case "exit42_raw.raw" c_exit_raw exit42_raw.raw 42
add_case "regs_raw.raw (syscall preserves registers)" c_exit_raw regs_raw.raw 0
add_case "badrsp_raw.raw (syscall with hostile rsp)" c_exit_raw badrsp_raw.raw 3
for v in $V4; do
    add_case "args.$v" c_args "$v"
    add_case "args.$v --env" c_args_env "$v"
    add_case "exitcode.$v" c_exitcode "$v"
    add_case "retmain.$v" c_retmain "$v"
done
add_case "args.musl many args" c_args_many musl
add_case "args.glibc-pie many args" c_args_many glibc-pie
add_case "args.glibc relative argv0" c_argv0_relative glibc
add_case "args.musl relative argv0" c_argv0_relative musl
add_case "selfexe.musl relative program" c_selfexe_relative musl
# The page of x86's local APIC (0xfee00000) in a job with 4.2 GiB of RAM: plain memory, though
# isovm's vCPUs have KVM's in-kernel APIC (disabled in hardware, docs/architecture.md)
c_apic_page() {
    need "apic_page.$1" || return
    if native; then
        launch "$J"
    else
        run_isovm launch --memory 4200M -- "$J"
    fi
    expect_status 0
    expect_stdout_has "ok rep movs into the page"
}
add_case "apic_page.musl: RAM where the APIC would be" c_apic_page musl
for v in $V4; do
    add_case "malloc_stress.$v" c_malloc "$v"
    add_case "mmap_test.$v" c_mmap "$v"
    for t in brk_test time_test random_test uname_test ids_test tty_test selfexe fstat_test \
        sigaction_test unknown_syscall; do
        add_case "$t.$v" c_checks "$t.$v"
    done
    add_case "writev_test.$v" c_writev "$v"
    add_case "hostile_ptrs.$v" c_hostile "$v"
done
add_case "report hello.musl" c_report_hello musl
add_case "report hello.glibc-pie" c_report_hello glibc-pie
add_case "report exitcode.glibc 42" c_report_exit glibc
add_case "report unknown_syscall.musl" c_report_unknown musl

for v in $V4; do
    add_case "segv.$v" c_fault "segv.$v" SIGSEGV 139 "page fault" "writing to NULL" "address 0x0"
    add_case "ud2.$v" c_fault "ud2.$v" SIGILL 132 "invalid opcode" "executing ud2"
    add_case "divzero.$v" c_fault "divzero.$v" SIGFPE 136 "divide error" "dividing by zero"
    add_case "int3.$v" c_fault "int3.$v" SIGTRAP 133 "breakpoint" "executing int3"
    add_case "stackoverflow.$v" c_fault "stackoverflow.$v" SIGSEGV 139 "page fault" "recursing"
    add_case "munmap_fault.$v" c_fault "munmap_fault.$v" SIGSEGV 139 "page fault" "touching unmapped page"
    add_case "abort.$v" c_fault "abort.$v" SIGABRT 134 "SIGABRT" "calling abort"
    add_case "mprotect_fault.$v" c_fault "mprotect_fault.$v" SIGSEGV 139 "page fault" \
        "read back 1, writing to read-only page" "write"
done
for j in out_port out_hcall out_exc in_port hlt wrmsr rdmsr cli lgdt mov_cr3; do
    add_case "$j.raw" c_raw_fault "$j" SIGSEGV 139 "general protection"
done
add_case "jump_fw.raw" c_raw_fault jump_fw SIGSEGV 139 "page fault" "rip 0x80000,"
add_case "read_fw.raw" c_raw_fault read_fw SIGSEGV 139 "page fault" "address 0x4000"
add_case "write_gdt.raw" c_raw_fault write_gdt SIGSEGV 139 "page fault" "address 0x1000"
add_case "sysret.raw" c_sysret

add_case "missing file" c_missing
if ! native; then
    for k in empty script zeros header-only truncated class32 bigendian machine-i386 type-rel \
        phoff-huge phnum-huge dynamic; do
        add_case "own-badelf/$k" c_own_badelf "$k"
    done
    if [ -x "$BADELF" ]; then
        mkdir -p "$WORK/badelf"
        timeout -k 5 60 "$BADELF" "$WORK/badelf" >"$WORK/badelf.list" 2>"$WORK/badelf.err"
        st=$?
        if [ "$st" != 0 ]; then
            add_case "badelf generator" c_badelf_gen_failed "$st"
        fi
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            case $line in /*) f=$line ;; *) f=$WORK/badelf/$line ;; esac
            [ -e "$f" ] || { [ -e "$WORK/badelf/${line##*/}" ] && f=$WORK/badelf/${line##*/}; }
            add_case "badelf/${line##*/}" c_badelf_file "$f"
        done <"$WORK/badelf.list"
    else
        add_case "badelf generator" c_badelf_missing
    fi

    add_case "cli unknown option" c_cli 125 1 launch --bogus-option -- "$GUEST_DIR/hello.musl"
    add_case "cli --memory garbage" c_cli 125 1 launch --memory garbage -- "$GUEST_DIR/hello.musl"
    add_case "cli --memory without value" c_cli 125 1 launch --memory
    add_case "cli missing program" c_cli 125 1 launch
    add_case "cli missing program after --" c_cli 125 1 launch --
    add_case "cli no subcommand" c_cli 125 1
    add_case "cli unknown subcommand" c_cli 125 1 frobnicate "$GUEST_DIR/hello.musl"
    add_case "cli --memory 64M then --" c_cli_ok_job launch --memory 64M --
    add_case "cli program without --" c_cli_ok_job launch
fi

add_case "busybox echo" c_bb 0 "hello world" echo hello world
add_case "busybox printf" c_bb 0 "a-5" printf '%s-%d\n' a 5
add_case "busybox seq" c_bb 0 $'1\n2\n3\n4\n5' seq 1 5
add_case "busybox true" c_bb 0 "" true
add_case "busybox false" c_bb 1 "" false
add_case "busybox uname -m" c_bb 0 "x86_64" uname -m
add_case "busybox basename" c_bb 0 "c" basename /a/b/c
add_case "busybox expr" c_bb 0 "42" expr 6 '*' 7
add_case "busybox wc -c stdin" c_bb 0 "6" --stdin $'hello\n' wc -c
add_case "busybox cat stdin" c_bb 0 $'line one\nline two' --stdin $'line one\nline two\n' cat
add_case "busybox env" c_bb 0 "FOO=bar" --env FOO=bar env
add_case "busybox sh -c arithmetic" c_bb 0 "32" sh -c 'x=5; echo $((x*6+2))'
. "$HERE/limits_cases.sh" # resource limits (issue 3)
. "$HERE/policy_cases.sh" # policy files, isovm check, policy options (issue 3)
. "$HERE/sandbox_policy_cases.sh" # the policy's sandbox keys and options (issue 4)
. "$HERE/filter_cases.sh" # the syscall filter (issue 4)
. "$HERE/threads_cases.sh" # limits over several threads, TLB shootdown (issue 3)
. "$HERE/proc_cases.sh" # processes: fork, wait, groups, limits (issue 17)
. "$HERE/caps_cases.sh" # capabilities: attenuation, expiry, revocation, limit (issue 4)
. "$HERE/determinism_cases.sh" # deterministic jobs (issue 4, part 5)
. "$HERE/fs_cases.sh" # the file-system view: grants, rights, escapes, busybox (issue 4)
. "$HERE/hardening_fs_cases.sh" # hostile file-system jobs: symlinks, FIFOs, audit flood (issue 12)
. "$HERE/audit_cases.sh" # audit log, isovm cap and the control socket (issue 4)
. "$HERE/net_cases.sh" # network endpoints as capabilities (issue 5)
. "$HERE/valgrind_cases.sh" # isovm itself under valgrind
. "$HERE/jail_cases.sh" # isovm jail: namespaces, pivot_root, cgroup, privileges (issue 5)
. "$HERE/seccomp_cases.sh" # the VMM's own seccomp filter (issue 5, part 3)
. "$HERE/blocking_cases.sh" # blocking calls end when the supervisor says so; issue 12 races
. "$HERE/linux_cases.sh" # the Linux tier: Debian's kernel, isovm's init, disks, limits (issue 13)
. "$HERE/linux_grants_cases.sh" # the Linux tier's grants as a shared file system (issue 14)
. "$HERE/linux_net_cases.sh" # the Linux tier's network: endpoints over virtio-net and libslirp (issue 14)
. "$HERE/linux_ci_cases.sh" # the Linux tier: a real CI job through grants and endpoints (issue 14)
. "$HERE/quota_cases.sh" # tenant budgets across jobs: launch --tenant and the ledger (issue 15)
. "$HERE/pool_cases.sh" # isovm pool: warm microVMs made ahead of their jobs (issue 16)
. "$HERE/pool_linux_cases.sh" # isovm pool --rootfs: the Linux tier's machines made ahead (issue 16)

# ---------------------------------------------------------------------------------------------
if [ "$LIST" = 1 ]; then
    list_cases "$@"
    exit 0
fi
if [ ${#SELECT_FILES[@]} -gt 0 ]; then
    for f in "${SELECT_FILES[@]}"; do
        printf '%s\n' "${CASE_FILES[@]}" | grep -qxF -- "${f##*/}" ||
            { echo "run.sh: --file $f: no case is registered by that file" >&2; exit 2; }
    done
fi
py_start # one python3 for every case's short scripts (lib.sh, py)
wd_start # one watchdog for every command's time limit (lib.sh, _timed)
if ! native && [ ! -x "$ISOVM" ]; then
    echo "FAIL setup: isovm not found at $ISOVM (make $BUILD/isovm)"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -d "$GUEST_DIR" ]; then
    echo "warning: $GUEST_DIR missing (make guest)" >&2
fi

run_cases "$@"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
