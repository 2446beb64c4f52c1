# Network endpoint cases (issue 5, part 4): no network without a grant; a granted endpoint
# exchanges exact bytes with a loopback server on the host; port A does not reach port B nor
# another address; a listen grant; udp; revocation from outside and expiry end a connection;
# the write throttle applies to sockets; the report counts. Uses guest/tests/net_ops.c and
# tests/tools/net_peer.py (python3) as the host side.
# shellcheck shell=bash
# Sourced by run.sh: uses WORK, GUEST_DIR, ISOVM and lib.sh. Every case name starts with "net/",
# so `run.sh net/` runs just these. isovm only (endpoints have no native equivalent).

NET_PEER=$REPO/tests/tools/net_peer.py
NET_PORT=${NET_PORT:-23400} # each case takes its own ports from here

_net_up() { # loopback up (the emulated host's may start down)
    ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true
}

_net_port() { NET_PORT=$((NET_PORT + 3)); } # the case's port: $NET_PORT (and the next two)

# _net_peer OUT MODE ARGS... : start net_peer.py in the background (pid in NET_PEER_PID) and wait
# until it prints "ready".
_net_peer() {
    local out=$1 i
    shift
    _net_up
    "$PYTHON3" "$NET_PEER" "$@" >"$out" 2>"$out.err" &
    NET_PEER_PID=$!
    for ((i = 0; i < 100; i++)); do grep -q ready "$out" 2>/dev/null && return 0; sleep 0.1; done
    fail "net_peer.py $* did not start: $(head -c 300 "$out.err")"
    kill "$NET_PEER_PID" 2>/dev/null
    return 1
}

_net_peer_done() { # wait for the peer (killing it after 10 s)
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$NET_PEER_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$NET_PEER_PID" 2>/dev/null
    wait "$NET_PEER_PID" 2>/dev/null
}

