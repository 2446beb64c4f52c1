# The Linux tier's network (issue 14): virtio-net backed by libslirp in restricted mode, reaching
# only the policy's endpoints (docs/network.md, "The Linux tier"), through the net.rx bucket.
# shellcheck shell=bash
# Sourced by run.sh after linux_cases.sh (_lx_images, _lx_kernel, _lx_run). The guest side is
# guest/tests/netprobe.c in the root image; the host side tests/tools/net_peer.py.

# _lxn_port : PORT, a free TCP and UDP port on 127.0.0.1 (the loopback brought up first: the
# emulated host's may start down, net_cases.sh's _net_up)
_lxn_port() {
    _net_up
    PORT=$(py -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass')
}

# _lxn_peer NAME MODE PORT [ARGS...] : net_peer.py in the background, its output in
# $WORK/case/NAME.out, waited for until it listens; its pid in PEER_PID
_lxn_peer() {
    local name=$1 mode=$2 port=$3 i
    shift 3
    "$PYTHON3" "$REPO/tests/tools/net_peer.py" "$mode" 127.0.0.1 "$port" "$@" >"$WORK/case/$name.out" 2>&1 &
    PEER_PID=$!
    for ((i = 0; i < 200; i++)); do
        grep -q ready "$WORK/case/$name.out" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "net_peer.py $mode did not start: $(head -c 300 "$WORK/case/$name.out")"
    return 1
}

# One boot: a granted TCP endpoint exchanges 100000 exact bytes both ways (an echo server on
# the host, reached by its name ep0.isovm); another port of the same address, the gateway and an
# address outside the guest's network are refused; a granted UDP endpoint answers, datagrams to
# an ungranted port (of an endpoint's address, or the gateway's) are dropped and never reach the
# host; the ungranted TCP server never sees a connection.
c_lxn_endpoints() {
    native && return
    _lx_images || return
    local tcp udp other uother pids=()
    _lxn_port; tcp=$PORT
    _lxn_port; udp=$PORT
    _lxn_port; other=$PORT
    _lxn_port; uother=$PORT
    _lxn_peer echo echo "$tcp" || return
    pids+=("$PEER_PID")
    _lxn_peer udp udp "$udp" 1 || return
    pids+=("$PEER_PID")
    _lxn_peer other sink "$other" || return
    pids+=("$PEER_PID")
    _lxn_peer uother udp "$uother" 1 || return
    pids+=("$PEER_PID")
    _lx_run --connect "tcp:127.0.0.1:$tcp" --connect "udp:127.0.0.1:$udp" -- /bin/sh -c "
        netprobe tcp-echo ep0.isovm $tcp 100000
        netprobe connect 10.0.2.100 $other
        netprobe connect 10.0.2.2 $other
        netprobe connect 192.0.2.1 80
        netprobe udp ep1.isovm $udp hello-udp
        netprobe udp 10.0.2.101 $uother not-granted
        netprobe udp 10.0.2.2 $uother not-granted"
    kill "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
    expect_status 0 || return
    local fnv
    fnv=$(py -c '
h = 0xcbf29ce484222325
for i in range(100000):
    h = ((h ^ ((7 * i + 3) & 255)) * 0x100000001b3) & (2**64 - 1)
print("%016x" % h)')
    expect_stdout_eq "sent=100000 received=100000 fnv=$fnv
connect=ECONNREFUSED
connect=ECONNREFUSED
connect=ENETUNREACH
reply=hello-udp
udp=timeout
udp=timeout"
    grep -q received= "$WORK/case/other.out" && fail "the ungranted TCP server got a connection"
    [ -s "$WORK/case/uother.out" ] && [ "$(cat "$WORK/case/uother.out")" != ready ] &&
        fail "the ungranted UDP server saw something: $(head -c 200 "$WORK/case/uother.out")"
    py - "$WORK/case/r.json" <<'PY' 2>"$WORK/case/py.err" || fail "report: $(tail -n 2 "$WORK/case/py.err")"
import json, sys
n = json.load(open(sys.argv[1]))["network"]
assert n["rx_bytes"] >= 100000 and n["tx_bytes"] >= 100000, n
e = n["endpoints"]
assert e[0]["connections"] >= 1, e
assert n["refused"] >= 2, n
PY
}

# A listen endpoint: a host client connects to 127.0.0.1:PORT and reaches the guest's listener.
c_lxn_listen() {
    native && return
    _lx_images || return
    local port out=$WORK/case/job.out err=$WORK/case/job.err pid rc i
    _lxn_port
    port=$PORT
    _lx_kernel
    timeout -k 5 120 "$ISOVM" launch --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" \
        --report "$WORK/case/r.json" --listen "tcp:127.0.0.1:$port" -- /bin/netprobe listen "$port" \
        </dev/null >"$out" 2>"$err" &
    pid=$!
    for ((i = 0; i < 1200; i++)); do
        grep -q listening "$out" 2>/dev/null && break
        sleep 0.1
    done
    run_cmd "$PYTHON3" "$REPO/tests/tools/net_peer.py" connect 127.0.0.1 "$port" $'from the host\n'
    wait "$pid"
    rc=$?
    [ "$rc" = 0 ] || fail "the guest's listener exited $rc: $(head -c 300 "$err")"
    expect_stdout_has "guest got: from the host"
    grep -qx served "$out" || fail "the guest did not serve the host's connection: $(head -c 200 "$out")"
}

# net.rx.bandwidth=4MiB/s: 16 MiB received from a granted endpoint takes (the bytes of the
# frames that carried it - the 0.4 MiB the bucket starts with) / 4 MiB/s by the guest's clock
# (the bucket counts whole frames, headers included: about 4.04 s here): the median of 3 runs
# (2 when both are in range) is that - 2% at the least and that + 2% plus the same receive's time unthrottled (a
# calibration run just before, in the same conditions) at the most.
_lxn_recv() { # [OPTIONS...] : one usable run of netprobe recv 16 from a source on PORT; SECS
    _lxn_peer src source "$PORT" 16 5 || return # run_usable may run it again
    local pid=$PEER_PID
    run_usable launch --rootfs "$LX/root.img" --memory "$LX_MEM" "${LX_KERNEL_ARGS[@]}" \
        --report "$WORK/case/r.json" "$@" --connect "tcp:127.0.0.1:$PORT" -- \
        /bin/netprobe recv ep0.isovm "$PORT" 16
    local st=$RC
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ "$st" = 0 ] || { expect_status 0; return 1; }
    local ns
    ns=$(stdout_value ns)
    [[ $ns =~ ^[0-9]+$ ]] || { fail "netprobe printed no ns=N"; _show_outputs; return 1; }
    SECS=$(awk -v n="$ns" 'BEGIN { printf "%.4f", n / 1e9 }')
}

c_lxn_rx() {
    native && return
    _lx_images || return
    local i u=0 secs=() m lo hi want=0 w
    _lx_kernel
    if ! timing_once; then # the calibration: the bytes unthrottled
        _lxn_port
        _lxn_recv || return
        u=$SECS
    fi
    for i in 1 2 3; do
        ((i == 2)) && timing_once && break
        if ((i == 3)); then # two of three in range: the median of three would be
            lo=$(awk -v w="$want" 'BEGIN { printf "%.4f", w * 0.98 }')
            hi=$(awk -v w="$want" -v u="$u" 'BEGIN { printf "%.4f", w * 1.02 + u }')
            all_within "$lo" "$hi" "${secs[@]}" && break
        fi
        _lxn_port
        _lxn_recv --set net.rx.bandwidth=4MiB/s || return
        secs+=("$SECS")
        # the bucket's waits: at least half of the time the bytes take at 4 MiB/s beyond their
        # own time unthrottled in the same conditions (u); a loaded host moves both
        w=$(py -c '
import json, sys
n = json.load(open(sys.argv[1]))["network"]
w = (n["rx_bytes"] - 0.4 * 2**20) / (4 * 2**20)
least = max(0.0, w - float(sys.argv[2])) * 0.5e9
assert n["rx_bytes"] >= 16 << 20, "rx_bytes %r" % n["rx_bytes"]
assert n["rx_throttled_ns"] >= least, "rx_throttled_ns %r, want %d" % (n["rx_throttled_ns"], least)
print("%.4f" % w)' "$WORK/case/r.json" "$u" 2>"$WORK/case/py.err") ||
            { fail "report: $(tail -n 2 "$WORK/case/py.err")"; return; }
        want=$(awk -v a="$want" -v b="$w" -v k="$i" 'BEGIN { printf "%.4f", a + (b - a) / k }')
    done
    m=$(median "${secs[@]}")
    lo=$(awk -v w="$want" 'BEGIN { printf "%.4f", w * 0.98 }')
    hi=$(awk -v w="$want" -v u="$u" 'BEGIN { printf "%.4f", w * 1.02 + u }')
    if timing_once; then # the throttle's path; the plain build measures its accuracy
        awk -v m="$m" -v lo="$lo" 'BEGIN { exit !(m >= lo) }' ||
            fail "16 MiB received at 4 MiB/s took $m s, want at least $lo s"
        return
    fi
    awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(m >= lo && m <= hi) }' ||
        fail "16 MiB received at 4 MiB/s took $m s (median of ${secs[*]}), want $lo .. $hi ($want s +/- 2%, plus $u s, unthrottled)"
}

if ! native; then
    add_case "linux/net: a granted TCP and UDP endpoint; everything else refused" with_budget 120 c_lxn_endpoints
    add_case "linux/net: a listen endpoint reached from the host" c_lxn_listen
    add_case "linux/net: net.rx 4MiB/s, 16 MiB received in about 4.05 s (frame bytes)" with_budget 180 c_lxn_rx
fi
