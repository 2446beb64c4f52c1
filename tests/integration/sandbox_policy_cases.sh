# Sandbox policy cases (issue 4): `isovm check` and `isovm launch` on the syscalls, grants, cwd,
# audit, control, job_id and seed keys and their options; refusals before any VM starts.
# shellcheck shell=bash
# Sourced by run.sh after policy_cases.sh (uses its c_pc_bad, c_pc_launch_refused). Every case
# is named "policy-check/sandbox ..." and runs without KVM:
#   ISOVM=/tmp/b/isovm BUILD=/tmp/b tests/integration/run.sh policy-check/sandbox

# --print of a sandbox policy: valid JSON with the sections, escaped strings
c_sp_print() {
    local f=$WORK/case/s.json
    cat >"$f" <<'JSON'
{"syscalls": {"profile": "deterministic", "action": "kill", "allow": ["openat", 1010], "deny": [101]},
 "grants": [{"guest": "/data", "host": "/srv/in \"q\"", "rights": ["read", "list"], "expires": "1s"}],
 "cwd": "/data", "audit": "a.audit", "job_id": "j-1", "seed": "18446744073709551615"}
JSON
    run_cmd "$ISOVM" check --print "$f"
    expect_status 0 || return
    expect_stdout_line '  "syscalls": {"profile": "deterministic", "action": "kill", "errno": "EPERM", "allow": ["openat", 1010], "deny": ["ptrace"]},'
    expect_stdout_line '    {"guest": "/data", "host": "/srv/in \"q\"", "rights": ["read","list"], "expires_ns": 1000000000}'
    expect_stdout_line '  "cwd": "/data",'
    expect_stdout_line '  "audit_path": "a.audit",'
    expect_stdout_line '  "control_path": null,'
    expect_stdout_line '  "job_id": "j-1",'
    expect_stdout_line '  "seed": 18446744073709551615'
    if [ -n "$PYTHON3" ] &&
        ! py -c 'import json,sys; json.load(sys.stdin)' <"$OUT_FILE" 2>/dev/null; then
        fail "--print output is not valid JSON"
    fi
}

c_sp_help() {
    run_cmd "$ISOVM" --help
    expect_status 0 || return
    local o
    for o in "--grant GUEST=HOST" --cwd --syscall-profile --syscall-action --seed --audit \
        --control --job-id; do
        expect_stdout_has "$o"
    done
}

if ! native; then
    add_case "policy-check/sandbox --print" c_sp_print
    add_case "policy-check/sandbox --help lists the sandbox options" c_sp_help
    add_case "policy-check/sandbox unknown syscall" c_pc_bad \
        '{\n  "syscalls": {"deny": ["ptrace", "opnat"]}\n}\n' \
        '2:35: syscalls.deny[1]: unknown syscall "opnat" (did you mean "openat"?) (names are Linux x86-64'"'"'s, like "openat", or isovm'"'"'s "isovm_cap_derive"; or give the number)'
    add_case "policy-check/sandbox bad profile" c_pc_bad \
        '{"syscalls": {"profile": "strict"}}' \
        '1:26: syscalls.profile: unknown value "strict"; expected one of "default", "deterministic", "none"'
    add_case "policy-check/sandbox nested grants" c_pc_bad \
        '{"grants": [\n  {"guest": "/data", "host": "/a"},\n  {"guest": "/data/x", "host": "/b"}]}' \
        '3:13: grants[1].guest: "/data/x" is inside grants[0]'"'"'s "/data"; grants cannot nest (give the nested directory its own guest path outside "/data")'
    add_case "policy-check/sandbox relative guest path" c_pc_bad \
        '{"grants": [{"guest": "data", "host": "/a"}]}' \
        '1:23: grants[0].guest: guest path "data" is not absolute (it must start with "/")'
    add_case "policy-check/sandbox unknown right" c_pc_bad \
        '{"grants": [{"guest": "/d", "host": "/a",\n  "rights": ["read", "wrte"]}]}' \
        '2:22: grants[0].rights[1]: unknown right "wrte"; expected "ro", "rw", "rx", "rwx" or rights from: read, write, create, delete, list, stat, seek, truncate, exec'
    add_case "policy-check/sandbox grant not an object" c_pc_bad \
        '{"grants": ["/data"]}' \
        '1:13: grants[0]: expected a grant object like {"guest": "/data", "host": "/srv/in", "rights": "ro"}, got "/data"'
    add_case "policy-check/sandbox bad job id" c_pc_bad \
        '{"job_id": "a b"}' \
        '1:12: job_id: job id "a b" has a character other than A-Z a-z 0-9 . _ - at byte 2'
    # a missing host directory is not check's business
    add_case "policy-check/sandbox host need not exist" c_pc_example "$EXAMPLES_DIR/sandbox.json"

    add_case "policy-check/sandbox launch --grant relative" c_pc_launch_refused \
        'isovm: --grant data=/srv: guest path "data" is not absolute' 1 --grant data=/srv
    add_case "policy-check/sandbox launch --grant nested after the file" c_pc_launch_refused \
        'isovm: --grant /data/x=/srv: "/data/x" is inside grants[0]'"'"'s "/data"' 1 \
        --policy "$EXAMPLES_DIR/sandbox.json" --grant /data/x=/srv
    add_case "policy-check/sandbox launch --grant bad right" c_pc_launch_refused \
        'isovm: --grant /d=/srv:rwxs: unknown right "rwxs"' 1 --grant /d=/srv:rwxs
    add_case "policy-check/sandbox launch --syscall-profile" c_pc_launch_refused \
        'isovm: --syscall-profile strict: unknown value "strict"' 1 --syscall-profile strict
    add_case "policy-check/sandbox launch --syscall-action" c_pc_launch_refused \
        'isovm: --syscall-action kil: unknown value "kil" (did you mean "kill"?)' 1 --syscall-action kil
    add_case "policy-check/sandbox launch --seed" c_pc_launch_refused \
        'isovm: --seed 18446744073709551616: "18446744073709551616" is above 18446744073709551615' 1 \
        --seed 18446744073709551616
    add_case "policy-check/sandbox launch --job-id" c_pc_launch_refused \
        'isovm: --job-id a/b: job id "a/b" has a character' 1 --job-id a/b
    add_case "policy-check/sandbox launch --cwd" c_pc_launch_refused \
        'isovm: --cwd /a/../b: guest path "/a/../b" has a ".." component' 1 --cwd /a/../b
    add_case "policy-check/sandbox launch --control too long" c_pc_launch_refused \
        'isovm: --control /run/' 1 \
        --control "/run/$(printf 'x%.0s' $(seq 1 110))"
    add_case "policy-check/sandbox launch --audit empty" c_pc_launch_refused \
        'isovm: --audit : expected a path, got ""' 1 --audit ''
fi
