#!/usr/bin/env bash
# `isovm quota serve`'s tests, host-side (no KVM): jobs recorded in a fresh ledger through the
# ledger's own API (ledger_record, built with the unit tests), then served over HTTP and checked
# with Python's sockets: the OpenMetrics answer to Prometheus' Accept header and the text format
# to anything else (Content-Type, bodies byte-for-byte those of `quota report`), HEAD, the query
# string ignored, 404/405/400/431/505, a request trickled in byte by byte, a silent client that
# does not hold up another, a 503 from a damaged ledger while the server goes on; promtool on the
# text format; a real Prometheus (Debian's prometheus package, which scripts/install-deps.sh
# installs) scraping it every second, its value of the CPU counter equal to what
# `quota report --format json` says and the target "up"; SIGTERM and SIGINT exit 0, an address
# in use 1, bad usage 125; no sanitizer report, and (a build without sanitizers, where valgrind
# is installed) a short run under valgrind without errors or leaks.
#
#   tests/quota/serve_cases.sh      ISOVM (default build/isovm) is the binary tested;
#                                   LEDGER_RECORD (default: tests/ledger_record next to ISOVM)
#
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
ISOVM=$(realpath "${ISOVM:-$repo/build/isovm}")
LEDGER_RECORD=${LEDGER_RECORD:-$(dirname "$ISOVM")/tests/ledger_record}
[ -x "$ISOVM" ] || { echo "FAIL tests/quota/serve_cases.sh: no $ISOVM (make)"; exit 1; }
[ -x "$LEDGER_RECORD" ] || { echo "FAIL tests/quota/serve_cases.sh: no $LEDGER_RECORD (make unit)"; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
L=$tmp/state/ledger.db
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
no() { failed=$((failed + 1)); echo "FAIL $*"; }
t0=$(date +%s%N)

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 after SECONDS
wait_for() {
  local end=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.1
  done
}
# start_server LEDGER ERRFILE: isovm quota serve in the background on a free port (three tries:
# another program may take the port between free_port and the bind), its pid in $spid and its
# port in $sport; 0 once it says it listens (within 20 s), else 1
started() { grep -q "listening on" "$1" || ! kill -0 "$2" 2>/dev/null; }
start_server() {
  local try
  for try in 1 2 3; do
    sport=$(free_port)
    "$ISOVM" quota --ledger "$1" serve --listen "127.0.0.1:$sport" 2>"$2" &
    spid=$!
    pids+=("$spid")
    wait_for 20 started "$2" "$spid"
    grep -q "listening on" "$2" && return 0
    grep -q "Address already in use" "$2" || return 1
  done
  return 1
}
# stop_server PID SIGNAL: the server's exit status after SIGNAL (137 if it had to be killed
# after 10 s)
stop_server() {
  kill "-$2" "$1"
  local i
  for i in $(seq 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null
  wait "$1"
}

# ---- usage recorded through the ledger's API: acme 2.5 s + 1.25 s of CPU, beta 0.7 s ----
if "$LEDGER_RECORD" "$L" acme job-1 1000000000 2500000000 && "$LEDGER_RECORD" "$L" acme job-2 1250000000 &&
   "$LEDGER_RECORD" "$L" beta job-3 400000000 700000000 &&
   "$ISOVM" quota --ledger "$L" set acme cpu=10h/day jobs=4 >"$tmp/set.err" 2>&1; then
  ok "three jobs of two tenants recorded in a fresh ledger"
else
  no "recording the jobs"
fi
"$ISOVM" quota --ledger "$L" report --format json --tenant acme >"$tmp/acme.json"
want=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tenants"][0]["usage"]["cpu_ns"] / 1e9)' "$tmp/acme.json")
[ "$want" = 3.75 ] && ok "quota report: acme used 3.75 s of CPU" || no "quota report: acme's CPU is '$want' s"
"$ISOVM" quota --ledger "$L" report --format prometheus >"$tmp/report.prom"
"$ISOVM" quota --ledger "$L" report --format openmetrics >"$tmp/report.om"

# ---- the server, and a Prometheus scraping it while the HTTP cases run ----
if start_server "$L" "$tmp/serve.err"; then
  server=$spid
  port=$sport
  grep -qxF "isovm: quota serve: listening on http://127.0.0.1:$port/metrics" "$tmp/serve.err" &&
    ok "says where it listens" || no "the listening line: $(head -c 300 "$tmp/serve.err")"
else
  no "quota serve did not start: $(head -c 300 "$tmp/serve.err")"
  echo "$passed passed, $failed failed"
  exit 1
fi

prom_port=$(free_port)
prom_ok=0
if [ -x /usr/bin/prometheus ]; then
  cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: isovm
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
  /usr/bin/prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
  pids+=($!)
  prom_ok=1
else
  no "no /usr/bin/prometheus (scripts/install-deps.sh installs Debian's prometheus package)"
fi

# ---- HTTP ----
cat >"$tmp/http_cases.py" <<'EOF'
import socket, sys, threading, time
port, report_prom, report_om, text_out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
               "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

def check(name, cond, detail=""):
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)[:400]), flush=True)

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s

