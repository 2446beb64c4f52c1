# Policy cases (issue 3, part 1): `isovm check` on examples/*.json and on malformed policies,
# and launch refusing bad policies and overrides with status 125.
# shellcheck shell=bash
# Sourced by run.sh: uses REPO, WORK, GUEST_DIR, ISOVM and lib.sh.
#
# Cases named "policy-check/..." never start a VM (isovm refuses before it opens /dev/kvm), so
# they run anywhere, KVM or not:
#   ISOVM=/tmp/b/isovm BUILD=/tmp/b tests/integration/run.sh policy-check
# Cases named "policy-launch/..." run a job and need the KVM host like the others.
# None is registered with ISOVM_NATIVE=1, which runs jobs without isovm.

EXAMPLES_DIR=${EXAMPLES_DIR:-$REPO/examples}

# _pc_err_is TEXT : stderr is exactly one line, TEXT
_pc_err_is() {
    [ "$HUNG" = 1 ] && return 1
    local n first
    n=$(wc -l <"$ERR_FILE")
    first=$(head -n1 "$ERR_FILE")
    if [ "$first" != "$1" ] || [ "$n" != 1 ]; then
        fail "stderr is not the one line '$1'"
        _show_outputs
        return 1
    fi
}

# _pc_err_starts PREFIX : stderr is one line starting with PREFIX
_pc_err_starts() {
    [ "$HUNG" = 1 ] && return 1
    local n first
    n=$(wc -l <"$ERR_FILE")
    first=$(head -n1 "$ERR_FILE")
    if [ "${first#"$1"}" = "$first" ] || [ "$n" != 1 ]; then
        fail "stderr is not one line starting with '$1'"
        _show_outputs
        return 1
    fi
}

# isovm check on one example: valid, "FILE: ok", nothing on stderr
c_pc_example() { # FILE
    run_cmd "$ISOVM" check "$1"
    expect_status 0 || return
    expect_stdout_eq "$1: ok"
    if [ -s "$ERR_FILE" ]; then fail "stderr not empty"; _show_outputs; fi
}

