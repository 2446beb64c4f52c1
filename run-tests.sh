#!/usr/bin/env bash
# Runs every isovm test (docs/testing.md): the builds (plain and ASan+UBSan, side by side), the
# unit tests (plain, sanitized, valgrind), the integration helpers' self-test, the jailer's outer
# cases, the emulated host's self-test, and the integration suite on both builds in two KVM hosts
# booted side by side (this machine's /dev/kvm if it works, else two emulated hosts). The
# host-side stages run while the KVM hosts do.
#
#   ./run-tests.sh            everything
#   ./run-tests.sh --quick    the stages that need no KVM host: builds, unit tests, the
#                             integration helpers' self-test, the jailer's outer cases
#
# Environment: ISOVM_KVM_HOSTS (default 2; 1 on a one-core machine) KVM hosts side by side;
# ISOVM_KVM_TIMEOUT (default 2400) whole-run limit of each, in seconds; ISOVM_KVM_IDLE_TIMEOUT
# (default 300) stops a KVM host that started no case for that long (a hang; the case and the
# host are named); ISOVM_KVM_FILTER="F..." runs only the integration cases whose name contains
# one of the words F (to try the whole pipeline quickly; the summary says so);
# ISOVM_RUN_STARTED_NS (set by .ci/run) counts the total wall time from there.
#
# Prints each stage's result as it ends, then each stage's wall time, the ten slowest integration
# cases and the total wall time, and ends with "N passed, N failed" over all stages; exit status
# 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")" || exit 1

quick=0
case ${1:-} in
    "") ;;
    --quick) quick=1 ;;
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "run-tests.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

now_ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$(now_ms)
[[ ${ISOVM_RUN_STARTED_NS:-} =~ ^[0-9]+$ ]] && T0=$((ISOVM_RUN_STARTED_NS / 1000000))
LOGS=build/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
passed=0
failed=0
failures=()
stages=() # in the order they were started

secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; } # MS -> seconds, one decimal

# stage_bg [--after OTHER] [--nice] NAME CMD... : start a stage in the background (after stage
# OTHER has ended; at a low CPU priority with --nice); its output goes to $LOGS/NAME.log, its
# start, end (ms) and exit status to $LOGS/NAME.start, .end and .rc
stage_bg() {
    local after="" nice=0
    while :; do
        case $1 in
            --after) after=$2; shift 2 ;;
            --nice) nice=1; shift ;;
            *) break ;;
        esac
    done
    local name=$1
    shift
    stages+=("$name")
    (
        if [ -n "$after" ]; then
            while [ ! -f "$LOGS/$after.rc" ]; do sleep 0.5; done
        fi
        now_ms >"$LOGS/$name.start"
        [ "$nice" = 0 ] || renice -n 10 -p "$BASHPID" >/dev/null
        "$@" >"$LOGS/$name.log" 2>&1 </dev/null
        echo $? >"$LOGS/$name.rc"
        now_ms >"$LOGS/$name.end"
    ) &
    echo $! >"$LOGS/$name.pid"
}

took_ms() { # NAME : the stage's wall time so far (ms)
    local start end
    start=$(cat "$LOGS/$1.start" 2>/dev/null || now_ms)
    end=$(cat "$LOGS/$1.end" 2>/dev/null || now_ms)
    echo $((end - start))
}

# stage_wait NAME... : wait for these stages, then count and print each one's result
stage_wait() {
    local name rc log
    for name in "$@"; do
        wait "$(cat "$LOGS/$name.pid")" 2>/dev/null
        rc=$(cat "$LOGS/$name.rc" 2>/dev/null || echo 1)
        log=$LOGS/$name.log
        echo "=== $name ($(secs "$(took_ms "$name")") s)"
        if [ "$rc" = 0 ]; then
            passed=$((passed + 1))
            tail -n 3 "$log" | cut -c1-150 | sed 's/^/    /'
            echo "PASS $name"
        else
            failed=$((failed + 1))
            failures+=("$name")
            tail -n 40 "$log" | sed 's/^/    /'
            echo "FAIL $name (log: $log)"
        fi
    done
}

stage() { # [--nice] NAME CMD... : one stage, run now
    local name=$1
    [ "$name" = --nice ] && name=$2
    stage_bg "$@"
    stage_wait "$name"
}

valgrind_units() {
    local t rc=0 failed_units=""
    for t in build/tests/test_*; do
        [ -x "$t" ] || continue
        if [ "${t##*/}" = test_vmm_seccomp ]; then
            # valgrind does not implement seccomp(2) (syscall 317), so the filter cannot be
            # built under it; this test runs in the unit and unit-san stages
            echo "valgrind: not run: $t (valgrind has no seccomp(2))"
            continue
        fi
        echo "valgrind $t"
        if ! valgrind -q --error-exitcode=1 --leak-check=full \
            --suppressions=tests/unit/valgrind.supp "$t" >"$LOGS/valgrind.out" 2>&1; then
            rc=1
            failed_units+="${t##*/} "
            cat "$LOGS/valgrind.out"
            cp "$LOGS/valgrind.out" "$LOGS/valgrind.${t##*/}.out"
        else
            grep '^\[  PASSED  \]' "$LOGS/valgrind.out"
        fi
    done
    # the failures again at the end, where the stage's summary (its last lines) shows them
    for t in $failed_units; do
        echo "valgrind FAILED: $t; its last lines ($LOGS/valgrind.$t.out):"
        grep -v '^\[ *\(RUN\|OK\) *\]' "$LOGS/valgrind.$t.out" | tail -n 12
    done
    rm -f "$LOGS/valgrind.out"
    return $rc
}