def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b

def exchange(raw, trickle=0.0):
    """Send raw bytes (one at a time every trickle seconds if trickle), read to the close:
    (status, {header: value}, body)."""
    s = connect()
    if trickle:
        for i in range(len(raw)):
            s.sendall(raw[i:i + 1])
            time.sleep(trickle)
    else:
        s.sendall(raw)
    data = read_all(s)
    s.close()
    return parse(data)

def parse(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body

def get(path="/metrics", accept=None, method="GET", extra=""):
    h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, path, port)
    if accept is not None:
        h += "Accept: %s\r\n" % accept
    return exchange((h + extra + "\r\n").encode())

st, h, body = get(accept=PROM_ACCEPT)
check("Prometheus' Accept: 200, OpenMetrics", st == 200 and h.get("content-type") == OM_TYPE, (st, h))
check("OpenMetrics: the body is quota report --format openmetrics", body == open(report_om, "rb").read(), body[:300])
check("OpenMetrics: Content-Length, Connection: close, Vary: Accept",
      h.get("content-length") == str(len(body)) and h.get("connection") == "close" and h.get("vary") == "Accept", h)
st, h, body = get(accept="*/*")
check("Accept */*: 200, the Prometheus text format", st == 200 and h.get("content-type") == TEXT_TYPE, (st, h))
check("text: the body is quota report --format prometheus", body == open(report_prom, "rb").read(), body[:300])
open(text_out, "wb").write(body)
st, h, body2 = get()
check("no Accept: the text format", st == 200 and h.get("content-type") == TEXT_TYPE and body2 == body, (st, h))
st, h, _ = get(accept="text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5")
check("text/plain preferred by q: the text format", st == 200 and h.get("content-type") == TEXT_TYPE, (st, h))
st, h, body3 = get("/metrics?name[]=isovm&x", accept="application/openmetrics-text")
check("the query string is ignored", st == 200 and h.get("content-type") == OM_TYPE and body3.endswith(b"# EOF\n"), (st, h))
st, h, hb = get(method="HEAD")
check("HEAD: 200, the GET's headers, no body", st == 200 and hb == b"" and h.get("content-length") == str(len(body))
      and h.get("content-type") == TEXT_TYPE, (st, h, hb[:100]))
for path in ("/", "/metrics/x", "/metrics/", "/Metrics", "/metricsx"):
    st, h, b = get(path)
    check("GET %s: 404" % path, st == 404 and b"only /metrics" in b and h.get("connection") == "close", (st, h, b))