c_pc_examples_all() {
    local -a files=("$EXAMPLES_DIR"/*.json)
    local want="" f
    if [ ! -e "${files[0]}" ]; then
        fail "no examples in $EXAMPLES_DIR"
        return
    fi
    if [ "${#files[@]}" -lt 5 ]; then fail "only ${#files[@]} examples in $EXAMPLES_DIR"; fi
    for f in "${files[@]}"; do want+="$f: ok"$'\n'; done
    run_cmd "$ISOVM" check "${files[@]}"
    expect_status 0 || return
    expect_stdout_eq "${want%$'\n'}"
}

# --print: the effective policy as JSON, one key per line, units in the names
c_pc_print() {
    local f=$WORK/case/p.json
    printf '{"memory": "32MiB", "cpu": {"quota": "50%%", "period": "20ms"}, "timeout": "1.5s",\n' >"$f"
    printf ' "io": {"write": {"bandwidth": "1000/s"}}, "max_threads": 2}\n' >>"$f"
    run_cmd "$ISOVM" check --print "$f"
    expect_status 0 || return
    expect_stdout_line "{"
    expect_stdout_line '  "memory_bytes": 33554432,'
    expect_stdout_line '  "cpu_quota_ns": 10000000,'
    expect_stdout_line '  "cpu_period_ns": 20000000,'
    expect_stdout_line '  "cpu_time_limit_ns": 0,'
    expect_stdout_line '  "timeout_ns": 1500000000,'
    expect_stdout_line '  "io_write_bandwidth_size_bytes": 100,'
    expect_stdout_line '  "io_write_bandwidth_refill_time_ns": 100000000,'
    expect_stdout_line '  "max_threads": 2,'
    expect_stdout_line '  "max_capabilities": 64,'
    expect_stdout_line "}"
    if [ -n "$PYTHON3" ] &&
        ! py -c 'import json,sys; json.load(sys.stdin)' <"$OUT_FILE" 2>/dev/null; then
        fail "--print output is not valid JSON"
    fi
}

# A malformed policy: check exits 1 with exactly one line "FILE:LINE:COL: ..." on stderr.
# The file is written as job.json in the case directory and checked by that relative name.
c_pc_bad() { # CONTENT(printf %b) WANT_LINE_AFTER_"job.json:"
    local old=$PWD
    printf '%b' "$1" >"$WORK/case/job.json"
    cd "$WORK/case" || { fail "cd $WORK/case"; return; }
    run_cmd "$ISOVM" check job.json
    cd "$old" || true
    expect_status 1 || return
    _pc_err_is "job.json:$2"
    expect_stdout_eq ""
}

# One bad file among good ones: 1, the good ones still said ok, the bad one on stderr.
c_pc_mixed() {
    local good=$WORK/case/good.json bad=$WORK/case/bad.json
    printf '{}\n' >"$good"
    printf '{"max_threads": 0}\n' >"$bad"
    run_cmd "$ISOVM" check "$good" "$bad" "$good"
    expect_status 1 || return
    expect_stdout_eq "$good: ok
$good: ok"
    _pc_err_is "$bad:1:17: max_threads: 0 is outside 1..64"
}

c_pc_file() { # WHAT : files that are not policies
    local f
    case $1 in
        missing) f=$WORK/case/missing.json ;;
        directory) f=$WORK/case ;;
        device) f=/dev/null ;;
        large) f=$WORK/case/large.json
            { printf '{"memory": "64MiB"'; head -c 1048576 /dev/zero | tr '\0' ' '; printf '}\n'; } >"$f" ;;
    esac
    run_cmd "$ISOVM" check "$f"
    expect_status 1 || return
    case $1 in
        missing) _pc_err_is "$f: cannot open: No such file or directory" ;;
        directory) _pc_err_is "$f: a directory, not a regular file" ;;
        device) _pc_err_is "$f: a device, not a regular file" ;;
        large) _pc_err_is "$f: too large (1048596 bytes; a policy file is at most 1MiB)" ;;
    esac
}

c_pc_usage() { # ARGS... : bad usage of check: 125 and the usage text
    run_cmd "$ISOVM" check "$@"
    expect_status 125 || return
    expect_stderr_has_i "usage"
    expect_stderr_has "isovm check [--print] FILE..."
}

c_pc_help() {
    run_cmd "$ISOVM" --help
    expect_status 0 || return
    local o
    for o in "isovm check [--print] FILE..." --policy --memory --cpu-quota --cpu-period \
        --cpu-time-limit --timeout --max-threads --max-capabilities "--set KEY=VALUE"; do
        expect_stdout_has "$o"
    done
}

# launch refuses a bad policy or override before starting anything: 125, one line naming it.
# The program need not exist: the policy is checked first.
c_pc_launch_refused() { # WANT_STDERR_START WANT_USAGE(1/0) LAUNCH_ARGS...
    local want=$1 usage=$2
    shift 2
    run_cmd "$ISOVM" launch "$@" -- "$WORK/no/such/program"
    expect_status 125 || return
    if [ "$usage" = 1 ]; then
        expect_stderr_has "usage: isovm launch"
        if ! head -n1 "$ERR_FILE" | grep -qF -- "$want"; then
            fail "first stderr line lacks '$want'"
            _show_outputs
        fi
    else
        _pc_err_starts "$want"
    fi
}

c_pc_launch_ok() { # POLICY_FILE [OPTIONS...] : hello runs under the policy
    need hello.musl || return
    local p=$1 r=$WORK/case/report.json
    shift
    run_isovm launch --policy "$p" "$@" --report "$r" -- "$J"
    expect_status 0 || return
    expect_stdout_eq "hello from isovm"
    expect_report "$r" exit_reason '"exit"'
}

# Every override at once, after the file; the report's policy shows them.
c_pc_launch_overrides() {
    need hello.musl || return
    local r=$WORK/case/report.json
    run_isovm launch --memory 48MiB --cpu-quota 50% --policy "$EXAMPLES_DIR/tight.json" \
        --cpu-period 50ms --cpu-time-limit 5s --timeout 20s --max-threads 2 \
        --max-capabilities 16 --set io.write.bandwidth=4MiB/s --set io.read.ops=0 \
        --report "$r" -- "$J"
    expect_status 0 || return
    expect_stdout_eq "hello from isovm"
    expect_report "$r" memory_bytes $((48 << 20))
    expect_report "$r" cpu_quota_ns 25000000 # 50% of 50ms, whatever the order
    expect_report "$r" cpu_period_ns 50000000
    expect_report "$r" cpu_time_limit_ns 5000000000
    expect_report "$r" timeout_ns 20000000000
    expect_report "$r" io_write_bandwidth_size_bytes 425984
    expect_report "$r" io_read_ops_size 0
    expect_report "$r" max_threads 2
    expect_report "$r" max_capabilities 16
}

if ! native; then
    for f in "$EXAMPLES_DIR"/*.json; do
        [ -e "$f" ] || continue
        add_case "policy-check/example ${f##*/}" c_pc_example "$f"
    done
    add_case "policy-check/all examples at once" c_pc_examples_all
    add_case "policy-check/--print" c_pc_print
    add_case "policy-check/one bad among good files" c_pc_mixed
    for w in missing directory device large; do
        add_case "policy-check/not a policy: $w" c_pc_file "$w"
    done
    add_case "policy-check/usage: no file" c_pc_usage
    add_case "policy-check/usage: unknown option" c_pc_usage --bogus x.json
    add_case "policy-check/--help lists the policy options" c_pc_help

    # malformed policies: the exact line:column and key
    add_case "policy-check/bad size (the issue's example)" c_pc_bad \
        '{\n  "version": 1,\n  "cpu": {\n    "period": "100ms"\n  },\n  "timeout": "30s",\n    "memory": "lots"\n}\n' \
        '7:15: memory: expected a size like "64MiB" or an integer number of bytes, got "lots"'
    add_case "policy-check/syntax: missing comma" c_pc_bad \
        '{\n  "memory": "64MiB"\n  "timeout": "30s"\n}\n' \
        "3:11: invalid JSON: '}' expected near '\"timeout\"'"
    add_case "policy-check/syntax: trailing comma" c_pc_bad \
        '{\n  "memory": "64MiB",\n  "timeout": "30s",\n}\n' \
        "3:19: trailing comma before '}' (JSON allows none)"
    add_case "policy-check/duplicate key" c_pc_bad \
        '{\n  "cpu": {"period": "100ms",\n          "period": "50ms"}\n}\n' \
        '3:11: cpu.period: duplicate key (first given at 2:11)'
    add_case "policy-check/unknown top-level key" c_pc_bad \
        '{\n  "memroy": "64MiB"\n}\n' \
        '2:3: memroy: unknown key (did you mean "memory"?); valid keys here: version, memory, cpu, timeout, io, net, max_threads, max_processes, max_capabilities, vcpus, syscalls, grants, endpoints, cwd, audit, audit_max_bytes, control, job_id, tenant, seed'
    add_case "policy-check/unknown nested key" c_pc_bad \
        '{"io": {"write": {"bandwidth": {"size": "1MiB", "refill": "1s"}}}}\n' \
        '1:49: io.write.bandwidth.refill: unknown key; valid keys in "io.write.bandwidth": size, one_time_burst, refill_time'
    add_case "policy-check/wrong type" c_pc_bad \
        '{"max_threads": "16"}' '1:17: max_threads: expected an integer, got "16"'
    add_case "policy-check/duration without unit" c_pc_bad \
        '{"timeout": 30}' \
        '1:13: timeout: expected a duration with a unit like "500ms" or "30s" (or 0 for none), got 30 (a plain number has no unit)'
    add_case "policy-check/quota over 100% per thread" c_pc_bad \
        '{\n  "cpu": {"quota": "300%"},\n  "max_threads": 2\n}\n' \
        '2:20: cpu.quota: 300% is more than 100% for each of max_threads 2 (at most 200%)'
    add_case "policy-check/memory not a multiple of 4KiB" c_pc_bad \
        '{"memory": 10000000}' '1:12: memory: 10000000 bytes is not a multiple of 4KiB'
    add_case "policy-check/empty file" c_pc_bad '' \
        '1:1: empty policy: expected a JSON object like {"memory": "64MiB"} ({} for all defaults)'
    add_case "policy-check/number too large" c_pc_bad \
        '{"memory": 123456789012345678901234567890}' \
        '1:12: memory: number 123456789012345678901234567890 is out of range (integers are at most 9223372036854775807)'
    add_case "policy-check/bad rate" c_pc_bad \
        '{"io": {"read": {"ops": "0/s"}}}' \
        '1:25: io.read.ops: a rate of "0/s" would block all I/O (use 0 for no limit)'
    add_case "policy-check/top level not an object" c_pc_bad \
        '["memory", "64MiB"]' '1:1: expected a JSON object at the top level, got an array'
    add_case "policy-check/bad version" c_pc_bad \
        '{"version": 2}' '1:13: version: unsupported version 2 (this isovm reads version 1)'

    # launch: bad policies and overrides, before any VM
    pc_bad=$WORK/pc-bad.json
    pc_quota=$WORK/pc-quota.json
    printf '{\n  "memory": "lots"\n}\n' >"$pc_bad"
    printf '{"cpu": {"quota": "400%%"}, "max_threads": 8}\n' >"$pc_quota"
    add_case "policy-check/launch --policy with an error" c_pc_launch_refused \
        "isovm: $pc_bad:2:13: memory: expected a size" 0 --policy "$pc_bad"
    add_case "policy-check/launch --policy missing file" c_pc_launch_refused \
        "isovm: $WORK/none.json: cannot open: No such file or directory" 0 --policy "$WORK/none.json"
    add_case "policy-check/launch --max-threads before --policy still overrides" c_pc_launch_refused \
        "isovm: policy: cpu.quota: 400% is more than 100% for each of max_threads 2 (at most 200%)" 0 \
        --max-threads 2 --policy "$pc_quota"
    add_case "policy-check/launch --set after --policy" c_pc_launch_refused \
        "isovm: policy: cpu.quota: 400% is more than 100% for each of max_threads 3 (at most 300%)" 0 \
        --policy "$pc_quota" --set max_threads=3
    add_case "policy-check/launch --set bad value" c_pc_launch_refused \
        'isovm: --set cpu.quota=lots: expected a quota like "25%"' 1 --set cpu.quota=lots
    add_case "policy-check/launch --set unknown key" c_pc_launch_refused \
        'isovm: --set cpu.qouta=25%: unknown key "cpu.qouta" (did you mean "cpu.quota"?)' 1 --set cpu.qouta=25%
    add_case "policy-check/launch --set without =" c_pc_launch_refused \
        'isovm: --set: expected KEY=VALUE, got "memory"' 1 --set memory
    add_case "policy-check/launch --cpu-quota bad" c_pc_launch_refused \
        'isovm: --cpu-quota 0%: 0% would never let the job run (use 0 for no quota)' 1 --cpu-quota 0%
    add_case "policy-check/launch --cpu-period out of range" c_pc_launch_refused \
        'isovm: --cpu-period 20s: 20s is outside 1ms..10s' 1 --cpu-period 20s
    add_case "policy-check/launch --timeout without unit" c_pc_launch_refused \
        'isovm: --timeout 30: expected a duration with a unit' 1 --timeout 30
    add_case "policy-check/launch --cpu-time-limit bad" c_pc_launch_refused \
        'isovm: --cpu-time-limit soon: expected a duration' 1 --cpu-time-limit soon
    add_case "policy-check/launch --max-threads out of range" c_pc_launch_refused \
        'isovm: --max-threads 65: 65 is outside 1..64' 1 --max-threads 65
    add_case "policy-check/launch --max-capabilities out of range" c_pc_launch_refused \
        'isovm: --max-capabilities 2: 2 is outside 3..65536' 1 --max-capabilities 2
    add_case "policy-check/launch --memory bad" c_pc_launch_refused \
        'isovm: --memory 12345: 12345 bytes is outside 8MiB..64GiB' 1 --memory 12345
    add_case "policy-check/launch --policy twice" c_pc_launch_refused \
        'isovm: --policy given twice' 1 --policy "$pc_quota" --policy "$pc_quota"
    add_case "policy-check/launch half a bucket" c_pc_launch_refused \
        'isovm: policy: io.write.bandwidth: size 4MiB with refill_time 0 would never refill' 0 \
        --set io.write.bandwidth.size=4MiB

    # launch under policies (needs KVM)
    for f in hello tight; do
        add_case "policy-launch/hello.musl --policy examples/$f.json" c_pc_launch_ok "$EXAMPLES_DIR/$f.json"
    done
    add_case "policy-launch/hello.musl every override after the file" c_pc_launch_overrides
fi