quota_cases() { # ISOVM: `isovm quota`'s commands, then `quota serve` (with a real Prometheus)
    local rc=0
    ISOVM=$1 tests/quota/cli_cases.sh || rc=1
    ISOVM=$1 tests/quota/serve_cases.sh || rc=1
    return $rc
}

# ---- the integration suite in two KVM hosts --------------------------------------------------
# Each host runs tests/integration/shard.sh over one queue folder: host1 starts with build/isovm,
# host2 with build-san/isovm, and each then helps with the other's cases (docs/testing.md).
QUEUE=build/kvm-queue
BUILDS=(build build-san)
KVM_HOSTS=${ISOVM_KVM_HOSTS:-2}
case $KVM_HOSTS in 1 | 2) ;; *) echo "run-tests.sh: ISOVM_KVM_HOSTS must be 1 or 2" >&2; exit 2 ;; esac
read -r -a KVM_FILTER <<<"${ISOVM_KVM_FILTER:-}"

# kvm_host N BUILD... : one KVM host, the builds in this order. In a session of its own (setsid):
# where the kernel groups CPU time by session (autogroup), each emulated host then gets a
# session's share of a busy machine, not half of one. Stopped with run-tests.sh (stop_kvm_hosts).
kvm_host() {
    local n=$1 pid
    shift
    setsid tests/emuhost/run.sh --timeout "${ISOVM_KVM_TIMEOUT:-2400}" \
        --idle-timeout "${ISOVM_KVM_IDLE_TIMEOUT:-300}" -- \
        tests/integration/shard.sh "$QUEUE" "host$n" "$@" -- "${KVM_FILTER[@]}" &
    pid=$!
    echo "$pid" >"$LOGS/kvm-host$n.emuhost-pid"
    wait "$pid"
}