st, h, b = exchange(("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").encode())
check("POST /metrics (with a body): 405, Allow: GET, HEAD", st == 405 and h.get("allow") == "GET, HEAD", (st, h, b))
st, h, b = get(method="DELETE")
check("DELETE /metrics: 405", st == 405, (st, h))
for name, raw in (("garbage", b"hello world\r\n\r\n"), ("a TLS ClientHello", bytes.fromhex("160301020001000001fc0303") + bytes(40)),
                  ("HTTP/1.1 without Host", b"GET /metrics HTTP/1.1\r\n\r\n"),
                  ("a folded header", b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n")):
    st, h, b = exchange(raw)
    check("%s: 400" % name, st == 400 and h.get("connection") == "close", (st, h, b))
st, h, b = exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 9000 + b"\r\n\r\n")
check("a head over 8 KiB: 431", st == 431, (st, h, b))
st, h, b = exchange(b"GET /metrics HTTP/2.0\r\n\r\n")
check("HTTP/2.0: 505", st == 505, (st, h, b))
st, h, b = exchange(b"GET /metrics HTTP/1.0\n\n")
check("HTTP/1.0 without Host, LF line ends: 200", st == 200 and b == body, (st, h))

# a request trickled in a byte at a time
t = time.monotonic()
st, h, b = exchange(("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: %s\r\n\r\n" % PROM_ACCEPT).encode(), trickle=0.002)
check("a request trickled byte by byte: 200, OpenMetrics", st == 200 and h.get("content-type") == OM_TYPE, (st, h))

# a client that says nothing and one that stops halfway do not hold up another; each is let go
# at its deadline (2 s), the second told 408
silent = connect()
half = connect()
connected = time.monotonic()
half.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
time.sleep(0.1)
t = time.monotonic()
st, h, b = get()
took = time.monotonic() - t
check("with a silent and a half-sent client connected, another is answered at once (%.2f s)" % took,
      st == 200 and took < 1.5, (st, took))
res = {}
def wait_close(name, s):
    s.settimeout(10)
    try:
        data = read_all(s)
    except OSError as e:
        data = repr(e).encode()
    res[name] = (time.monotonic() - connected, data)
threads = [threading.Thread(target=wait_close, args=a) for a in (("silent", silent), ("half", half))]
for th in threads: th.start()
for th in threads: th.join()
check("the silent client is closed at its deadline, without an answer (after %.2f s)" % res["silent"][0],
      1.8 <= res["silent"][0] <= 4.0 and res["silent"][1] == b"", res["silent"])
check("the half-sent client is told 408 at its deadline (after %.2f s)" % res["half"][0],
      1.8 <= res["half"][0] <= 4.0 and parse(res["half"][1])[0] == 408, res["half"])
st, h, b = get()
check("still serving after all that", st == 200, st)
EOF
python3 "$tmp/http_cases.py" "$port" "$tmp/report.prom" "$tmp/report.om" "$tmp/served.prom" >"$tmp/http.out" 2>&1
cat "$tmp/http.out"
passed=$((passed + $(grep -c '^PASS' "$tmp/http.out")))
failed=$((failed + $(grep -c '^FAIL' "$tmp/http.out")))
grep -q '^Traceback' "$tmp/http.out" && no "the HTTP cases stopped with an exception (above)"

# ---- promtool on the text format as served ----
if [ -x /usr/bin/promtool ]; then
  if /usr/bin/promtool check metrics <"$tmp/served.prom" >"$tmp/promtool.out" 2>&1; then
    ok "promtool check metrics (the text format as served)"
  else
    no "promtool check metrics: $(head -c 400 "$tmp/promtool.out")"
  fi
else
  no "no /usr/bin/promtool (scripts/install-deps.sh installs Debian's prometheus package)"
fi

# ---- Prometheus: what it scraped ----
if [ $prom_ok = 1 ]; then
  cat >"$tmp/prom_query.py" <<'EOF'
import json, sys, time, urllib.parse, urllib.request
base, want, deadline = sys.argv[1], float(sys.argv[2]), time.monotonic() + 30
def api(path):
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return json.load(r)
q = "/api/v1/query?" + urllib.parse.urlencode({"query": 'isovm_tenant_cpu_seconds_total{tenant="acme"}'})
got, last = None, ""
while time.monotonic() < deadline:
    try:
        d = api(q)
        if d["status"] == "success" and d["data"]["result"]:
            got = d["data"]["result"][0]
            break
        last = d
    except OSError as e:
        last = e
    time.sleep(0.2)
if got is None:
    print("FAIL Prometheus never had isovm_tenant_cpu_seconds_total{tenant=\"acme\"} in 30 s: %s" % str(last)[:300])
    sys.exit(0)
v = float(got["value"][1])
ok = abs(v - want) <= 1e-6 and got["metric"].get("job") == "isovm"
print(("PASS" if ok else "FAIL") + " Prometheus scraped acme's CPU: %r s (quota report: %r s), job %s" % (v, want, got["metric"].get("job")))
t = api("/api/v1/targets")["data"]["activeTargets"]
up = [x for x in t if x["labels"].get("job") == "isovm"]
ok = len(up) == 1 and up[0]["health"] == "up" and up[0]["lastError"] == ""
print(("PASS" if ok else "FAIL") + " the scrape target is up: %s" % str([(x["health"], x["lastError"]) for x in up])[:300])
# the metadata tells the format Prometheus negotiated: OpenMetrics names a counter's family
# without _total and carries its unit
m = api("/api/v1/metadata?" + urllib.parse.urlencode({"metric": "isovm_tenant_cpu_seconds"}))["data"]
meta = m.get("isovm_tenant_cpu_seconds", [{}])[0]
ok = meta.get("type") == "counter" and meta.get("unit") == "seconds"
print(("PASS" if ok else "FAIL") + " Prometheus read OpenMetrics (family isovm_tenant_cpu_seconds, unit seconds): %s" % meta)
EOF
  python3 "$tmp/prom_query.py" "http://127.0.0.1:$prom_port" "$want" >"$tmp/prom.out" 2>&1
  cat "$tmp/prom.out"
  passed=$((passed + $(grep -c '^PASS' "$tmp/prom.out")))
  failed=$((failed + $(grep -c '^FAIL' "$tmp/prom.out")))
  if grep -q '^Traceback\|^FAIL' "$tmp/prom.out"; then
    grep -q '^Traceback' "$tmp/prom.out" && no "the Prometheus checks stopped with an exception (above)"
    echo "--- prometheus log (last lines):"; tail -n 15 "$tmp/prometheus.log"
  fi
fi

# ---- the end: SIGTERM; a second server: a damaged ledger, SIGINT; refusals ----
stop_server "$server" TERM
rc=$?
[ $rc = 0 ] && ok "SIGTERM: exit 0" || no "SIGTERM: exit $rc ($(tail -n 3 "$tmp/serve.err"))"
grep -v "listening on" "$tmp/serve.err" >"$tmp/serve.rest"
[ -s "$tmp/serve.rest" ] && no "the server said more than where it listens: $(head -c 300 "$tmp/serve.rest")" ||
  ok "the server said nothing but where it listens"

cp "$L" "$tmp/damaged.db"
if start_server "$tmp/damaged.db" "$tmp/serve2.err"; then
  port2=$sport
  # the server's open connection checks its cache through the WAL index: damage both
  head -c 8192 /dev/urandom | dd of="$tmp/damaged.db" conv=notrunc status=none
  head -c 32768 /dev/zero | dd of="$tmp/damaged.db-shm" conv=notrunc status=none
  python3 - "$port2" "$tmp/damaged.db" >"$tmp/damaged.out" 2>&1 <<'EOF'
import socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
def ask(path_):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path_).encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    return data
a = ask("/metrics")
ok = a.startswith(b"HTTP/1.1 503 ") and ("ledger %s" % path).encode() in a and b"not a database" in a
print(("PASS" if ok else "FAIL") + " a damaged ledger: 503 naming it and what is wrong: %r" % a.split(b"\r\n\r\n", 1)[-1][:300])
b = ask("/")
c = ask("/metrics")
ok = b.startswith(b"HTTP/1.1 404 ") and c.startswith(b"HTTP/1.1 503 ")
print(("PASS" if ok else "FAIL") + " after a ledger error it goes on serving: %r" % [b[:20], c[:20]])
EOF
  cat "$tmp/damaged.out"
  passed=$((passed + $(grep -c '^PASS' "$tmp/damaged.out")))
  failed=$((failed + $(grep -c '^FAIL' "$tmp/damaged.out")))
  grep -q '^Traceback' "$tmp/damaged.out" && no "the damaged-ledger cases stopped with an exception (above)"
  stop_server "$spid" INT
  rc=$?
  [ $rc = 0 ] && ok "SIGINT: exit 0" || no "SIGINT: exit $rc"
  grep -q "quota serve: ledger $tmp/damaged.db: .*not a database" "$tmp/serve2.err" &&
    ok "the ledger error is logged on stderr" || no "no ledger error on stderr: $(head -c 300 "$tmp/serve2.err")"
