#!/usr/bin/env bash
# Fresh machine to first job: installs dependencies, builds isovm, and runs a hello job in a
# microVM (directly where /dev/kvm works, otherwise inside the emulated KVM host).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j"$(nproc)" all >/dev/null
exec tests/emuhost/run.sh -- build/isovm launch -- build/guest/hello.musl "$@"
