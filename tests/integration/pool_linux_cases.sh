# isovm pool serve --rootfs (issue 16, part 4; docs/pool.md): the Linux tier's machines made
# ahead, each restored from the booted guest's snapshot and run until its init has the root
# mounted. A pooled job gets the same output, stderr, status and exit reason as the same job
# launched on its own; two pooled jobs draw different random numbers and read the host's clock;
# a job the machine does not fit (other memory, a disk, endpoints, the hypercall tier) is served
# cold by the pool's
# VMM (endpoints refused by a static isovm, which cannot become isovm-slirp); the client's
# signals and its going away end the job; bad options.
# shellcheck shell=bash
# Sourced by run.sh. Every case name starts with "pool/linux". isovm only (not native).

# _lxpool_start [SERVE OPTIONS...] : a pool of 1 machine of root.img (LX_MEM, the test kernel)
_lxpool_start() {
    _lx_images || return 1
    _lx_kernel
    _pool_start 1 --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" "$@"
}

# _lxpool_run POOLED ARGS... -- CMD... : the job on its own (POOLED 0) or through the pool (1),
# with the case's stdin; stdout, stderr and the report kept as $WORK/case/{cold,pool}.*
_lxpool_run() {
    local pooled=$1 tag=cold
    shift
    local via=()
    ((pooled)) && via=(--pool "$POOL_SOCK") && tag=pool
    cp "$STDIN_FILE" "$WORK/case/stdin.keep" 2>/dev/null || : >"$WORK/case/stdin.keep"
    run_isovm launch "${via[@]}" --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" \
        --report "$WORK/case/$tag.json" "$@"
    cp "$OUT_FILE" "$WORK/case/$tag.out"
    cp "$ERR_FILE" "$WORK/case/$tag.err"
    LXPOOL_RC=$RC
}

# c_lxpool_same : jobs through the pool against the same jobs on their own: stdin to stdout and
# stderr apart with an exit code, death by a signal, a shell pipeline; the same status, stdout,
# stderr, exit reason and status; the pooled report says "warm" and has no boot before the job
c_lxpool_same() {
    _lxpool_start || return
    local jobs=("cat; echo out; echo err >&2; exit 3" 'kill -SEGV $$' 'seq 1 50 | tail -n 2 | wc -l')
    local i rc_cold
    for i in "${!jobs[@]}"; do
        with_stdin $'line one\nline two\n'
        _lxpool_run 0 -- /bin/sh -c "${jobs[$i]}"
        rc_cold=$LXPOOL_RC
        with_stdin $'line one\nline two\n'
        _lxpool_run 1 -- /bin/sh -c "${jobs[$i]}"
        [ "$LXPOOL_RC" = "$rc_cold" ] || fail "${jobs[$i]}: status $LXPOOL_RC pooled, $rc_cold on its own"
        cmp -s "$WORK/case/cold.out" "$WORK/case/pool.out" ||
            fail "${jobs[$i]}: stdout differs: $(head -c 200 "$WORK/case/cold.out") / $(head -c 200 "$WORK/case/pool.out")"
        cmp -s "$WORK/case/cold.err" "$WORK/case/pool.err" ||
            fail "${jobs[$i]}: stderr differs: $(head -c 200 "$WORK/case/cold.err") / $(head -c 200 "$WORK/case/pool.err")"
        local k
        for k in exit_reason exit_status; do
            [ "$(report_value "$WORK/case/cold.json" "$k")" = "$(report_value "$WORK/case/pool.json" "$k")" ] ||
                fail "${jobs[$i]}: $k $(report_value "$WORK/case/pool.json" "$k") pooled, $(report_value "$WORK/case/cold.json" "$k") on its own"
        done
        expect_report "$WORK/case/pool.json" start '"warm"'
        expect_report "$WORK/case/cold.json" start '"cold"'
        expect_report "$WORK/case/pool.json" ready_ns null # the machine was made before the job
        expect_report_ge "$WORK/case/pool.json" job_start_ns 1
    done
    [ "$(cat "$WORK/case/pool.out")" = 2 ] || fail "the pipeline printed $(head -c 100 "$WORK/case/pool.out")"
    _pool_stop
}

