# isovm pool (issue 16, part 3; docs/pool.md): a pooled job gets the same output, status,
# limits, grants and report as a cold one; two pooled jobs in a row see different AT_RANDOM and
# getrandom bytes and none of each other's memory; a pool killed with SIGKILL loses no job it
# took and leaves a clear error for the next client; a client that goes away ends its job, and
# the signals it gets reach the job; a pool of 4 serving 200 jobs (80 for a sanitized isovm)
# leaks no descriptor, process or memory; hostile and wrong clients are refused without harm to the pool; bad options.
# shellcheck shell=bash
# Sourced by run.sh. Every case name starts with "pool/". isovm only (not native).

# _pool_start SIZE [SERVE OPTIONS...] : serve a pool at $POOL_SOCK (POOL_PID), ready within 60 s
_pool_start() {
    native && { fail "pool cases need isovm"; return 1; }
    POOL_SOCK=$WORK/case/pool.sock
    POOL_ERR=$WORK/case/serve.err
    "$ISOVM" pool serve --socket "$POOL_SOCK" --size "$@" 2>"$POOL_ERR" &
    POOL_PID=$!
    local i
    for ((i = 0; i < 600; i++)); do
        _has "$POOL_ERR" "ready at" && return 0
        kill -0 "$POOL_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "the pool did not get ready: $(head -c 400 "$POOL_ERR")"
    _pool_stop
    return 1
}

# _pool_stop : SIGTERM to the server; it must exit 0 and remove its socket
_pool_stop() {
    [ -n "${POOL_PID:-}" ] || return 0
    kill "$POOL_PID" 2>/dev/null
    wait "$POOL_PID"
    local rc=$?
    POOL_PID=""
    [ "$rc" = 0 ] || fail "isovm pool serve exited $rc after SIGTERM: $(head -c 400 "$POOL_ERR")"
    [ ! -e "$POOL_SOCK" ] || fail "the pool left its socket behind"
}

# _pool_vmms : POOL_N = the number of the server's warm VMMs alive (its own processes named
# isovm, the server excluded; they are in sessions of their own)
_pool_vmms() {
    POOL_N=$(pgrep -f -- "pool serve --socket $POOL_SOCK" | grep -vx "$POOL_PID" | wc -l)
}

# _pool_filters : PF = the seccomp state of the server's VMMs, "MODE/FILTERS" each, sorted
# (/proc/PID/status: Seccomp 2 is filtered; a waiting VMM has its waiting filter, a VMM running
# a job that one and the job's allowlist)
_pool_filters() {
    local p
    PF=$(for p in $(pgrep -f -- "pool serve --socket $POOL_SOCK" | grep -vx "$POOL_PID"); do
        awk '/^Seccomp:/ { m = $2 } /^Seccomp_filters:/ { f = $2 } END { print m "/" f }' "/proc/$p/status"
    done | sort | tr '\n' ' ')
}

