#!/usr/bin/env bash
# Runs every isovm test: build (normal and ASan+UBSan), unit tests (plain, sanitized, valgrind), a
# short run of each libFuzzer harness, and the integration tests in one KVM host (this one if its
# /dev/kvm works, else the emulated one).
#
#   ./run-tests.sh            everything
#   ./run-tests.sh --quick    unit tests and fuzzing only (no KVM needed)
#
# Ends with "N passed, N failed" over all stages; exit status 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")"

quick=0
[ "${1:-}" = "--quick" ] && quick=1
passed=0
failed=0
failures=()

stage() { # NAME CMD...: run one stage, count it, keep its log
    local name=$1; shift
    local log="build/logs/$name.log"
    mkdir -p build/logs
    echo "=== $name"
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        tail -n 3 "$log" | sed 's/^/    /'
        echo "PASS $name"
    else
        failed=$((failed + 1))
        failures+=("$name")
        tail -n 40 "$log" | sed 's/^/    /'
        echo "FAIL $name (log: $log)"
    fi
}

valgrind_units() {
    local t rc=0
    for t in build/tests/test_*; do
        [ -x "$t" ] || continue
        if [ "${t##*/}" = test_vmm_seccomp ]; then
            # valgrind does not implement seccomp(2) (syscall 317), so the filter cannot be
            # built under it; this test runs in the unit and unit-san stages
            echo "valgrind: not run: $t (valgrind has no seccomp(2))"
            continue
        fi
        echo "valgrind $t"
        valgrind -q --error-exitcode=1 --leak-check=full "$t" >/dev/null || rc=1
    done
    return $rc
}

# Runs inside the KVM host (one boot): the integration suite on the normal and the sanitized isovm.
kvm_suite() {
    tests/emuhost/run.sh --timeout "${ISOVM_KVM_TIMEOUT:-3600}" -- bash -c '
        set -u; rc=0
        echo "--- integration (build/isovm)"
        tests/integration/run.sh || rc=1
        echo "--- integration (build-san/isovm, ASan+UBSan)"
        ISOVM=build-san/isovm tests/integration/run.sh || rc=1
        exit $rc'
}

stage deps scripts/install-deps.sh
stage build make -j"$(nproc)" all
stage build-san make -j"$(nproc)" SAN=1 all
stage unit make unit-run
stage unit-san make SAN=1 unit-run
stage unit-valgrind valgrind_units
stage fuzz-smoke make fuzz-smoke
stage jail-outer tests/jail/outer_cases.sh
stage jail-outer-san env ISOVM_HOOKS=build-san/isovm-hooks tests/jail/outer_cases.sh
if [ $quick -eq 0 ]; then
    stage emuhost-setup tests/emuhost/setup.sh
    stage kvm-integration kvm_suite
    stage emuhost-selftest tests/emuhost/selftest.sh
fi

echo
[ ${#failures[@]} -eq 0 ] || echo "failed stages: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
