#!/usr/bin/env bash
# Runs the benchmarks in one KVM host boot (emulated where /dev/kvm is not usable) and prints
# medians and ratios: launch vs the KVM floor, getpid round trip vs the raw port-I/O exit, and the
# resource-limit benchmarks of bench/limits.sh (BENCH_LIMITS=0 leaves them out) and the
# capability benchmarks of bench/caps.sh (BENCH_CAPS=0 leaves them out).
set -euo pipefail
cd "$(dirname "$0")/.."
# BUILD: build directory (default build); one outside the repository is shared with the KVM host
B=${BUILD:-build}
make -s BUILD="$B" "$B/isovm" "$B/guest/hello.musl" "$B/bench/floor" "$B/bench/getpid_loop.musl" \
    "$B/guest/spin.musl" "$B/guest/iowrite.musl" "$B/bench/read_loop.musl" \
    "$B/bench/net_rr.musl"
share=()
case $(realpath -m "$B") in "$PWD"/*) ;; *) share=(--share "$(realpath -m "$B")") ;; esac
BUILD=$B exec tests/emuhost/run.sh "${share[@]}" --timeout "${BENCH_TIMEOUT:-1200}" -- bench/inner.sh "$@"
