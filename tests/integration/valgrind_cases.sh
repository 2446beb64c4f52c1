# isovm itself under valgrind (memcheck, leak check) while it runs jobs with threads, a CPU quota,
# I/O throttling, a fault, a tenant's ledger keeper, `isovm check` and a pool (server, warm VMM,
# client): no error, no leak. Plain build only (the ASan build
# cannot run under valgrind); skipped natively (there is no isovm to check).
# shellcheck shell=bash
# Sourced by run.sh: uses WORK, GUEST_DIR, ISOVM, BUILD and lib.sh. Names start with "valgrind/".

VALGRIND=${VALGRIND:-valgrind}
# memcheck replaces malloc through the dynamic loader: the static isovm's heap is invisible to
# it, so the cases run isovm-slirp, the same objects linked dynamically (Makefile)
VG_ISOVM=$ISOVM
[ -x "$(dirname "$ISOVM")/isovm-slirp" ] && VG_ISOVM=$(dirname "$ISOVM")/isovm-slirp

c_valgrind() { # WANT_STATUS ISOVM-ARGS...
    native && return
    local want=$1
    shift
    if ! command -v "$VALGRIND" >/dev/null; then
        fail "valgrind not found"
        return
    fi
    OUT_FILE="$WORK/out"
    ERR_FILE="$WORK/err"
    HUNG=0
    _timed "$VALGRIND" -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$VG_ISOVM" "$@"
    expect_status "$want" "isovm's status under valgrind (99: valgrind found an error)" || _show_outputs
    if grep -q '^==[0-9]*==' "$ERR_FILE"; then
        fail "valgrind reported something"
        _show_outputs
    fi
}

# c_valgrind_pool : `isovm pool serve` under valgrind (its warm VMMs are forks of it, so under
# the same valgrind, each with a log of its own) serving a pooled job whose client is under
# valgrind too: every process's log empty, the job's output and status right
c_valgrind_pool() {
    native && return
    command -v "$VALGRIND" >/dev/null || { fail "valgrind not found"; return; }
    local s=$WORK/case/vg.sock logs=$WORK/case/vg i
    mkdir -p "$logs"
    "$VALGRIND" -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --log-file="$logs/serve.%p" "$VG_ISOVM" pool serve --socket "$s" --size 1 --no-seccomp 2>"$WORK/case/serve.err" &
    local pool=$!
    for ((i = 0; i < 1200; i++)); do
        grep -q "ready at" "$WORK/case/serve.err" 2>/dev/null && break
        sleep 0.1
    done
    OUT_FILE="$WORK/out"
    ERR_FILE="$WORK/err"
    HUNG=0
    _timed "$VALGRIND" -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --log-file="$logs/client.%p" "$VG_ISOVM" launch --pool "$s" --no-seccomp -- "$GUEST_DIR/hello.glibc"
    expect_status 0 "the pooled job's status under valgrind" && expect_stdout_has "hello from isovm"
    sleep 1
    kill "$pool" 2>/dev/null
    wait "$pool"
    local rc=$?
    [ "$rc" = 0 ] || fail "pool serve under valgrind exited $rc: $(head -c 300 "$WORK/case/serve.err")"
    local f
    for f in "$logs"/*; do
        [ -s "$f" ] && fail "valgrind: ${f##*/}: $(head -c 600 "$f")"
    done
    [ "$(ls "$logs" | wc -l)" -ge 3 ] || fail "valgrind logs: $(ls "$logs" | tr '\n' ' ') (server, VMM, client)"
}

if grep -qa __asan_init "$ISOVM" 2>/dev/null; then
    : # an ASan build: ASan and valgrind do not mix
else
    # --no-seccomp: valgrind runs the VMM on its own JIT (executable mappings, its own syscalls),
    # which the VMM's seccomp filter would kill; the filter is tested in seccomp_cases.sh.
    add_case "valgrind/threads 3 100" with_budget 120 c_valgrind 0 launch --no-seccomp -- "$GUEST_DIR/threads.musl" 3 100
    add_case "valgrind/quota and write throttle" with_budget 120 c_valgrind 0 launch --no-seccomp --cpu-quota 50% \
        --set io.write.bandwidth=1MiB/s -- "$GUEST_DIR/hello.glibc"
    add_case "valgrind/fault in a thread (tlb_shootdown)" with_budget 120 c_valgrind 139 launch --no-seccomp -- \
        "$GUEST_DIR/tlb_shootdown.musl"
    # the VMM and its ledger keeper (a fork, so under the same valgrind): both checked at exit
    add_case "valgrind/launch --tenant (and its keeper)" with_budget 120 c_valgrind 0 launch --no-seccomp \
        --tenant vg --ledger "$WORK/valgrind-ledger.db" -- "$GUEST_DIR/hello.glibc"
    add_case "valgrind/check examples/ci-build.json" with_budget 60 c_valgrind 0 check "$REPO/examples/ci-build.json"
    add_case "valgrind/pool serve and a pooled job" with_budget 240 c_valgrind_pool
fi
