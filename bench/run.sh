#!/usr/bin/env bash
# Runs the benchmarks in one KVM host boot (emulated where /dev/kvm is not usable) and prints
# medians and ratios: launch vs the KVM floor, getpid round trip vs the raw port-I/O exit.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/isovm build/guest/hello.musl build/bench/floor build/bench/getpid_loop.musl
exec tests/emuhost/run.sh --timeout "${BENCH_TIMEOUT:-1200}" -- bench/inner.sh "$@"