# _pool_report_cmp COLD POOLED WHAT [KEYS] : the two reports agree but for host timing, start,
# job id and KEYS (counts that follow the host's timing, for a job that reads the clock)
_pool_report_cmp() {
    local msg
    msg=$(py -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
skip = set(a.get("host_timing_fields", [])) | {"start", "job_id", "host_timing_fields"} | set(sys.argv[3].split())
if a.get("start") != "cold" or b.get("start") != "warm":
    sys.exit("start: %r and %r, want cold and warm" % (a.get("start"), b.get("start")))
diff = sorted(k for k in set(a) | set(b) if k not in skip and a.get(k) != b.get(k))
if diff:
    sys.exit("reports differ in " + ", ".join("%s (%r / %r)" % (k, a.get(k), b.get(k)) for k in diff)[:900])
' "$1" "$2" "${4:-}" 2>&1) || fail "$3: $msg"
}

# c_pool_same_as_cold : jobs run cold and through the pool give the same stdout, stderr, exit
# status and report (limits, grants, a fault, a syscall refused, arguments and environment)
c_pool_same_as_cold() {
    need hello.musl || return
    _pool_start 2 || return
    mkdir -p "$WORK/case/data" && echo "granted file" >"$WORK/case/data/f.txt"
    # job (G: the guest jobs' folder) | its options
    local -a jobs=(
        "G/hello.musl"
        "G/exitcode.musl 7"
        "G/args.musl one 'two words'"
        "G/segv.musl"
        "$BUSYBOX cat f.txt"
        "G/spin.musl 5"
        "G/args.musl $(printf '%*s' 100000 '' | tr ' ' x)"
    )
    local -a opts=(
        ""
        "--max-threads 4"
        "--env A=1 --env B=two"
        ""
        "--grant /data=$WORK/case/data:ro --cwd /data"
        "--cpu-time-limit 300ms"
        "--env SMALL=1" # a request larger than its datagram: the rest on the connection
    )
    local i mode rc_c=0 rc_p=0 rc
    for i in "${!jobs[@]}"; do
        for mode in cold pool; do
            local -a pool_opt=()
            [ "$mode" = pool ] && pool_opt=(--pool "$POOL_SOCK")
            eval "set -- ${jobs[$i]//G\//$GUEST_DIR/}"
            # shellcheck disable=SC2086
            (cd "$WORK/case" && timeout -k 5 30 "$ISOVM" launch "${pool_opt[@]}" ${opts[$i]} \
                --report "$WORK/case/$mode.json" -- "$@" \
                >"$WORK/case/$mode.out" 2>"$WORK/case/$mode.err" </dev/null)
            rc=$?
            if [ "$mode" = cold ]; then rc_c=$rc; else rc_p=$rc; fi
        done
        [[ ${jobs[$i]} != *spin* ]] || [ "$rc_c" = 152 ] || fail "the CPU time limit's job exited $rc_c, want 152"
        [ "$rc_c" = "$rc_p" ] || fail "${jobs[$i]}: exit status cold $rc_c, pooled $rc_p"
        cmp -s "$WORK/case/cold.out" "$WORK/case/pool.out" ||
            fail "${jobs[$i]}: stdout differs: $(head -c 200 "$WORK/case/pool.out")"
        local loose="" ce pe
        [[ ${jobs[$i]} == *spin* ]] && loose="hypercalls_total syscalls"
        ce=$(<"$WORK/case/cold.err") pe=$(<"$WORK/case/pool.err")
        if [ -n "$loose" ]; then # the CPU time the limit's message reports is the host's
            ce=${ce//[0-9]/} pe=${pe//[0-9]/}
        fi
        [ "$ce" = "$pe" ] ||
            fail "${jobs[$i]}: stderr differs: cold $(head -c 200 "$WORK/case/cold.err") / pooled $(head -c 200 "$WORK/case/pool.err")"
        _pool_report_cmp "$WORK/case/cold.json" "$WORK/case/pool.json" "${jobs[$i]}" "$loose"
    done
    grep -q "^argv\[1\]=xxxxxxxxxx" "$WORK/case/pool.out" || fail "the 100 kB argument did not arrive"
    _pool_stop
}

# c_pool_fresh : two pooled jobs in a row: different AT_RANDOM and getrandom bytes; a job that
# fills 32 MiB with a marker leaves nothing the next one finds in all the RAM it can map
c_pool_fresh() {
    need pool_probe.musl || return
    _pool_start 1 || return
    local a b
    run_isovm launch --pool "$POOL_SOCK" -- "$J" random
    expect_status 0 && a=$(cat "$OUT_FILE")
    run_isovm launch --pool "$POOL_SOCK" -- "$J" random
    expect_status 0 && b=$(cat "$OUT_FILE")
    local at_a=${a%%$'\n'*} at_b=${b%%$'\n'*}
    [[ $at_a == "at_random "???????????????????????????????? ]] || fail "no AT_RANDOM line: $a"
    [ "$at_a" != "$at_b" ] || fail "two pooled jobs saw the same $at_a"
    [ "${a#*$'\n'}" != "${b#*$'\n'}" ] || fail "two pooled jobs drew the same getrandom bytes: ${a#*$'\n'}"
    local marker=zyxwvu9876543210POOL # given reversed: the job rebuilds it
    run_isovm launch --pool "$POOL_SOCK" -- "$J" mark "$marker"
    expect_status 0 && expect_stdout_has "marked 32 MiB"
    run_isovm launch --pool "$POOL_SOCK" -- "$J" search "$marker"
    expect_status 0 "the marker was found" && expect_stdout_has "marker 0 in"
    _pool_stop
}

# c_pool_killed : kill -9 of the server while a pooled job runs: the job ends normally with
# its status and output, the waiting VMMs go, and the next client gets a clear error (125)
c_pool_killed() {
    need spin.musl || return
    _pool_start 2 || return
    "$ISOVM" launch --pool "$POOL_SOCK" -- "$J" 2 >"$WORK/case/job.out" 2>"$WORK/case/job.err" &
    local job=$! i
    sleep 0.7
    kill -9 "$POOL_PID"
    wait "$POOL_PID" 2>/dev/null
    POOL_PID=""
    wait "$job"
    local rc=$?
    [ "$rc" = 0 ] || fail "the pooled job taken before the kill exited $rc: $(head -c 300 "$WORK/case/job.err")"
    _has "$WORK/case/job.out" "chunks=" || fail "the pooled job's output is missing: $(head -c 200 "$WORK/case/job.out")"
    for ((i = 0; i < 50; i++)); do
        _pool_vmms
        [ "$POOL_N" = 0 ] && break
        sleep 0.1
    done
    [ "$POOL_N" = 0 ] || fail "$POOL_N warm VMMs outlived their server by 5 s"
    need hello.musl || return
    run_isovm launch --pool "$POOL_SOCK" -- "$J"
    expect_status 125 && expect_stderr_has "no pool is serving there"
}

# c_pool_client_gone : kill -9 of the client ends its job (SIGHUP's status in the report); a
# SIGTERM to the client reaches the job (143), and the pool serves on
c_pool_client_gone() {
    need spin.musl || return
    _pool_start 2 || return
    local rep=$WORK/case/gone.json i
    "$ISOVM" launch --pool "$POOL_SOCK" --report "$rep" -- "$J" --forever >/dev/null 2>&1 &
    local client=$!
    sleep 1
    kill -9 "$client"
    wait "$client" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        [ -s "$rep" ] && _has "$rep" '"phases_ns"' && break
        sleep 0.1
    done
    expect_report "$rep" exit_reason '"killed"'
    expect_report "$rep" exit_status 129
    "$ISOVM" launch --pool "$POOL_SOCK" --report "$WORK/case/term.json" -- "$J" --forever \
        >/dev/null 2>"$WORK/case/term.err" &
    client=$!
    sleep 1
    kill -TERM "$client"
    wait "$client"
    local rc=$?
    [ "$rc" = 143 ] || fail "client given SIGTERM exited $rc, want 143: $(head -c 300 "$WORK/case/term.err")"
    _has "$WORK/case/term.err" "isovm received SIGTERM" || fail "no SIGTERM message: $(head -c 300 "$WORK/case/term.err")"
    expect_report "$WORK/case/term.json" exit_reason '"killed"'
    need hello.musl || return
    run_isovm launch --pool "$POOL_SOCK" -- "$J"
    expect_status 0 && expect_stdout_has "hello from isovm"
    _pool_stop
}

# _pool_usage : PU = "FDS ANON_KIB VMMS COMMITTED_KIB": the server's descriptors and anonymous
# resident memory, its warm VMMs, the host's Committed_AS
_pool_usage() {
    local fds rss committed
    fds=$(ls "/proc/$POOL_PID/fd" | wc -l)
    rss=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$POOL_PID/status")
    committed=$(sed -n 's/^Committed_AS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/meminfo)
    _pool_vmms
    PU="$fds $rss $POOL_N $committed"
}

# c_pool_leaks : a pool of 4 serving 200 jobs (2 at a time; 80 for a sanitized isovm, whose
# launches cost about 3 times as much): the server's descriptors, its memory, its VMMs and the
# host's committed memory are where they were before
c_pool_leaks() {
    need hello.musl || return
    _pool_start 4 || return
    local before i f0 r0 n0 c0 f1 r1 n1 c1 jobs=200
    LC_ALL=C grep -q -a -m1 __asan_init "$ISOVM" && jobs=80
    # the waiting VMMs: under their waiting filter (docs/security.md), nothing more
    _pool_filters
    [ "$PF" = "2/1 2/1 2/1 2/1 " ] || fail "the waiting VMMs' seccomp state: $PF, want 2/1 each"
    # 10 jobs first: the server's steady state (its code paths touched, its buffers made)
    printf '%s\n' $(seq 10) | xargs -P 2 -I{} "$ISOVM" launch --pool "$POOL_SOCK" -- "$J" \
        >/dev/null 2>&1 || fail "a warm-up job failed"
    sleep 0.3
    _pool_usage
    before=$PU
    printf '%s\n' $(seq "$jobs") | xargs -P 2 -I{} sh -c \
        "'$ISOVM' launch --pool '$POOL_SOCK' -- '$J' >/dev/null 2>>'$WORK/case/jobs.err' || echo 'job {} failed' >>'$WORK/case/failed'"
    [ ! -s "$WORK/case/failed" ] ||
        fail "$(wc -l <"$WORK/case/failed") of $jobs pooled jobs failed: $(head -c 300 "$WORK/case/jobs.err")"
    read -r f0 r0 n0 c0 <<<"$before"
    for ((i = 0; i < 50; i++)); do # the last refills
        _pool_usage
        read -r f1 r1 n1 c1 <<<"$PU"
        [ "$f1" = "$f0" ] && [ "$n1" = 4 ] && break
        sleep 0.1
    done
    [ "$f1" = "$f0" ] || fail "the server's descriptors: $f0 before, $f1 after $jobs jobs"
    ((r1 - r0 < 256)) || fail "the server's anonymous memory grew from $r0 to $r1 KiB over $jobs jobs"
    [ "$n1" = 4 ] && [ "$n0" = 4 ] || fail "warm VMMs: $n0 before, $n1 after (want 4)"
    ((c1 - c0 < 16384)) || fail "Committed_AS grew from $c0 to $c1 KiB over $jobs jobs"
    local zombies
    zombies=$(ps -o stat= --ppid "$POOL_PID" | grep -c Z)
    [ "$zombies" = 0 ] || fail "$zombies unreaped VMMs"
    _pool_stop
}

# c_pool_hostile : requests the pool must refuse without harm: garbage, too many or too few
# descriptors, a lying length, strings that never come; another user (mode 0600). The pool
# serves a good job after them.
c_pool_hostile() {
    need hello.musl || return
    _pool_start 2 || return
    py -c '
import array, os, socket, struct, sys, time
path = sys.argv[1]
MAGIC, VERSION = 0x4c505649, 2
def send(data, fds, with_conn=True):
    """one request datagram; returns our end of its connection"""
    mine, theirs = socket.socketpair()
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    fds = list(fds) + ([theirs.fileno()] if with_conn else [])
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    d.sendmsg([data], anc, 0, path)
    d.close()
    theirs.close()
    return mine
def talk(data, fds, with_conn=True, wait=20, mine=None):
    """the reply (if any) to a request: sent now, or earlier (mine)"""
    mine = mine or send(data, fds, with_conn)
    mine.settimeout(wait)
    got = b""
    try:
        while len(got) < 16:
            chunk = mine.recv(16 - len(got))
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        return "timeout"
    if len(got) < 16:
        return "closed"
    magic, typ, val, _ = struct.unpack("<IiiI", got)
    return "refused %d" % val if typ == 2 else "exit %d" % val
null = os.open("/dev/null", os.O_RDWR)
cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
def head(argc=2, envc=0, plen=None, magic=MAGIC, version=VERSION, payload=b"launch\0x\0"):
    return struct.pack("<IIIIIIQQ", magic, version, argc, envc,
                       len(payload) if plen is None else plen, 0o22, 0, 0) + payload
fds4 = [null, null, null, cwd]
# strings announced but never sent: that VMM waits 10 s for them, then refuses; the others are
# checked meanwhile
slow = send(head(plen=100000, payload=b"launch\0x\0"), fds4)
checks = [
    ("garbage magic", talk(head(magic=0xdeadbeef), fds4), "refused"),
    ("no connection", talk(head(), fds4, with_conn=False), "closed"),
    ("too many descriptors", talk(head(), fds4 * 3), "closed"), # the 5th is not the connection
    ("not a directory", talk(head(), [null, null, null, null]), "refused"),
    ("huge payload length", talk(head(plen=1 << 30), fds4), "refused"),
    ("unterminated string", talk(head(payload=b"launch\0xx"), fds4), "refused"),
    ("not a launch", talk(head(payload=b"jail\0x\0"), fds4), "refused"),
    ("environment without =", talk(head(envc=1, payload=b"launch\0x\0NOEQ\0"), fds4), "refused"),
    ("version", talk(head(version=1), fds4), "refused"),
    ("shorter than a head", talk(b"IVPL", fds4), "refused"),
    ("strings that never come", talk(None, None, wait=30, mine=slow), "refused"),
]
bad = [(n, got) for n, got, want in checks if not got.startswith(want)]
for n, got in bad:
    print("%s: %s" % (n, got))
sys.exit(1 if bad else 0)
' "$POOL_SOCK" >"$WORK/case/py.out" 2>&1 || fail "hostile requests not refused: $(head -c 600 "$WORK/case/py.out")"
    run_isovm launch --pool "$POOL_SOCK" -- "$J"
    expect_status 0 && expect_stdout_has "hello from isovm"
    _has "$POOL_ERR" "request refused" || fail "the pool logged no refusal: $(head -c 300 "$POOL_ERR")"
    if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
        run_cmd setpriv --reuid nobody --regid nogroup --clear-groups "$ISOVM" launch \
            --pool "$POOL_SOCK" -- "$J"
        expect_status 125 && expect_stderr_has "Permission denied"
    fi
    run_isovm launch --pool "$POOL_SOCK" -- "$J"
    expect_status 0 && expect_stdout_has "hello from isovm"
    _pool_stop
}

# c_pool_cold_memory : a job asking for other memory than the pool's is served cold by a pool
# VMM (report "pool-cold"), correctly; a client with a closed stdin
c_pool_cold_memory() {
    need hello.musl || return
    _pool_start 1 --memory 64M || return
    run_isovm launch --pool "$POOL_SOCK" --memory 32M --report "$WORK/case/r.json" -- "$J"
    expect_status 0 && expect_stdout_has "hello from isovm"
    expect_report "$WORK/case/r.json" start '"pool-cold"'
    expect_report "$WORK/case/r.json" memory_limit_bytes 33554432
    run_isovm launch --pool "$POOL_SOCK" --report "$WORK/case/w.json" -- "$J"
    expect_status 0 && expect_report "$WORK/case/w.json" start '"warm"'
    # a client with stdin closed: the job's stdin is /dev/null
    "$ISOVM" launch --pool "$POOL_SOCK" -- "$J" <&- >"$WORK/case/closed.out" 2>&1
    local rc=$?
    [ "$rc" = 0 ] && _has "$WORK/case/closed.out" "hello from isovm" ||
        fail "with stdin closed: status $rc, $(head -c 300 "$WORK/case/closed.out")"
    _pool_stop
}

# c_pool_usage_errors : bad options and uses, each a clear message and 125
c_pool_usage_errors() {
    native && { fail "pool cases need isovm"; return; }
    need hello.musl || return
    local s=$WORK/case/p.sock
    run_isovm pool serve --size 2
    expect_status 125 && expect_stderr_has "needs --socket"
    run_isovm pool serve --socket "$s" --size 0
    expect_status 125 && expect_stderr_has "--size: expected 1..64"
    run_isovm pool serve --socket "$s" --memory 1K
    expect_status 125 && expect_stderr_has "memory"
    echo x >"$WORK/case/file"
    run_isovm pool serve --socket "$WORK/case/file"
    expect_status 125 && expect_stderr_has "not a socket"
    run_isovm pool frobnicate
    expect_status 125 && expect_stderr_has "unknown subcommand"
    run_isovm pool --help
    expect_status 0 && expect_stdout_has "usage: isovm pool serve"
    run_isovm launch --pool "$s" --rootfs /nonexistent -- /bin/true # the Linux tier's too
    expect_status 125 && expect_stderr_has "no pool is serving there"
    run_isovm jail --id pool-t --uid 65534 --gid 65534 -- launch --pool "$s" -- "$J"
    expect_status 125 && expect_stderr_has "--pool"
    run_isovm launch --pool "$s" -- "$J"
    expect_status 125 && expect_stderr_has "no pool is serving there"
    _pool_start 1 || return
    run_isovm pool serve --socket "$POOL_SOCK"
    expect_status 125 && expect_stderr_has "a pool is serving there already"
    _pool_stop
}

# c_pool_tenant : a pooled job charged to a tenant: admitted by its keeper, its report's ledger
# names the tenant, its CPU time is in the ledger afterwards
c_pool_tenant() {
    need hello.musl || return
    export ISOVM_LEDGER=$WORK/case/ledger.db
    "$ISOVM" quota set acme cpu=1h/day >"$WORK/case/set.out" 2>&1 ||
        { fail "quota set: $(cat "$WORK/case/set.out")"; return; }
    _pool_start 1 || return
    run_isovm launch --pool "$POOL_SOCK" --tenant acme --report "$WORK/case/r.json" -- "$J"
    expect_status 0 && expect_stdout_has "hello from isovm"
    expect_report_match "$WORK/case/r.json" '"ledger": \{"tenant": "acme"' "no ledger object for acme"
    expect_report "$WORK/case/r.json" start '"warm"'
    local cpu i
    for ((i = 0; i < 50; i++)); do # settled by the keeper after the job
        "$ISOVM" quota report --tenant acme --format json >"$WORK/case/q.json" 2>/dev/null
        cpu=$(py -c 'import json, sys; print(json.load(sys.stdin)["tenants"][0]["usage"]["cpu_ns"])' \
            <"$WORK/case/q.json")
        [ "${cpu:-0}" -gt 0 ] 2>/dev/null && break
        sleep 0.1
    done
    [ "${cpu:-0}" -gt 0 ] 2>/dev/null || fail "the ledger has no CPU time for the pooled job: ${cpu:-none}"
    unset ISOVM_LEDGER
    _pool_stop
}

# c_pool_jailed : pool serve --jail: each waiting VMM is in its jail before any job (the jail's
# user, no capability, no_new_privs, a cgroup and mount, network, IPC and UTS namespaces of its
# own, a root holding only /dev/kvm, its waiting filter); jobs through it get the same output,
# status and report as cold ones (a relative program and report, a grant, a fault), their VMM
# sees only their files, its cgroup gets their policy's limits; what a jailed pool does not
# serve (the Linux tier, a tenant, --control, a grant through a symlink) is refused by name; the
# server leaves no jail or cgroup behind
c_pool_jailed() {
    _jail_init || return
    need hello.musl || return
    local d=$WORK/case/jw p n=0 pid
    mkdir -p "$d/data" && echo "granted file" >"$d/data/f.txt" && ln -s data "$d/link"
    cp "$GUEST_DIR/hello.musl" "$GUEST_DIR/segv.musl" "$GUEST_DIR/spin.musl" "$d/"
    chown -R $JAIL_UID:$JAIL_GID "$d"
    _pool_start 2 --jail --uid $JAIL_UID --gid $JAIL_GID --chroot-base "$JAIL_BASE" || return
    pid=$POOL_PID
    for p in $(pgrep -f -- "pool serve --socket $POOL_SOCK" | grep -vx "$POOL_PID"); do
        n=$((n + 1))
        local st k tree
        st=$(cat "/proc/$p/status")
        for k in "Uid:	$JAIL_UID	$JAIL_UID	$JAIL_UID	$JAIL_UID" "Gid:	$JAIL_GID	" \
            "NoNewPrivs:	1" "CapEff:	0000000000000000" "CapPrm:	0000000000000000" \
            "CapBnd:	0000000000000000" "Seccomp_filters:	1"; do
            grep -q "^$k" <<<"$st" || fail "waiting VMM $p: no \"$k\" in its status: $(grep "^${k%%:*}:" <<<"$st")"
        done
        for k in mnt net ipc uts; do
            [ "$(readlink "/proc/$p/ns/$k")" != "$(readlink "/proc/self/ns/$k")" ] ||
                fail "waiting VMM $p shares the host's $k namespace"
        done
        grep -qx "0::/isovm/pool-$pid-[0-9]*" "/proc/$p/cgroup" ||
            fail "waiting VMM $p is not in a cgroup of its own: $(cat "/proc/$p/cgroup")"
        tree=$(cd "/proc/$p/root" && find . | sort | tr '\n' ' ')
        [ "$tree" = ". ./dev ./dev/kvm " ] || fail "waiting VMM $p's root holds: $tree"
    done
    [ "$n" = 2 ] || fail "$n waiting VMMs, want 2"
    # the same as cold (as root, unjailed): relative program and report, a fault, a grant
    local -a jobs=("./hello.musl" "./segv.musl" "$BUSYBOX cat f.txt")
    local -a opts=("" "" "--grant /data=$d/data:ro --cwd /data")
    local i mode rc rc_c=0 rc_p=0
    for i in "${!jobs[@]}"; do
        for mode in cold pool; do
            local -a pool_opt=()
            [ "$mode" = pool ] && pool_opt=(--pool "$POOL_SOCK")
            # shellcheck disable=SC2086
            (cd "$d" && timeout -k 5 30 "$ISOVM" launch "${pool_opt[@]}" ${opts[$i]} \
                --report "$mode.json" -- ${jobs[$i]} >"$WORK/case/$mode.out" 2>"$WORK/case/$mode.err" </dev/null)
            rc=$?
            if [ "$mode" = cold ]; then rc_c=$rc; else rc_p=$rc; fi
        done
        [ "$rc_c" = "$rc_p" ] || fail "${jobs[$i]}: exit status cold $rc_c, jailed pool $rc_p: $(head -c 300 "$WORK/case/pool.err")"
        cmp -s "$WORK/case/cold.out" "$WORK/case/pool.out" ||
            fail "${jobs[$i]}: stdout differs: $(head -c 200 "$WORK/case/pool.out")"
        cmp -s "$WORK/case/cold.err" "$WORK/case/pool.err" ||
            fail "${jobs[$i]}: stderr differs: $(head -c 300 "$WORK/case/pool.err")"
        _pool_report_cmp "$d/cold.json" "$d/pool.json" "jailed ${jobs[$i]}"
    done
    _has "$WORK/case/pool.out" "granted file" || fail "the granted file was not read"
    # a job running: its VMM's root holds its files only, its cgroup its policy's memory limit
    (cd "$d" && exec "$ISOVM" launch --pool "$POOL_SOCK" --memory 128M --timeout 60s -- \
        ./spin.musl --forever >"$WORK/case/spin.out" 2>&1) &
    local client=$! busy="" tree
    for ((i = 0; i < 300; i++)); do
        _has "$WORK/case/spin.out" spinning && break
        sleep 0.1
    done
    for p in $(pgrep -f -- "pool serve --socket $POOL_SOCK" | grep -vx "$POOL_PID"); do
        [ -e "/proc/$p/root/$d/spin.musl" ] && busy=$p
    done
    if [ -z "$busy" ]; then
        fail "no VMM holds the running job: $(head -c 300 "$WORK/case/spin.out")"
    else
        local want=(. ./dev ./dev/kvm) q="" c
        for c in ${d//\// }; do
            q=$q/$c
            want+=(".$q")
        done
        want+=(".$d/spin.musl")
        tree=$(cd "/proc/$busy/root" && find . | sort | tr '\n' ' ')
        [ "$tree" = "$(printf '%s\n' "${want[@]}" | sort | tr '\n' ' ')" ] ||
            fail "the job's VMM's root holds: $tree"
        local cg
        cg=$(sed -n 's#^0::##p' "/proc/$busy/cgroup")
        [ "$(cat "$JAIL_CG$cg/memory.max")" = $(((128 + 64) << 20)) ] ||
            fail "the job's VMM's cgroup $cg: memory.max $(cat "$JAIL_CG$cg/memory.max"), want 128M + 64M"
    fi
    kill -TERM "$client"
    wait "$client"
    rc=$?
    [ "$rc" = 143 ] || fail "the spinning job's client exited $rc after SIGTERM, want 143"
    # refused by name, and the pool serves on
    run_isovm launch --pool "$POOL_SOCK" --rootfs /nonexistent -- /bin/true
    expect_status 125 && expect_stderr_has "a jailed pool serves hypercall-tier jobs only"
    run_isovm launch --pool "$POOL_SOCK" --tenant acme -- "$d/hello.musl"
    expect_status 125 && expect_stderr_has "does not serve jobs charged to a tenant"
    run_isovm launch --pool "$POOL_SOCK" --control "$d/c.sock" -- "$d/hello.musl"
    expect_status 125 && expect_stderr_has "--control"
    run_isovm launch --pool "$POOL_SOCK" --grant "/g=$d/link:ro" -- "$d/hello.musl"
    expect_status 125 && expect_stderr_has "grants[0].host $d/link"
    run_isovm launch --pool "$POOL_SOCK" -- "$d/hello.musl"
    expect_status 0 && expect_stdout_has "hello from isovm"
    _pool_stop
    local left
    left=$(ls -d "$JAIL_BASE/isovm/pool-$pid-"* "$JAIL_CG/isovm/pool-$pid-"* 2>/dev/null | tr '\n' ' ')
    [ -z "$left" ] || fail "the pool left jails or cgroups behind: $left"
}

# c_pool_jail_usage : pool serve --jail's own errors: each a clear message and 125
c_pool_jail_usage() {
    native && { fail "pool cases need isovm"; return; }
    local s=$WORK/case/p.sock
    run_isovm pool serve --socket "$s" --jail --gid 4343
    expect_status 125 && expect_stderr_has "--uid and --gid are required"
    run_isovm pool serve --socket "$s" --jail --uid 4242 --gid 4343 --id x
    expect_status 125 && expect_stderr_has "--id (each VMM's jail is named by the pool) is not a pool's option"
    run_isovm pool serve --socket "$s" --jail --uid 4242 --gid 4343 --size 2
    expect_status 125 && expect_stderr_has "unknown option --size"
    run_isovm pool serve --socket "$s" --rootfs /nonexistent --jail --uid 4242 --gid 4343
    expect_status 125 && expect_stderr_has "--jail serves the hypercall tier only"
    run_isovm pool serve --socket "$s" --jail --uid 4242 --gid 4343 --chroot-base /nonexistent
    expect_status 125 && expect_stderr_has "--chroot-base /nonexistent: No such file"
    [ ! -e "$s" ] || fail "a refused pool left its socket"
}

add_case "pool/same as cold" with_budget 180 c_pool_same_as_cold
add_case "pool/fresh randomness and memory" with_budget 120 c_pool_fresh
add_case "pool/killed pool loses no taken job" c_pool_killed
add_case "pool/client gone or signalled" c_pool_client_gone
add_case "pool/many jobs leak nothing" with_budget 300 c_pool_leaks
add_case "pool/hostile clients" with_budget 120 c_pool_hostile
add_case "pool/other memory served cold" c_pool_cold_memory
add_case "pool/usage errors" c_pool_usage_errors
add_case "pool/a tenant's job" c_pool_tenant
add_case "pool/jailed" with_budget 120 c_pool_jailed
add_case "pool/jailed usage errors" c_pool_jail_usage