stop_kvm_hosts() { # on an interrupt: the hosts are in other sessions and did not get it
    local f
    for f in "$LOGS"/kvm-host*.emuhost-pid; do
        [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
    done
    return 0
}
trap 'echo "run-tests.sh: interrupted" >&2; stop_kvm_hosts; exit 130' INT
trap 'echo "run-tests.sh: terminated" >&2; stop_kvm_hosts; exit 143' TERM

# kvm_results BUILD : every case of BUILD/isovm ran and passed (from the hosts' times files and
# logs); prints one line per failed or missing case (their details, as the hosts printed them, go
# to $LOGS/failures.BUILD.txt), and "N passed, N failed" for that build
kvm_results() {
    local b=$1 label=$1/isovm list times details=$LOGS/failures.$1.txt
    list=$LOGS/cases.$b.txt
    times=$LOGS/times.$b.txt
    if ! ISOVM=$b/isovm tests/integration/run.sh --list -- "${KVM_FILTER[@]}" >"$list"; then
        echo "cannot list the cases of $label"
        return 1
    fi
    # this build's cases (the label is "BUILD/isovm, WHERE"), of the list (ISOVM_KVM_FILTER)
    cat "$QUEUE"/times.* 2>/dev/null | awk -F'\t' -v l="$label" 'NR == FNR { want[$0] = 1; next }
        index($3, l ", ") == 1 && ($4 in want)' "$list" - >"$times"
    local total ran fails
    total=$(grep -c . "$list")
    ran=$(grep -c . "$times")
    fails=$(awk -F'\t' '$2 != "PASS"' "$times" | grep -c .)
    # a failed case's lines in its host's log: "FAIL name: reason" and the indented details
    local h
    : >"$details"
    for h in "$LOGS"/kvm-host*.log "$LOGS"/kvm-free-cases.log; do
        [ -f "$h" ] || continue
        awk -v l="$label" '
            /^--- integration / { mine = index($0, "(" l ")") > 0 }
            mine && /^FAIL / { show = 1; print "FAIL [" l "] " substr($0, 6); next }
            mine && show && /^    / { print; next }
            { show = 0 }' "$h" >>"$details"
    done
    grep '^FAIL ' "$details"
    [ "$fails" = 0 ] || echo "(what the failed cases printed: $details)"
    # cases that never finished: the host hung in them, died, or never got to them
    local missing
    missing=$(cut -f4 "$times" | sort | comm -23 <(sort "$list") -)
    if [ -n "$missing" ]; then
        echo "$missing" | sed "s|^|NOT RUN [$label] |"
        echo "(a case not run: its host stopped; see its log: $LOGS/kvm-host*.log)"
    fi
    local nmiss
    nmiss=$(printf '%s' "$missing" | grep -c .)
    echo "$label: $total cases: $((ran - fails)) passed, $fails failed, $nmiss not run"
    echo "$((ran - fails)) passed, $((fails + nmiss)) failed"
    [ "$fails" = 0 ] && [ "$nmiss" = 0 ] && [ "$ran" = "$total" ]
}

# ---- stages ------------------------------------------------------------------------------------
stage deps scripts/install-deps.sh
# The two builds side by side; build-san: the VMM, its hooks binary and the unit tests (the guest
# jobs are those of build/). The emulated host's kernel and its self-test meanwhile (the self-test
# boots four emulated hosts one after the other: about a core for a minute).
stage_bg build make -j2 all
stage_bg build-san make -j2 SAN=1 build-san/isovm build-san/isovm-hooks unit
if [ $quick -eq 0 ]; then
    stage_bg emuhost-setup tests/emuhost/setup.sh
    stage_bg --after emuhost-setup emuhost-selftest tests/emuhost/selftest.sh
fi
stage_wait build build-san
if [ $quick -eq 0 ]; then
    # the Linux tier's buildd image (gcc, make; minutes from Debian's archive the first time,
    # then a copy from isovm's image cache) for linux/gcc, which waits for this stage's end
    mkdir -p .cache/images
    export ISOVM_TEST_BUILDD_IMAGE=$PWD/.cache/images/buildd.img
    export ISOVM_TEST_BUILDD_READY=$PWD/$LOGS/image-buildd.rc
    stage_bg --nice image-buildd build/isovm image build --variant buildd -o "$ISOVM_TEST_BUILDD_IMAGE"
    stage_wait emuhost-setup
    rm -rf "$QUEUE"
    mkdir -p "$QUEUE"
    # The integration cases that never start a VM (policy-check/: isovm checks or refuses before
    # it opens /dev/kvm, policy_cases.sh; valgrind/check: isovm check under valgrind) take
    # seconds here against minutes in an emulated host: they run on this machine first, for both
    # builds, and the KVM hosts find them claimed.
    if [ ${#KVM_FILTER[@]} -eq 0 ]; then
        stage kvm-free-cases tests/integration/shard.sh "$QUEUE" here build build-san -- \
            policy-check/ valgrind/check linux-refuse/
    fi
    stage_bg kvm-host1 kvm_host 1 build build-san
    [ "$KVM_HOSTS" = 1 ] || stage_bg kvm-host2 kvm_host 2 build-san build
fi
# While the KVM hosts run: the host-side stages (they need little CPU), one after the other;
# those without timing cases at nice 10, so that the emulated hosts (the suite's critical path:
# they end last) keep their CPUs (fuzz-smoke alone held a core for 5 minutes of theirs)
stage unit make unit-run
stage unit-san make SAN=1 unit-run
stage --nice unit-valgrind valgrind_units
stage --nice integration-lib tests/integration/lib_selftest.sh
stage init-emu make init-test
stage image tests/image/run.sh
stage image-san env ISOVM=build-san/isovm tests/image/run.sh
stage --nice image-unshare tests/image/unshare.sh
stage quota-cli quota_cases build/isovm
stage quota-cli-san quota_cases build-san/isovm
stage --nice fuzz-smoke make fuzz-smoke
stage jail-outer tests/jail/outer_cases.sh
stage jail-outer-san env ISOVM_HOOKS=build-san/isovm-hooks tests/jail/outer_cases.sh
if [ $quick -eq 0 ]; then
    stage_wait emuhost-selftest kvm-host1 image-buildd
    [ "$KVM_HOSTS" = 1 ] || stage_wait kvm-host2
    for b in "${BUILDS[@]}"; do
        stage "kvm-integration${b#build}" kvm_results "$b"
    done
fi

# ---- summary -----------------------------------------------------------------------------------
echo
echo "stage wall times (started at, took):"
for name in "${stages[@]}"; do
    printf '  %-22s at %6s s  %7s s\n' "$name" \
        "$(secs $(($(cat "$LOGS/$name.start" 2>/dev/null || now_ms) - T0)))" "$(secs "$(took_ms "$name")")"
done
if [ $quick -eq 0 ] && compgen -G "$LOGS/times.build*.txt" >/dev/null; then
    echo "ten slowest integration cases:"
    cat "$LOGS"/times.build*.txt | sort -t$'\t' -k1,1nr | head -n 10 |
        awk -F'\t' '{ printf "  %6.1f s  %s  [%s]\n", $1 / 1000, $4, $3 }'
fi
[ ${#KVM_FILTER[@]} -eq 0 ] || echo "note: only the integration cases matching ISOVM_KVM_FILTER ran: ${KVM_FILTER[*]}"
echo "total wall time: $(secs $(($(now_ms) - T0))) s${ISOVM_RUN_STARTED_NS:+ (since .ci/run started)}"
[ ${#failures[@]} -eq 0 ] || echo "failed stages: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