else
  no "the second server did not start: $(head -c 300 "$tmp/serve2.err")"
fi

if grep -qE 'Sanitizer|runtime error' "$tmp/serve.err" "$tmp/serve2.err"; then
  no "a sanitizer report: $(grep -hE -A5 'Sanitizer|runtime error' "$tmp/serve.err" "$tmp/serve2.err" | head -c 600)"
else
  ok "no sanitizer report from the servers"
fi

# valgrind (not on a sanitized build): a few requests of each kind, then SIGTERM
if command -v valgrind >/dev/null && ! grep -qa __asan_init "$ISOVM"; then
  port3=$(free_port)
  # memcheck sees a heap only through the dynamic loader: the static isovm's twin, isovm-slirp
  # (the same objects linked dynamically), is the one checked. Still reachable at exit: only
  # glib's own (libslirp's; its constructors allocate)
  vg_isovm=$ISOVM
  [ -x "$(dirname "$ISOVM")/isovm-slirp" ] && vg_isovm=$(dirname "$ISOVM")/isovm-slirp
  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    "$vg_isovm" quota --ledger "$L" serve --listen "127.0.0.1:$port3" 2>"$tmp/vg.err" &
  vg=$!
  pids+=("$vg")
  if wait_for 30 grep -q "listening on" "$tmp/vg.err"; then
    python3 - "$port3" >"$tmp/vg.out" 2>&1 <<'EOF'
