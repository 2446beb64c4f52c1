#!/usr/bin/env bash
# Jailer benchmark, run inside the KVM host by bench/inner.sh (or on its own there, as root:
# BUILD=build bench/jail.sh). Launch of the hello job through `isovm jail` (namespaces, jail
# tmpfs and bind mounts, cgroup v2, privilege drop, cleanup) against a plain `isovm launch` of the
# same job, interleaved in the same boot, JAIL_RUNS (default 21) runs each: medians and the ratio
# (target: the jail adds <= 20%). Figures in docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
RUNS=${JAIL_RUNS:-21}
ISOVM=${ISOVM:-$B/isovm}
JOB=$B/guest/hello.musl
TMP=$(mktemp -d "${TMPDIR:-/tmp}/isovm-jbench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
if [ "$(id -u)" != 0 ]; then echo "jail bench: n/a (needs root)"; exit 0; fi
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/self/mounts || mount -t cgroup2 none /sys/fs/cgroup ||
    { echo "jail bench: n/a (no cgroup2)"; exit 0; }

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() { # CMD...: wall ns of one run
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null 2>&1 || { echo "jail bench: $* failed" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0))
}

jail() { "$ISOVM" jail --id "bench-$1" --uid 4242 --gid 4343 --chroot-base "$TMP" -- launch -- "$JOB"; }
one "$ISOVM" launch -- "$JOB" >/dev/null; one jail warm >/dev/null # warm caches
plain=(); jailed=()
for ((r = 0; r < RUNS; r++)); do
    plain+=("$(one "$ISOVM" launch -- "$JOB")")
    jailed+=("$(one jail "$r")")
done
p=$(printf '%s\n' "${plain[@]}" | median)
j=$(printf '%s\n' "${jailed[@]}" | median)
awk -v p="$p" -v j="$j" -v n="$RUNS" 'BEGIN {
    printf "jail: runs %d each, interleaved\n", n
    printf "launch hello, plain:          median %.2f ms\n", p / 1e6
    printf "launch hello, through jail:   median %.2f ms\n", j / 1e6
    printf "jail ratio: %.2fx, +%.2f ms (target <= 1.2x)\n", j / p, (j - p) / 1e6
}'
