#!/usr/bin/env bash
# End-to-end check of tests/emuhost/run.sh --force-emulated (4 boots): status, output, shares, nested /dev/kvm, the rescue tick, timeouts and the hang state.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd -P)
run=$here/run.sh
pass=0
fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

work=$(mktemp -d "${TMPDIR:-/tmp}/emuhost-selftest.XXXXXX")
work=$(cd "$work" && pwd -P)
trap 'rm -rf "$work"' EXIT

"$here/setup.sh" || { echo "FAIL setup"; echo "0 passed, 1 failed"; exit 1; }

# Boot 1: output (stdout+stderr, no \r, no kernel noise), cwd, env, a write into a --share,
# /dev/kvm inside (build/kvm_probe, dynamically linked), exit status 3 passes through.
mkdir -p "$work/share"
out=$work/boot1.out
set +e
(cd "$work/share" && "$run" --force-emulated --share "$work/share" -- bash -c '
  echo "line one"
  echo "to stderr" >&2
  echo "cwd=$(pwd -P) emuhost=${ISOVM_EMUHOST:-unset}"
  echo "written in the guest" > result.txt
  TIMEFORMAT="kvm_probe took %R s"
  if time "$0" -q; then echo "kvm ok"; else echo "kvm failed: $?"; fi
  dev=$(basename "$(readlink -f /sys/bus/virtio/drivers/virtio_console/virtio*)")
  count() { awk -v d="$dev-" "index(\$0, d) { s += \$2 } END { print s + 0 }" /proc/interrupts; }
  a=$(count); sleep 1; b=$(count)
  echo "serial port interrupts in 1 s: $((b - a))"
  exit 3' "$repo/build/kvm_probe") >"$out" 2>"$work/boot1.err"
rc=$?
set -e
check "exit_status_3" [ "$rc" = 3 ]
check "no_carriage_returns" bash -c '! grep -q $'"'"'\r'"'"' "$1"' _ "$out"
check "stdout_and_stderr" bash -c 'grep -qx "line one" "$1" && grep -qx "to stderr" "$1"' _ "$out"
check "cwd_and_env" grep -qx "cwd=$work/share emuhost=1" "$out"
check "no_kernel_noise" bash -c '! grep -vxE "line one|to stderr|cwd=.*|kvm ok|kvm_probe took [0-9.]+ s|serial port interrupts in 1 s: [0-9]+" "$1"' _ "$out"
# the rescue tick (README.md, "Lost timer interrupts"): a byte, so an interrupt, every 20 ms
ticks=$(sed -n 's/^serial port interrupts in 1 s: //p' "$out")
check "rescue_tick_interrupts" [ "${ticks:-0}" -ge 20 ]
echo "    rescue tick: ${ticks:-?} serial port interrupts in 1 s (every 20 ms: 50)"
check "share_write_back" grep -qx "written in the guest" "$work/share/result.txt"
check "nested_kvm_works" grep -qx "kvm ok" "$out"
if [ "$fail" -gt 0 ]; then
  echo "--- boot 1 output:"; sed 's/^/  /' "$out"
  echo "--- boot 1 stderr:"; tail -n 20 "$work/boot1.err" | sed 's/^/  /'
fi
grep -h 'kvm_probe took' "$out" || true

# Boot 2: exit status 0 from a plain sh command with arguments that need quoting.
set +e
out2=$("$run" --force-emulated -- sh -c 'printf "%s|" "$@"; echo' sh 'a b' "c'd" '$HOME' 2>"$work/boot2.err")
rc=$?
set -e
check "exit_status_0" [ "$rc" = 0 ]
check "argv_quoting" [ "$out2" = "a b|c'd|\$HOME|" ]
[ "$rc" = 0 ] || tail -n 20 "$work/boot2.err" | sed 's/^/  /'

# Boot 3: whole-run timeout while the command sleeps; names the last progress line. A progress
# line every 2 s keeps --idle-timeout 10 from firing first. Boots 3 and 4 time the emulated host:
# --boost, so that a busy machine does not slow its boot past the limits.
set +e
"$run" --force-emulated --boost --timeout 25 --idle-timeout 10 -- bash -c \
  'echo "step 1: warming up" >>"$ISOVM_EMUHOST_PROGRESS"; for ((i = 0; ; i++)); do echo "step 2: sleeping forever ($i)" >>"$ISOVM_EMUHOST_PROGRESS"; sleep 2; done' \
  >"$work/boot3.out" 2>"$work/boot3.err"
rc=$?
set -e
check "timeout_exit_124" [ "$rc" = 124 ]
check "timeout_message" grep -qx "emuhost: timed out after 25 s" "$work/boot3.err"
check "timeout_progress_line" grep -qx "emuhost: hung during: step 2: sleeping forever ([0-9]*)" "$work/boot3.err"
[ "$rc" = 124 ] || tail -n 20 "$work/boot3.err" | sed 's/^/  /'

# Boot 4: --idle-timeout: no progress line for 8 s once the command runs stops the run long
# before --timeout.
set +e
"$run" --force-emulated --boost --timeout 300 --idle-timeout 8 -- sh -c \
  'echo "step 1: about to hang" >>"$ISOVM_EMUHOST_PROGRESS"; sleep 600' \
  >"$work/boot4.out" 2>"$work/boot4.err"
rc=$?
set -e
check "idle_timeout_exit_124" [ "$rc" = 124 ]
check "idle_timeout_message" grep -qx "emuhost: no progress for 8 s (--idle-timeout); stopped" "$work/boot4.err"
check "idle_timeout_progress_line" grep -qx "emuhost: hung during: step 1: about to hang" "$work/boot4.err"
# what the hung host was doing (hang_state.py): the vCPU thread, the registers, the local APIC
check "idle_timeout_hang_state" bash -c 'l=$(grep "^emuhost: at the hang: CPU 0/TCG " "$1") &&
  [[ $l == *"LAPIC IRR "* ]] && [[ $l =~ RIP\ [0-9a-f]+\(CPL[0-3]\) ]]' _ "$work/boot4.err"
[ "$rc" = 124 ] || tail -n 20 "$work/boot4.err" | sed 's/^/  /'

# Direct mode costs no boot; only meaningful where this host's /dev/kvm works.
if "$repo/build/kvm_probe" -q 2>/dev/null; then
  set +e
  out4=$("$run" -- sh -c 'echo "${ISOVM_EMUHOST:-direct}"; exit 5' 2>&1)
  rc=$?
  set -e
  check "direct_mode" [ "$rc:$out4" = "5:direct" ]
else
  echo "SKIP direct_mode (no usable /dev/kvm on this host)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
