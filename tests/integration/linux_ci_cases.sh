# A real CI job in the Linux tier (issue 14): a small C project (tests/ci-project) checked out
# into a host directory, built and tested with `make && make check` in the buildd image through a
# read-write grant, its build output on the host afterwards; the same with the grant read-only
# failing at the first write; a job fetching a file from a granted loopback HTTP server with wget,
# and the same job without the grant failing to connect.
# shellcheck shell=bash
# Sourced by run.sh after linux_cases.sh (_lx_images, _lx_kernel, _lx_run).

# _lxci_image : LXCI_IMG, the buildd image (waiting for run-tests.sh's image stage when it runs)
_lxci_image() {
    local i
    LXCI_IMG=${ISOVM_TEST_BUILDD_IMAGE:-$REPO/.cache/images/buildd.img}
    if [ -n "${ISOVM_TEST_BUILDD_READY:-}" ]; then
        for ((i = 0; i < 900; i++)); do
            [ -f "$ISOVM_TEST_BUILDD_READY" ] && break
            sleep 1
        done
    fi
    [ -f "$LXCI_IMG" ] || { fail "no buildd image $LXCI_IMG (isovm image build --variant buildd -o $LXCI_IMG)"; return 1; }
}

c_lxci_make() {
    native && return
    _lxci_image || return
    local c=$WORK/case
    cp -r "$REPO/tests/ci-project" "$c/checkout" && cp -r "$REPO/tests/ci-project" "$c/checkout-ro" || return
    _lx_kernel
    run_isovm launch --rootfs "$LXCI_IMG" --memory 512M "${LX_KERNEL_ARGS[@]}" --report "$c/r.json" \
        --grant "/work=$c/checkout:rw" --cwd /work --env PATH=/usr/bin:/bin -- /bin/sh -c 'make && make check'
    expect_status 0 || return
    expect_stdout_has "check: all passed"
    expect_stdout_has "test_words: 6 groups passed"
    [ -x "$c/checkout/build/wordfreq" ] || fail "no build/wordfreq on the host after the job"
    [ "$(printf 'x y x\n' | "$c/checkout/build/wordfreq")" = $'2 x\n1 y' ] ||
        fail "the wordfreq built in the guest does not run right on the host"
    py -c 'import json, sys; fs = json.load(open(sys.argv[1]))["shared_fs"]; assert fs["write_bytes"] >= 10000, fs' \
        "$c/r.json" 2>"$c/py.err" || fail "report: $(tail -n 1 "$c/py.err")"
    # the same checkout read-only: make fails at its first write (mkdir build), and says why
    run_isovm launch --rootfs "$LXCI_IMG" --memory 512M "${LX_KERNEL_ARGS[@]}" \
        --grant "/work=$c/checkout-ro:ro" --cwd /work --env PATH=/usr/bin:/bin -- /bin/sh -c 'make && make check'
    [ "$RC" = 2 ] || fail "make through a read-only grant exited $RC, want 2 (make's failure)"
    expect_stderr_has "Read-only file system"
    [ -e "$c/checkout-ro/build" ] && fail "the read-only checkout has a build directory"
    return 0
}

# A loopback HTTP server on the host (python3 -m http.server); the job fetches a file through the
# granted endpoint by its name in the guest's /etc/hosts (ep0.isovm); without the grant the job
# has no network at all and wget cannot connect.
c_lxci_wget() {
    native && return
    _lx_images || return
    local c=$WORK/case port pid
    mkdir -p "$c/www" && printf 'fetched over the granted endpoint\n' >"$c/www/file.txt" || return
    _net_up
    port=$(py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd "$c/www" && exec python3 -m http.server --bind 127.0.0.1 "$port" >"$c/http.log" 2>&1) &
    pid=$!
    local i
    for ((i = 0; i < 50; i++)); do
        py -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
        sleep 0.1
    done
    _lx_run --connect "tcp:127.0.0.1:$port" -- /bin/sh -c "wget -q -O - http://ep0.isovm:$port/file.txt"
    local st=$RC
    [ "$st" = 0 ] && expect_stdout_eq 'fetched over the granted endpoint'
    [ "$st" = 0 ] || fail "wget through the granted endpoint exited $st"
    expect_report_ge "$WORK/case/r.json" rx_bytes 30
    _lx_run -- /bin/sh -c "wget -q -T 5 -O - http://10.0.2.100:$port/file.txt; echo \"wget=\$?\""
    expect_stdout_has "wget=1"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    grep -c 'GET /file.txt' "$c/http.log" | grep -qx 1 || fail "the server saw $(grep -c 'GET /file.txt' "$c/http.log") requests, want 1"
    return 0
}

if ! native; then
    add_case_san "linux/ci job: make && make check through a rw grant; ro grant fails" with_budget 900 c_lxci_make
    add_case "linux/ci job: wget from a granted loopback HTTP server; refused without" with_budget 120 c_lxci_wget
fi