# c_lxpool_fresh : two pooled jobs draw different random numbers (the job file's seed reseeds
# each guest after the machine was made) and read the host's clock; jobs the machine does not
# fit are served cold by the pool's VMM: other memory, a disk; endpoints are refused
c_lxpool_fresh() {
    _lxpool_start || return
    local g1 g2 host gt
    _lxpool_run 1 -- /bin/sh -c 'date +%s; head -c 16 /dev/urandom | md5sum'
    host=$(date +%s)
    expect_status 0 || { _pool_stop; return; }
    _slurp "$WORK/case/pool.out"
    g1=${TEXT#*$'\n'}
    gt=${TEXT%%$'\n'*}
    [ -n "$gt" ] && [ $((host - gt)) -ge -2 ] && [ $((host - gt)) -le 10 ] ||
        fail "the pooled guest's clock says $gt, the host's $host"
    _lxpool_run 1 -- /bin/sh -c 'date +%s; head -c 16 /dev/urandom | md5sum'
    expect_status 0
    _slurp "$WORK/case/pool.out"
    g2=${TEXT#*$'\n'}
    [ -n "$g1" ] && [ "$g1" != "$g2" ] || fail "two pooled guests drew the same random bytes ($g1)"
    expect_report "$WORK/case/pool.json" start '"warm"'
    # other memory: served cold, with that memory (MemTotal: 256M about 211000 kB, 320M 274000)
    run_isovm launch --pool "$POOL_SOCK" --rootfs "$LX/root.img" --memory 320M "${LX_KERNEL_ARGS[@]}" \
        --report "$WORK/case/m.json" -- /bin/sh -c 'echo $(( $(sed -n "s/MemTotal: *\([0-9]*\).*/\1/p" /proc/meminfo) > 245000 ))'
    expect_status 0 && expect_stdout_eq 1
    expect_report "$WORK/case/m.json" start '"pool-cold"'
    # a disk: the machine has none; served cold with it
    run_isovm launch --pool "$POOL_SOCK" --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" \
        --disk "$LX/data.img:ro" --report "$WORK/case/d.json" -- /bin/sh -c 'mount -t ext4 -o ro /dev/vdb /mnt && cat /mnt/hello.txt'
    expect_status 0 && expect_stdout_eq "hello from the data disk"
    expect_report "$WORK/case/d.json" start '"pool-cold"'
    # a hypercall-tier job: the machine torn down, the job's own VM made
    if need hello.musl; then
        run_isovm launch --pool "$POOL_SOCK" --report "$WORK/case/h.json" -- "$J"
        expect_status 0 && expect_stdout_has "hello from isovm"
        expect_report "$WORK/case/h.json" start '"pool-cold"'
    fi
    # endpoints: a static isovm's VMM would have to become isovm-slirp, which a pool's cannot:
    # refused; an isovm linked with libslirp itself (the sanitized build) serves the job cold
    run_isovm launch --pool "$POOL_SOCK" --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" \
        --report "$WORK/case/e.json" --connect tcp:127.0.0.1:9 -- /bin/echo with-endpoint
    if [ "$RC" = 125 ]; then
        expect_stderr_has "a Linux-tier job with network endpoints launches on its own"
    else
        expect_status 0 && expect_stdout_eq with-endpoint
        expect_report "$WORK/case/e.json" start '"pool-cold"'
    fi
    _pool_stop
}

# c_lxpool_client : SIGTERM to a waiting VMM ends it; SIGTERM to the client stops the job (143,
# the message); the client killed
# with SIGKILL ends its job (killed, 129 in its report); the pool serves on
c_lxpool_client() {
    _lxpool_start || return
    local out=$WORK/case/job.out rep=$WORK/case/term.json i client rc vmm
    # a waiting VMM ends on SIGTERM at once (its supervisor's signals are blocked only while a
    # job is its); the pool makes another
    vmm=$(pgrep -f -- "pool serve --socket $POOL_SOCK" | grep -vx "$POOL_PID" | head -n1)
    if [ -n "$vmm" ]; then
        kill -TERM "$vmm"
        for ((i = 0; i < 10; i++)); do kill -0 "$vmm" 2>/dev/null || break; sleep 0.1; done
        ! kill -0 "$vmm" 2>/dev/null || fail "a waiting VMM still runs 1 s after SIGTERM"
    else
        fail "no waiting VMM"
    fi
    "$ISOVM" launch --pool "$POOL_SOCK" --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" \
        --report "$rep" -- /bin/sh -c 'echo started; exec sleep 60' >"$out" 2>"$WORK/case/term.err" &
    client=$!
    for ((i = 0; i < 600; i++)); do _has "$out" started && break; sleep 0.1; done
    # the job's VMM runs under the waiting filter and the job's allowlist (docs/security.md)
    _pool_filters
    case " $PF" in *" 2/2 "*) ;; *) fail "no VMM with its two filters while the job runs: $PF" ;; esac
    kill -TERM "$client"
    wait "$client"
    rc=$?
    [ "$rc" = 143 ] || fail "client given SIGTERM exited $rc, want 143: $(head -c 300 "$WORK/case/term.err")"
    _has "$WORK/case/term.err" "received Terminated: job stopped" ||
        fail "no SIGTERM message: $(head -c 300 "$WORK/case/term.err")"
    expect_report "$rep" exit_reason '"killed"'
    rep=$WORK/case/gone.json
    : >"$out"
    "$ISOVM" launch --pool "$POOL_SOCK" --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" \
        --report "$rep" -- /bin/sh -c 'echo started; exec sleep 60' >"$out" 2>/dev/null &
    client=$!
    for ((i = 0; i < 600; i++)); do _has "$out" started && break; sleep 0.1; done
    kill -9 "$client"
    wait "$client" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        [ -s "$rep" ] && _has "$rep" '"exit_status"' && break
        sleep 0.1
    done
    expect_report "$rep" exit_reason '"killed"'
    expect_report "$rep" exit_status 129
    _lxpool_run 1 -- /bin/echo still-serving
    expect_status 0 && expect_stdout_eq still-serving
    _pool_stop
}

# c_lxpool_usage : --kernel and --vcpus need --rootfs; a root image that cannot be opened stops
# the pool (its VMMs end before they are ready), with the image named
c_lxpool_usage() {
    native && return
    run_isovm pool serve --socket "$WORK/case/p.sock" --kernel /nonexistent
    expect_status 125 && expect_stderr_has "--kernel and --vcpus need --rootfs"
    run_isovm pool serve --socket "$WORK/case/p.sock" --rootfs "$WORK/case/missing.img"
    expect_status 125
    expect_stderr_has "missing.img: cannot open"
    expect_stderr_has "ended before they were ready"
    [ ! -e "$WORK/case/p.sock" ] || fail "the stopped pool left its socket"
}

add_case_san "pool/linux: same as cold" with_budget 300 c_lxpool_same
add_case_san "pool/linux: fresh randomness, the host's clock; others served cold" with_budget 300 c_lxpool_fresh
add_case_san "pool/linux: client signalled or gone" with_budget 240 c_lxpool_client
add_case "pool/linux: usage errors" with_budget 120 c_lxpool_usage