import socket, sys
port = int(sys.argv[1])
def ask(raw, half_close=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(raw)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    return data[:12]
got = [ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
       ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n"),
       ask(b"HEAD /metrics HTTP/1.0\r\n\r\n"), ask(b"GET / HTTP/1.0\r\n\r\n"),
       ask(b"PUT /metrics HTTP/1.0\r\nContent-Length: 2\r\n\r\nab"), ask(b"junk junk\r\n\r\n"),
       ask(b"GET /metrics HTTP/1.1\r\nHo", half_close=True)]
want = [b"HTTP/1.1 200", b"HTTP/1.1 200", b"HTTP/1.1 200", b"HTTP/1.1 404", b"HTTP/1.1 405",
        b"HTTP/1.1 400", b"HTTP/1.1 400"]
print(("PASS" if got == want else "FAIL") + " under valgrind: the answers %s" % [g.decode() for g in got])
EOF
    cat "$tmp/vg.out"
    passed=$((passed + $(grep -c '^PASS' "$tmp/vg.out")))
    failed=$((failed + $(grep -c '^FAIL' "$tmp/vg.out")))
    stop_server "$vg" TERM
    rc=$?
    [ $rc = 0 ] && [ "$(grep -vc "listening on" "$tmp/vg.err")" = 0 ] && ok "valgrind: no error, nothing lost, exit 0" ||
      no "valgrind: exit $rc: $(grep -v "listening on" "$tmp/vg.err" | head -c 600)"
  else
    no "quota serve under valgrind did not start: $(head -c 300 "$tmp/vg.err")"
  fi
fi

# IPv6 loopback, where the host has it
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  port6=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')
  : >"$tmp/serve6.err" # there before the server's shell makes it: wait_for reads it at once
  "$ISOVM" quota --ledger "$L" serve --listen "[::1]:$port6" 2>"$tmp/serve6.err" &
  pid6=$!
  pids+=("$pid6")
  if wait_for 20 started "$tmp/serve6.err" "$pid6" && grep -qxF "isovm: quota serve: listening on http://[::1]:$port6/metrics" "$tmp/serve6.err" &&
     python3 - "$port6" <<'EOF'
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: [::1]\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.exit(0 if data.startswith(b"HTTP/1.1 200 ") and b'isovm_tenant_cpu_seconds_total{tenant="acme"} 3.75' in data else 1)
EOF
  then ok "[::1]: listens and answers"; else no "[::1]: $(head -c 300 "$tmp/serve6.err")"; fi
  stop_server "$pid6" TERM
fi

# an address in use: exit 1 naming it (Prometheus holds prom_port)
if [ $prom_ok = 1 ]; then
  timeout 10 "$ISOVM" quota --ledger "$L" serve --listen "127.0.0.1:$prom_port" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc = 1 ] && grep -qF "quota serve: cannot listen on 127.0.0.1:$prom_port: Address already in use" "$tmp/err" &&
    ok "an address in use: exit 1 naming it" || no "an address in use: exit $rc: $(head -c 300 "$tmp/err")"
fi
# bad usage: 125 and what is wrong
for args in "--listen" "--listen 127.0.0.1" "--listen 127.0.0.1:0" "--listen 127.0.0.1:65536" \
            "--listen localhost:9464" "--listen ::1:9464" "--listen [::1]" "--listen 127.0.0.1:94x" \
            "--port 9464" ""; do
  # shellcheck disable=SC2086
  timeout 10 "$ISOVM" quota --ledger "$L" serve $args >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc = 125 ] && grep -q "quota serve: " "$tmp/err" && ok "serve $args: 125" ||
    no "serve $args: exit $rc: $(head -c 300 "$tmp/err")"
done
timeout 10 "$ISOVM" quota --help >"$tmp/out" 2>&1
grep -q "isovm quota serve \[--ledger PATH\] --listen ADDR:PORT" "$tmp/out" && ok "quota --help shows serve" ||
  no "quota --help: $(head -c 300 "$tmp/out")"

echo "serve_cases: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
