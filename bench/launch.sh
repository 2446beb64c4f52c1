#!/usr/bin/env bash
# Benchmark body, run inside the KVM host: cold launch against the static KVM floor, isovm's process start, and each phase's share (issue 16).
#
# Both sides run from a copy in tmpfs (the emulated host's root is 9p), interleaved, RUNS
# times (medians). Times are taken with bash's $EPOCHREALTIME, which costs no process: a
# `date` per timestamp would add its own exec to every figure. Twice: with ASLR off (setarch
# -R), the figure that stands for a real host, and as run. QEMU's TCG keys its translated code
# by virtual address, so a binary loaded at a random address (isovm is a static PIE) is
# translated again at every run, some 25 ms that real hardware never pays; the static floor
# program is not a PIE and is spared it. The phases come from the report's phases_ns (from
# main(); main's realtime against the time noted before the exec gives the process start).
set -euo pipefail
B=${BUILD:-build}
RUNS=${BENCH_RUNS:-21}

if [ "${1:-}" = --rows ]; then # one side: a line per run: floor launch version floor-apic phases...
    cd "$2"
    ./floor && ./isovm launch -- ./hello.musl >/dev/null 2>&1 # warm caches once
    # Each timed command after a pause of over a second: KVM releases the in-kernel APIC's
    # static keys a second after the last such vCPU goes (patching kernel text in a worker),
    # and on one CPU that worker's 15-20 ms would land in whichever command runs then. After
    # the pause every launch is an isolated one: it pays the patching at its vCPU's creation,
    # the worst case for isovm (the floor without an APIC pays its own patching every run).
    settle() { sleep "${BENCH_SETTLE:-1.1}"; }
    for ((r = 0; r < RUNS; r++)); do
        settle; t0=${EPOCHREALTIME/./}; ./floor; t1=${EPOCHREALTIME/./}
        f=$((t1 - t0))
        settle; t0=${EPOCHREALTIME/./}; ./floor apic; t1=${EPOCHREALTIME/./}
        fa=$((t1 - t0))
        settle; t0=${EPOCHREALTIME/./}; ./isovm launch -- ./hello.musl >/dev/null 2>&1; t1=${EPOCHREALTIME/./}
        l=$((t1 - t0))
        settle; t0=${EPOCHREALTIME/./}; ./isovm --version >/dev/null; t1=${EPOCHREALTIME/./}
        v=$((t1 - t0))
        settle; t0=${EPOCHREALTIME/./}
        ./isovm launch --report r.json -- ./hello.musl >/dev/null 2>&1 ||
            { echo "bench: launch failed" >&2; exit 1; }
        t1=${EPOCHREALTIME/./}
        echo "$f $l $v $fa $(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["phases_ns"]
t0, t1 = int(sys.argv[2]) * 1000, int(sys.argv[3]) * 1000
print(max(0, p["main_realtime"] - t0), *(p[k] for k in ("launch", "program_read", "vm_created",
      "grants_opened", "elf_loaded", "stack_built", "vcpu_created", "filter_installed",
      "first_entry", "job_end")), t1 - p["main_realtime"])' r.json "$t0" "$t1")"
    done
    exit 0
fi
if [ "${1:-}" = --back-to-back ]; then # RUNS launches in a row, then RUNS floors: a line each
    cd "$2"
    for ((r = 0; r < RUNS; r++)); do
        t0=${EPOCHREALTIME/./}; ./isovm launch -- ./hello.musl >/dev/null 2>&1; t1=${EPOCHREALTIME/./}
        echo "launch $((t1 - t0))"
    done
    for ((r = 0; r < RUNS; r++)); do
        t0=${EPOCHREALTIME/./}; ./floor; t1=${EPOCHREALTIME/./}
        echo "floor $((t1 - t0))"
    done
    exit 0
fi

RAM=$(mktemp -d /tmp/isovm-launch.XXXXXX)
trap 'rm -rf "$RAM"' EXIT
cp "$B"/bench/floor "$B"/isovm "$B"/guest/hello.musl "$RAM"/
off=$(setarch "$(uname -m)" -R "$0" --rows "$RAM")
on=$("$0" --rows "$RAM")
b2b=$(setarch "$(uname -m)" -R "$0" --back-to-back "$RAM")
python3 - "$off" "$on" "$b2b" <<'PY'
import statistics, sys
def rows(text):
    return [list(map(int, l.split())) for l in text.splitlines() if l.strip()]
off, on = rows(sys.argv[1]), rows(sys.argv[2])
b2b = {"launch": [], "floor": []}
for l in sys.argv[3].splitlines():
    k, v = l.split()
    b2b[k].append(int(v))
med = lambda rs, i: statistics.median(r[i] for r in rs)
print("cold launch, hello (medians of %d, process start to exit; ASLR off; each after a pause; see bench/launch.sh):" % len(off))
f, l, v = med(off, 0), med(off, 1), med(off, 2)
print("  launch hello:                      %8.2f ms" % (l / 1e3))
print("  KVM floor, static (VM, vCPU, HLT): %8.2f ms" % (f / 1e3))
print("  isovm --version (process start):   %8.2f ms" % (v / 1e3))
fa = med(off, 3)
print("  KVM floor with an in-kernel APIC:  %8.2f ms (floor apic: like isovm's vCPUs)" % (fa / 1e3))
print("  launch ratio: %.2fx (target <= 1.5x); against the floor with an APIC: %.2fx" % (l / f, l / fa))
fo, lo = med(on, 0), med(on, 1)
print("as run (ASLR on): launch %.2f ms, floor %.2f ms, ratio %.2fx" % (lo / 1e3, fo / 1e3, lo / fo))
bl, bf = statistics.median(b2b["launch"]), statistics.median(b2b["floor"])
print("back to back (%d launches in a row, then %d floors; ASLR off): launch %.2f ms, floor %.2f ms, ratio %.2fx"
      % (len(b2b["launch"]), len(b2b["floor"]), bl / 1e3, bf / 1e3, bl / bf))
names = ["exec to main()", "options, policy", "program read", "VM (KVM, RAM, page tables, firmware)",
         "grants", "ELF", "stack", "vCPU", "seccomp filter", "to the first guest instruction",
         "the job (to its end)"]
ph = [r[4:] for r in off]
ends = [statistics.median(r[i] for r in ph) for i in range(11)]
total = statistics.median(r[0] + r[11] for r in ph)
print("launch phases, with --report (medians; ASLR off): %.2f ms in all" % (total / 1e6))
for i, n in enumerate(names):
    d = ends[i] if i == 0 else ends[i] - (ends[i - 1] if i > 1 else 0)
    print("  %-40s %8.2f ms  %5.1f%%" % (n, d / 1e6, 100 * d / total))
rest = statistics.median(r[11] for r in ph) - statistics.median(r[10] for r in ph)
print("  %-40s %8.2f ms  %5.1f%%" % ("after the job: report, teardown, exit", rest / 1e6, 100 * rest / total))
PY
