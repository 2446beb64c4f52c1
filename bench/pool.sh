#!/usr/bin/env bash
# Benchmark body, run inside the KVM host: a job's start through isovm pool against a cold launch and the static KVM floor, and launches per second both ways (issue 16).
#
# As bench/launch.sh: copies in tmpfs, ASLR off, bash's $EPOCHREALTIME, interleaved runs after
# a pause (KVM's deferred APIC static-key work). A start is measured from the time noted just
# before the client's exec to the job's first guest instruction: the report's main_realtime
# (the client's main(), which a pooled VMM's report counts from) plus its first_entry. The
# floor is a whole process (open /dev/kvm, VM, memslot, vCPU, run to HLT, exit), as in
# bench/launch.sh. Throughput: JOBS launches of hello, PAR at a time, cold and through a pool
# of POOL_SIZE, on the host's CPUs (run the emulated host with --cpus 2 for the 2-core figure).
set -euo pipefail
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-21}
JOBS=${BENCH_POOL_JOBS:-40}
PAR=${BENCH_POOL_PAR:-$(nproc)}

if [ "${1:-}" = --rows ]; then # a line per run: floor cold-start cold-total pool-start pool-phases... pool-total
    cd "$2"
    settle() { sleep "${BENCH_SETTLE:-1.1}"; }
    # the start, then (pooled only) exec to main() and each phase's end, from the report
    start_of() { python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["phases_ns"]
e = p["main_realtime"] - int(sys.argv[2]) * 1000
print(e + p["first_entry"], *([e] + [p[k] for k in ("launch", "program_read", "vm_created",
      "elf_loaded", "stack_built", "vcpu_created", "filter_installed", "first_entry")]
      if len(sys.argv) > 3 else []))' "$@"; }
    ./floor && ./isovm launch -- ./hello.musl >/dev/null 2>&1 # warm caches once
    ./isovm launch --pool pool.sock -- ./hello.musl >/dev/null 2>&1
    for ((r = 0; r < RUNS; r++)); do
        settle; t0=${EPOCHREALTIME/./}; ./floor; t1=${EPOCHREALTIME/./}
        f=$((t1 - t0))
        settle; t0=${EPOCHREALTIME/./}
        ./isovm launch --report c.json -- ./hello.musl >/dev/null 2>&1 ||
            { echo "bench: cold launch failed" >&2; exit 1; }
        t1=${EPOCHREALTIME/./}
        c=$((t1 - t0)) cs=$(start_of c.json "$t0")
        settle; t0=${EPOCHREALTIME/./}
        ./isovm launch --pool pool.sock --report p.json -- ./hello.musl >/dev/null 2>&1 ||
            { echo "bench: pooled launch failed" >&2; exit 1; }
        t1=${EPOCHREALTIME/./}
        p=$((t1 - t0)) ps=$(start_of p.json "$t0" phases)
        grep -q '"start": "warm"' p.json || { echo "bench: the pooled job was not warm" >&2; exit 1; }
        echo "$f $cs $c $ps $p"
    done
    exit 0
fi
if [ "${1:-}" = --jail-rows ]; then # a line per run: floor jailed-pool-start jailed-pool-total
    cd "$2"
    settle() { sleep "${BENCH_SETTLE:-1.1}"; }
    start_of() { python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["phases_ns"]
print(p["main_realtime"] - int(sys.argv[2]) * 1000 + p["first_entry"])' "$@"; }
    ./isovm launch --pool jpool.sock -- ./hello.musl >/dev/null 2>&1
    for ((r = 0; r < RUNS; r++)); do
        settle; t0=${EPOCHREALTIME/./}; ./floor; t1=${EPOCHREALTIME/./}
        f=$((t1 - t0))
        settle; t0=${EPOCHREALTIME/./}
        ./isovm launch --pool jpool.sock --report j.json -- ./hello.musl >/dev/null 2>&1 ||
            { echo "bench: a jailed pool's launch failed" >&2; exit 1; }
        t1=${EPOCHREALTIME/./}
        echo "$f $(start_of j.json "$t0") $((t1 - t0))"
    done
    exit 0
fi
if [ "${1:-}" = --rate ]; then # JOBS launches, PAR at a time: prints the seconds taken
    cd "$2"
    shift 2
    t0=${EPOCHREALTIME/./}
    seq "$JOBS" | xargs -P "$PAR" -I{} "$@" -- ./hello.musl >/dev/null 2>&1 ||
        { echo "bench: a launch failed ($*)" >&2; exit 1; }
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0))
    exit 0
fi

