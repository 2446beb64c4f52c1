#!/usr/bin/env bash
# One KVM host's share of the integration suite. run-tests.sh boots two emulated hosts side by
# side, each running this script over the same queue folder (shared with both, read-write):
#
#   tests/integration/shard.sh QUEUE HOST BUILD... [-- FILTER...]
#
# For each BUILD in turn (e.g. "build build-san" in one host, "build-san build" in the other),
# runs tests/integration/run.sh with ISOVM=BUILD/isovm, claiming cases from QUEUE/BUILD (a case
# runs in whichever host makes its folder first), so each host starts with its own build and
# then helps with the other's from its last case backwards: both hosts stay busy until the
# queue is empty, and a host that hangs leaves its remaining cases to the other. Per-case times
# go to QUEUE/times.HOST. FILTERs are run.sh's (a part of the suite). Guest jobs, badelf and busybox are those of build/ for every BUILD (the
# guest jobs do not depend on the VMM's sanitizers).
#
# Exit status 1 if a case failed, 2 for bad usage.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

if [ $# -lt 3 ] || [ ! -d "$1" ]; then
    echo "usage: $0 QUEUE-FOLDER HOST-NAME BUILD... [-- FILTER...]" >&2
    exit 2
fi
queue=$1
host=$2
shift 2
builds=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do builds+=("$1"); shift; done
[ $# -gt 0 ] && shift # --; the rest are filters
rc=0
first=1
for b in "${builds[@]}"; do
    mkdir -p "$queue/$b"
    opts=(--claim "$queue/$b" --times "$queue/times.$host")
    [ "$first" = 1 ] || opts+=(--reverse)
    first=0
    echo "--- integration ($b/isovm) in $host"
    ISOVM=$b/isovm ISOVM_TEST_LABEL="$b/isovm, $host" tests/integration/run.sh "${opts[@]}" -- "$@" || rc=1
done
exit $rc