c_net_tcp() { # VARIANT ADDR
    need "net_ops.$1" || return
    local port r=$WORK/case/r.json a=$WORK/case/audit.jsonl msg=hello-isovm-net-12345
    _net_port
    port=$NET_PORT
    mkdir -p "$WORK/case"
    _net_peer "$WORK/case/peer" echo "$2" "$port" || return
    local host=$2
    [[ $2 == *:* ]] && host="[$2]"
    run_job launch --connect "tcp:$host:$port" --report "$r" --audit "$a" -- "$J" client "$2" "$port" "$msg"
    _net_peer_done
    expect_status 0 || return
    expect_checks_pass || return
    expect_stdout_line "got=$msg" || return
    expect_report "$r" bytes_sent ${#msg}
    expect_report "$r" bytes_received ${#msg}
    expect_report "$r" connections 1
    grep -q '"event":"connect".*"object":"socket"\|"object":"socket".*"event":"connect"' "$a" ||
        grep -q '"connect"' "$a" || fail "no connect event in the audit log"
}

c_net_none() { # VARIANT
    need "net_ops.$1" || return
    local r=$WORK/case/r.json a=$WORK/case/audit.jsonl
    mkdir -p "$WORK/case"
    run_job launch --report "$r" --audit "$a" -- "$J" nosocket
    expect_status 0 || return
    expect_checks_pass || return
    py - "$r" "$a" <<'PY' 2>"$WORK/case/py.err" || fail "report/audit: $(tail -n 2 "$WORK/case/py.err")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["network"]["denials"] == 7, r["network"]
assert r["denials"]["network"] == 7, r["denials"]
ev = [json.loads(l) for l in open(sys.argv[2])]
d = [e for e in ev if e.get("event") == "deny" and e.get("kind") == "network"]
assert len(d) == 7 and all(e["errno"] == "EACCES" for e in d), d
assert any(e.get("path") == "socket family 1" for e in d), d   # AF_UNIX
assert any(e.get("path") == "socket family 16" for e in d), d  # AF_NETLINK
PY
}

# Granted port A: port B and 127.0.0.2:A are refused (EACCES, audited with the address), and
# the hostile calls get their errors without harming the socket.
c_net_other() { # VARIANT
    need "net_ops.$1" || return
    local port a=$WORK/case/audit.jsonl
    _net_port
    port=$NET_PORT
    mkdir -p "$WORK/case"
    _net_peer "$WORK/case/peer" echo 127.0.0.1 "$port" || return
    run_job launch --connect "tcp:127.0.0.1:$port" --audit "$a" -- "$J" hostile 127.0.0.1 "$port"
    _net_peer_done
    expect_status 0 || return
    expect_checks_pass || return
    grep -q "\"path\":\"tcp:127.0.0.1:$((port + 1))\"" "$a" ||
        fail "the refused connect to port $((port + 1)) is not in the audit log"
    grep -q "\"path\":\"tcp:127.0.0.2:$port\"" "$a" ||
        fail "the refused connect to 127.0.0.2 is not in the audit log"
    run_job launch --connect "tcp:127.0.0.1:$port" -- "$J" refused 127.0.0.1 $((port + 2))
    expect_status 0 "connect to another port" || return
    expect_checks_pass
}

c_net_listen() { # VARIANT
    need "net_ops.$1" || return
    local port out=$WORK/case/job.out err=$WORK/case/job.err pid i
    _net_port
    port=$NET_PORT
    mkdir -p "$WORK/case"
    _net_up
    timeout -k 5 60 "$ISOVM" launch --listen "tcp:127.0.0.1:$port" -- "$J" listen 127.0.0.1 "$port" \
        </dev/null >"$out" 2>"$err" &
    pid=$!
    for ((i = 0; i < 300; i++)); do grep -q listening "$out" 2>/dev/null && break; sleep 0.1; done
    run_cmd "$PYTHON3" "$NET_PEER" connect 127.0.0.1 "$port" ping-from-host
    expect_status 0 "the host's client" || { kill "$pid"; wait "$pid"; return 1; }
    expect_stdout_eq "ping-from-host" || { kill "$pid"; wait "$pid"; return 1; }
    wait "$pid"
    RC=$?
    OUT_FILE=$out
    ERR_FILE=$err
    expect_status 0 "the job" || return
    expect_checks_pass || return
    expect_stdout_line "served=ping-from-host"
}

c_net_udp() { # VARIANT ADDR
    need "net_ops.$1" || return
    local port r=$WORK/case/r.json host=$2
    _net_port
    port=$NET_PORT
    mkdir -p "$WORK/case"
    [[ $2 == *:* ]] && host="[$2]"
    _net_peer "$WORK/case/peer" udp "$2" "$port" 2 || return
    run_job launch --connect "udp:$host:$port" --report "$r" -- "$J" udp "$2" "$port" datagram-42
    _net_peer_done
    expect_status 0 || return
    expect_checks_pass || return
    expect_stdout_line "got=datagram-42" || return
    expect_report "$r" bytes_sent 22
    expect_report "$r" bytes_received 22
}

# _net_hold_job PORT EXTRA-ARGS... : the job in "hold" mode in the background (pid NET_JOB_PID),
# waiting until it printed "connected"
_net_hold_job() {
    local port=$1 i
    shift
    timeout -k 5 60 "$ISOVM" launch "$@" -- "$J" hold 127.0.0.1 "$port" \
        </dev/null >"$WORK/case/job.out" 2>"$WORK/case/job.err" &
    NET_JOB_PID=$!
    for ((i = 0; i < 300; i++)); do grep -q connected "$WORK/case/job.out" 2>/dev/null && return 0; sleep 0.1; done
    fail "the job did not connect: $(head -c 300 "$WORK/case/job.out" "$WORK/case/job.err")"
    kill "$NET_JOB_PID"
    wait "$NET_JOB_PID"
    return 1
}

_net_hold_end() { # wait for the job; its outputs become the case's
    wait "$NET_JOB_PID"
    RC=$?
    OUT_FILE=$WORK/case/job.out
    ERR_FILE=$WORK/case/job.err
}

# Revoking the endpoint from outside wakes the job blocked in recv: EKEYREVOKED (128), and
# sends fail the same way.
c_net_revoke() { # VARIANT
    need "net_ops.$1" || return
    local port sock=$WORK/case/ctl.sock a=$WORK/case/audit.jsonl id
    _net_port
    port=$NET_PORT
    mkdir -p "$WORK/case"
    _net_peer "$WORK/case/peer" hold 127.0.0.1 "$port" || return
    _net_hold_job "$port" --connect "tcp:127.0.0.1:$port" --control "$sock" --audit "$a" || return
    sleep 0.5 # let it block in recv
    run_cmd "$ISOVM" cap list --json --control "$sock"
    id=$(py -c 'import json, sys
for l in open(sys.argv[1]):
    c = json.loads(l) if l.startswith("{") else None
    if c and c["kind"] == "endpoint":
        print(c["cap"]); break' "$OUT_FILE")
    [ -n "$id" ] || { fail "cap list shows no endpoint: $(head -c 300 "$OUT_FILE")"; kill "$NET_JOB_PID"; return 1; }
    grep -q '"kind":"socket"' "$OUT_FILE" || fail "cap list shows no socket"
    run_cmd "$ISOVM" cap revoke --control "$sock" "$id"
    expect_status 0 "cap revoke $id" || { kill "$NET_JOB_PID"; return 1; }
    _net_hold_end
    _net_peer_done
    expect_status 0 || return
    expect_stdout_line "recv r=-1 errno=128" || return
    expect_stdout_line "send r=-1 errno=128" || return
    grep -q '"event":"revoke".*"object":"socket"\|"object":"socket".*"by":"control"' "$a" ||
        grep -c '"revoke"' "$a" | grep -qv '^[01]$' || fail "the socket's revocation is not in the audit log"
}

# An endpoint that expires: the next use of the connection after its deadline fails with
# EKEYEXPIRED (127).
c_net_expire() { # VARIANT
    need "net_ops.$1" || return
    local port p=$WORK/case/p.json
    _net_port
    port=$NET_PORT
    mkdir -p "$WORK/case"
    printf '{"endpoints": [{"connect": "tcp:127.0.0.1:%s", "expires": "2s"}]}\n' "$port" >"$p"
    _net_peer "$WORK/case/peer" hold 127.0.0.1 "$port" 3 || return
    _net_hold_job "$port" --policy "$p" || return
    _net_hold_end
    _net_peer_done
    expect_status 0 || return
    expect_stdout_line "recv r=-1 errno=127" || return
    expect_stdout_line "send r=-1 errno=127"
}

# The write throttle applies to a socket: 2 MiB at 640 KiB/s (64 KiB every 100 ms, no burst)
# waits at least (2 MiB - 64 KiB) / rate = 3.1 s (checked >= 2.5 s of throttled time); the
# host receives every byte.
c_net_throttle() { # VARIANT
    need "net_ops.$1" || return
    local port r=$WORK/case/r.json th
    _net_port
    port=$NET_PORT
    mkdir -p "$WORK/case"
    _net_peer "$WORK/case/peer" sink 127.0.0.1 "$port" || return
    run_job launch --connect "tcp:127.0.0.1:$port" --report "$r" \
        --set io.write.bandwidth.size=64KiB --set io.write.bandwidth.refill_time=100ms \
        --set io.write.bandwidth.one_time_burst=0 -- "$J" send 127.0.0.1 "$port" 2097152
    _net_peer_done
    expect_status 0 || return
    expect_stdout_line "sent=2097152" || return
    grep -qx "received=2097152" "$WORK/case/peer" || fail "the host received $(cat "$WORK/case/peer")"
    expect_report "$r" bytes_sent 2097152
    th=$(report_int "$r" write_throttled_ns)
    [ -n "$th" ] && ((th >= 2500000000)) || fail "write_throttled_ns $th < 2.5 s"
}

# max_capabilities bounds sockets: 8 slots - console 3 - endpoint 1 = 4 sockets, then EMFILE.
c_net_many() { # VARIANT
    need "net_ops.$1" || return
    local r=$WORK/case/r.json
    mkdir -p "$WORK/case"
    run_job launch --connect tcp:127.0.0.1:9 --max-capabilities 8 --report "$r" -- "$J" many 127.0.0.1 9
    expect_status 0 || return
    expect_stdout_line "sockets=4 errno=24" || return
    expect_report_ge "$r" capabilities_refused 1
}

c_net_poll() { # VARIANT
    need "net_ops.$1" || return
    local port
    _net_port
    port=$NET_PORT
    _net_peer "$WORK/case/peer" echo 127.0.0.1 "$port" 2 || return
    run_job launch --connect "tcp:127.0.0.1:$port" -- "$J" poll 127.0.0.1 "$port"
    _net_peer_done
    expect_status 0 || return
    expect_checks_pass
}

# An unmodified program: busybox wget fetches a file from a loopback HTTP server (python3's
# http.server) through a granted endpoint, into a granted directory; without the grant it fails.
c_net_wget() {
    local port d=$WORK/case/www o=$WORK/case/out
    _net_port
    port=$NET_PORT
    mkdir -p "$d" "$o"
    head -c 100000 /dev/urandom >"$d/blob"
    _net_up
    (cd "$d" && exec "$PYTHON3" -m http.server --bind 127.0.0.1 "$port") >"$WORK/case/http.log" 2>&1 &
    NET_PEER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        py -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
        sleep 0.1
    done
    run_job launch --connect "tcp:127.0.0.1:$port" --grant "/out=$o:rw" -- "$BUSYBOX" wget -q \
        -O /out/blob "http://127.0.0.1:$port/blob"
    expect_status 0 || { kill "$NET_PEER_PID"; wait "$NET_PEER_PID" 2>/dev/null; return 1; }
    cmp -s "$d/blob" "$o/blob" || fail "the fetched file differs from the served one"
    run_job launch --grant "/out=$o:rw" -- "$BUSYBOX" wget -q -O /out/none "http://127.0.0.1:$port/blob"
    kill "$NET_PEER_PID"
    wait "$NET_PEER_PID" 2>/dev/null
    [ "$RC" != 0 ] || fail "wget without a grant succeeded"
    expect_stderr_has "Permission denied"
}

c_net_policy_errors() {
    local p=$WORK/case/p.json
    mkdir -p "$WORK/case"
    printf '{"endpoints": [{"connect": "tcp:127.0.0.1:80"},\n  {"connect": "tcp:localhost:53"}]}\n' >"$p"
    run_cmd "$ISOVM" check "$p"
    expect_status 1 || return
    expect_stderr_has "$p:2:15: endpoints[1].connect: \"tcp:localhost:53\": \"localhost\" is a host name" || return
    expect_stderr_has "DNS is not available" || return
    run_cmd "$ISOVM" launch --listen udp:127.0.0.1:5 -- /bin/true
    expect_status 125 || return
    expect_stderr_has "--listen udp:127.0.0.1:5: \"udp:127.0.0.1:5\": a listen endpoint is tcp only"
}

if ! native; then
    add_case "net/policy errors and --listen udp" with_budget 20 c_net_policy_errors
    for v in $V2; do
        add_case "net/tcp echo with a grant net_ops.$v" with_budget 30 c_net_tcp "$v" 127.0.0.1
        add_case "net/no grant: EACCES for every family net_ops.$v" with_budget 20 c_net_none "$v"
        add_case "net/port A reaches neither B nor 127.0.0.2, hostile calls net_ops.$v" with_budget 30 c_net_other "$v"
        add_case "net/listen grant: the host connects net_ops.$v" with_budget 40 c_net_listen "$v"
        add_case "net/udp round trip net_ops.$v" with_budget 30 c_net_udp "$v" 127.0.0.1
        add_case "net/revoked from outside net_ops.$v" with_budget 40 c_net_revoke "$v"
        add_case "net/expiry ends the connection net_ops.$v" with_budget 40 c_net_expire "$v"
        add_case "net/max_capabilities bounds sockets net_ops.$v" with_budget 20 c_net_many "$v"
    done
    add_case "net/tcp echo over IPv6 net_ops.musl-pie" with_budget 30 c_net_tcp musl-pie ::1
    add_case "net/udp over IPv6 net_ops.glibc" with_budget 30 c_net_udp glibc ::1
    add_case "net/poll and ppoll net_ops.musl" with_budget 30 c_net_poll musl
    add_case "net/poll and ppoll net_ops.glibc" with_budget 30 c_net_poll glibc
    add_case "net/busybox wget through a granted endpoint" with_budget 60 c_net_wget
    add_case "net/write throttle applies to sockets net_ops.musl" with_budget 40 c_net_throttle musl
fi