RAM=$(mktemp -d /tmp/isovm-pool.XXXXXX)
cp "$B"/bench/floor "$B"/isovm "$B"/guest/hello.musl "$RAM"/
(cd "$RAM" && exec ./isovm pool serve --socket pool.sock --size "${BENCH_POOL_SIZE:-2}" 2>serve.log) &
pool=$!
jpool=""
if [ "${BENCH_POOL_JAIL:-1}" = 1 ] && [ "$(id -u)" = 0 ]; then # a jailed pool beside it
    grep -q ' /sys/fs/cgroup cgroup2 ' /proc/self/mounts || mount -t cgroup2 none /sys/fs/cgroup
    mkdir -p "$RAM"/jails
    (cd "$RAM" && exec ./isovm pool serve --socket jpool.sock --size "${BENCH_POOL_SIZE:-2}" \
        --jail --uid 4242 --gid 4343 --chroot-base "$RAM"/jails 2>jserve.log) &
    jpool=$!
fi
trap 'kill $pool $jpool 2>/dev/null; wait $pool $jpool 2>/dev/null; rm -rf "$RAM"' EXIT
for _ in $(seq 100); do grep -q ready "$RAM"/serve.log 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 100); do [ -z "$jpool" ] || grep -q ready "$RAM"/jserve.log 2>/dev/null && break; sleep 0.1; done
rows=$(setarch "$(uname -m)" -R "$0" --rows "$RAM")
cold=$(setarch "$(uname -m)" -R "$0" --rate "$RAM" ./isovm launch)
pooled=$(setarch "$(uname -m)" -R "$0" --rate "$RAM" ./isovm launch --pool pool.sock)
# the jailed pool last: each of its jobs' ends leaves the kernel a network namespace to tear
# down in the background, which would weigh on whatever ran next
jrows=""
[ -z "$jpool" ] || jrows=$(setarch "$(uname -m)" -R "$0" --jail-rows "$RAM")
python3 - "$rows" "$jrows" "$cold" "$pooled" "$JOBS" "$PAR" "$(nproc)" "${BENCH_POOL_SIZE:-2}" <<'PY'
import statistics, sys
rows = [list(map(int, l.split())) for l in sys.argv[1].splitlines() if l.strip()]
jrows = [list(map(int, l.split())) for l in sys.argv[2].splitlines() if l.strip()]
cold_s, pool_s, jobs, par, cpus, size = (int(x) for x in sys.argv[3:])
med = lambda i: statistics.median(r[i] for r in rows)
f, cs, c, ps = (med(i) for i in range(4))
p = med(13)
print("pooled start (medians of %d, ASLR off, each after a pause; pool of %d; see bench/pool.sh):" % (len(rows), size))
print("  KVM floor, static (whole process):     %8.2f ms" % (f / 1e3))
print("  cold launch: start to first instruction %7.2f ms, whole %8.2f ms" % (cs / 1e6, c / 1e3))
print("  pooled:      start to first instruction %7.2f ms, whole %8.2f ms" % (ps / 1e6, p / 1e3))
print("  pooled start ratio: %.2fx the floor (target <= 0.3x); cold start %.2fx" % (ps / 1e3 / f, cs / 1e3 / f))
names = ["exec to main() (bash's fork, the client's start)", "to the pool VMM's launch (request, accept, checks)",
         "program read, job object, syscall filter lists", "VM adopted", "ELF", "stack", "vCPU 0's registers",
         "report opened, the VMM's seccomp filter", "to the first guest instruction"]
ends = [med(4 + i) for i in range(9)]
print("  pooled start's phases (medians; from the time before the client's exec):")
for i, n in enumerate(names):
    d = ends[i] - (ends[i - 1] if i > 1 else 0) if i else ends[0]
    print("    %-52s %6.2f ms  %5.1f%%" % (n, d / 1e6, 100 * d / ps))
print("launches per second, %d jobs of hello, %d at a time, %d CPUs: cold %.1f/s, pooled %.1f/s (%.2fx)"
      % (jobs, par, cpus, jobs / (cold_s / 1e6), jobs / (pool_s / 1e6), cold_s / pool_s))
if jrows:
    jm = lambda i: statistics.median(r[i] for r in jrows)
    jf, js, j = jm(0), jm(1), jm(2)
    print("jailed pool (pool serve --jail, measured after the above, interleaved with the floor, "
          "medians of %d):" % len(jrows))
    print("  KVM floor, static (whole process):     %8.2f ms" % (jf / 1e3))
    print("  jailed pool: start to first instruction %7.2f ms, whole %8.2f ms" % (js / 1e6, j / 1e3))
    print("  jailed pool's start ratio: %.2fx the floor (the helper's binds come before the job)"
          % (js / 1e3 / jf))
PY
