#!/usr/bin/env bash
# Runs a command on a host with working /dev/kvm: directly if this host has one, else inside an emulated (QEMU TCG, nested SVM) KVM host.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd -P)
cache=${ISOVM_CACHE:-$repo/.cache/emuhost}

usage() {
  cat <<EOF
usage: $0 [--force-emulated] [--share DIR]... [--timeout SECONDS] [--idle-timeout SECONDS]
          [--memory MB] [--cpus N] [--boost] [--verbose] [--keep] -- CMD [ARGS...]
Runs CMD with a working /dev/kvm. If /dev/kvm works on this host (build/kvm_probe) and
--force-emulated is not given, CMD runs directly. Otherwise it runs inside an emulated KVM host:
QEMU TCG (-cpu max, nested SVM) booting Debian's kernel, with the host's / read-only as its root,
and the repository, each --share DIR and a run folder mounted read-write at their own paths.
  --force-emulated  always use the emulated host
  --share DIR       also share DIR read-write (repeatable; the repository is always shared)
  --timeout SECONDS whole-run limit, default 1800; on expiry: exit 124 and
                    "emuhost: timed out after N s" (+ "emuhost: hung during: <line>")
  --idle-timeout SECONDS  also stop (exit 124) when no progress line came for that long once
                    CMD runs: "emuhost: no progress for N s" (+ "emuhost: hung during: <line>")
  --boost           run QEMU at a higher CPU priority throughout (see cpu_meter.py), for
                    checks that time the emulated host on a busy machine
  --memory MB       guest memory, default 2048
  --cpus N          guest vCPUs, default \$ISOVM_EMUHOST_CPUS or 1
  --verbose         show the guest's kernel console on stderr, and timings
  --keep            keep the run folder (console.log, cmd.sh) under $cache/runs
CMD's stdout and stderr both arrive on stdout; its stdin is /dev/null; cwd is the caller's.
CMD gets ISOVM_EMUHOST=1 (emulated only) and ISOVM_EMUHOST_PROGRESS=<file>: lines appended to
that file name the step in progress, printed if the run times out.
Exit status: CMD's; 124 on timeout; 125 if the emulated host failed before CMD finished.
EOF
}

die() { echo "emuhost: error: $*" >&2; exit 125; }

force=0
verbose=0
keep=0
timeout_s=1800
idle_s=0
boost=0
memory=2048
cpus=${ISOVM_EMUHOST_CPUS:-1}
shares=()
while [ $# -gt 0 ]; do
  case $1 in
    --force-emulated) force=1 ;;
    --share) [ $# -ge 2 ] || die "--share needs a folder"; shares+=("$2"); shift ;;
    --share=*) shares+=("${1#*=}") ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; timeout_s=$2; shift ;;
    --timeout=*) timeout_s=${1#*=} ;;
    --idle-timeout) [ $# -ge 2 ] || die "--idle-timeout needs seconds"; idle_s=$2; shift ;;
    --idle-timeout=*) idle_s=${1#*=} ;;
    --memory) [ $# -ge 2 ] || die "--memory needs MB"; memory=$2; shift ;;
    --memory=*) memory=${1#*=} ;;
    --cpus) [ $# -ge 2 ] || die "--cpus needs a number"; cpus=$2; shift ;;
    --cpus=*) cpus=${1#*=} ;;
    --verbose|-v) verbose=1 ;;
    --keep) keep=1 ;;
    --boost) boost=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "emuhost: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ $# -gt 0 ] || { echo "emuhost: no command given (put it after --)" >&2; usage >&2; exit 2; }
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive whole number of seconds, not '$timeout_s'"
[[ $idle_s =~ ^[0-9]+$ ]] || die "--idle-timeout must be a whole number of seconds, not '$idle_s'"
[[ $memory =~ ^[1-9][0-9]*$ ]] || die "--memory must be a positive number of MB, not '$memory'"
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus must be a positive number, not '$cpus'"
tick_ms=${ISOVM_EMUHOST_TICK_MS:-20}
[[ $tick_ms =~ ^[0-9]+$ ]] || die "ISOVM_EMUHOST_TICK_MS must be a whole number of milliseconds, not '$tick_ms'"

# build/kvm_probe: compiled from kvm_probe.c when missing or older than its source.
probe=$repo/build/kvm_probe
if [ ! -x "$probe" ] || [ "$here/kvm_probe.c" -nt "$probe" ]; then
  command -v cc >/dev/null 2>&1 || die "no C compiler 'cc' to build $probe (run scripts/install-deps.sh)"
  mkdir -p "$repo/build"
  tmp=$(mktemp "$repo/build/.kvm_probe.XXXXXX")
  if ! cc -O2 -Wall -o "$tmp" "$here/kvm_probe.c" 2>"$tmp.log"; then
    cat "$tmp.log" >&2; rm -f "$tmp" "$tmp.log"
    die "cannot compile $here/kvm_probe.c"
  fi
  rm -f "$tmp.log"
  mv -f "$tmp" "$probe"
fi

mkdir -p "$cache/runs"
# Run folders left by runs that were killed outright (cleanup traps did not run): older than a day.
find "$cache/runs" -mindepth 1 -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
rundir=$(mktemp -d "$cache/runs/run.XXXXXX")
rundir=$(cd "$rundir" && pwd -P)
progress=$rundir/progress
: >"$progress"
qpid=
tailpid=
watchpid=
cleanup() {
  local rc=$?
  [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null || true
  [ -n "$watchpid" ] && kill "$watchpid" 2>/dev/null || true
  [ -n "${meterpid:-}" ] && kill "$meterpid" 2>/dev/null || true
  [ -n "${tickpid:-}" ] && kill "$tickpid" 2>/dev/null || true
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true
  [ -f "$rundir/console.log" ] && cp -f "$rundir/console.log" "$cache/last-console.log" 2>/dev/null || true
  if [ "$keep" = 1 ]; then echo "emuhost: run folder kept: $rundir" >&2; else rm -rf "$rundir"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "emuhost: interrupted" >&2; exit 130' INT
trap 'echo "emuhost: terminated" >&2; exit 143' TERM

report_timeout() {
  if [ -f "$rundir/idle-expired" ]; then
    echo "emuhost: no progress for $idle_s s (--idle-timeout); stopped" >&2
  else
    echo "emuhost: timed out after $timeout_s s" >&2
  fi
  if [ "$mode" = emulated ]; then
    echo "emuhost: guest console log: $cache/last-console.log" >&2
    if [ -s "$rundir/hang-summary" ]; then
      cat "$rundir/hang-summary" >&2
      echo "emuhost: QEMU's threads, the guest's registers, backtraces: $cache/last-hang-state.txt" >&2
    fi
  fi
  local last
  last=$(grep -v '^[[:space:]]*$' "$progress" 2>/dev/null | tail -n 1 | tr -d '\r') || true
  [ -n "$last" ] && echo "emuhost: hung during: $last" >&2
  return 0
}

# hang_state PID : what the hung emulated host (QEMU under PID) was doing, from QEMU's monitor and
# gdb (hang_state.py): the details to $cache/last-hang-state.txt, a summary line to
# $rundir/hang-summary for report_timeout
hang_state() {
  [ -n "${meter_py:-}" ] || return 0
  timeout 120 "$meter_py" "$here/hang_state.py" "$1" "$rundir/monitor.sock" "$cache/last-hang-state.txt" \
    >"$rundir/hang-summary" 2>&1 </dev/null || true
}

# watch_idle PID [STARTED-FILE] : with --idle-timeout, kill PID (timeout(1) running CMD or QEMU)
# once the progress file has not grown for idle_s seconds since CMD started (STARTED-FILE
# exists: the guest's boot does not count; a hung boot is --timeout's); the file idle-expired
# says so afterwards.
watch_idle() {
  [ "$idle_s" -gt 0 ] || return 0
  (
    size=-1
    since=$SECONDS
    while kill -0 "$1" 2>/dev/null; do
      now=$(stat -c %s "$progress" 2>/dev/null || echo 0)
      if [ "$now" != "$size" ] || { [ -n "${2:-}" ] && [ ! -e "$2" ]; }; then size=$now; since=$SECONDS; fi
      if [ $((SECONDS - since)) -ge "$idle_s" ]; then
        [ "$mode" = emulated ] && hang_state "$1"
        : >"$rundir/idle-expired"
        kill -TERM "$1" 2>/dev/null
        exit 0
      fi
      sleep 2
    done
  ) &
  watchpid=$!
}
# stopped_for_idle RC : the watchdog killed the run (timeout(1) then exits 124 or 143)
stopped_for_idle() { [ -f "$rundir/idle-expired" ]; }

# ---- direct mode: this host's /dev/kvm works ----
mode=emulated
if [ "$force" = 0 ] && "$probe" -q 2>/dev/null; then
  mode=direct
  [ "$verbose" = 1 ] && echo "emuhost: /dev/kvm works here; running directly" >&2
  export ISOVM_EMUHOST_PROGRESS=$progress
  start=$SECONDS
  set +e
  timeout -k 10 "$timeout_s" "$@" </dev/null 2>&1 &
  qpid=$!
  watch_idle "$qpid"
  wait "$qpid"
  rc=$?
  qpid=
  set -e
  if stopped_for_idle; then report_timeout; exit 124; fi
  if [ "$rc" = 124 ] && [ $((SECONDS - start)) -ge "$timeout_s" ]; then report_timeout; exit 124; fi
  exit "$rc"
fi

# ---- emulated mode ----
"$here/setup.sh" || die "setup.sh failed" # silent when the cache is up to date
command -v qemu-system-x86_64 >/dev/null 2>&1 || die "qemu-system-x86_64 missing (run scripts/install-deps.sh)"

kernel=$cache/vmlinux # PVH-bootable ELF, boots ~3 s faster than the bzImage under TCG
[ -f "$kernel" ] || kernel=$cache/vmlinuz

# Shared folders: the repository, each --share, the run folder; absolute, deduplicated, parents first.
qesc() { printf '%s' "${1//,/,,}"; }
declare -A seen_share
share_list=()
for d in "$repo" "${shares[@]}"; do
  [ -d "$d" ] || die "--share $d: not a folder"
  p=$(cd "$d" && pwd -P)
  [ "$p" != / ] || die "--share /: the host root is already visible (read-only); share a sub-folder"
  [[ $p != *$'\n'* ]] || die "--share: folder names with newlines are not supported"
  [ -n "${seen_share[$p]:-}" ] && continue
  seen_share[$p]=1
  share_list+=("$p")
done

# shellcheck disable=SC2054 # commas belong to QEMU option values
qemu_args=(
  -accel tcg,thread=multi -cpu max -machine pc -m "$memory" -smp "$cpus"
  -nodefaults -no-user-config -display none -no-reboot -name isovm-emuhost,debug-threads=on
  -kernel "$kernel" -initrd "$cache/initramfs.gz"
  -serial "file:$(qesc "$rundir/console.log")"
  -device virtio-serial-pci,id=vser
  -chardev stdio,id=out,signal=off
  -device virtserialport,bus=vser.0,chardev=out,name=emuhost.out
  -fsdev "local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot
  -fsdev "local,id=fsrun,path=$(qesc "$rundir"),security_model=none,multidevs=remap"
  -device virtio-9p-pci,fsdev=fsrun,mount_tag=emurun
  -monitor "unix:$(qesc "$rundir/monitor.sock"),server=on,wait=off"
)
append="console=ttyS0 panic=-1 rdinit=/init mitigations=off tsc=reliable no_timer_check acpi=noirq idle=poll"
[ "$verbose" = 1 ] || append="$append quiet loglevel=3"
append="$append ${ISOVM_EMUHOST_APPEND:-}" # extra kernel parameters, for debugging
qemu_args+=(-append "$append")
# Extra QEMU options for experiments/debugging (word-split), e.g. ISOVM_EMUHOST_QEMU_ARGS="-d guest_errors".
if [ -n "${ISOVM_EMUHOST_QEMU_ARGS:-}" ]; then read -r -a extra <<<"$ISOVM_EMUHOST_QEMU_ARGS"; qemu_args+=("${extra[@]}"); fi

{
  echo "rundir $rundir"
  echo "probe $probe"
} >"$rundir/guest.conf"
# guest.conf "share TAG PATH" lines, sorted by path so that parents are mounted before children.
i=0
share_lines=("share emurun $rundir")
for p in "${share_list[@]}"; do
  tag=s$i
  i=$((i + 1))
  share_lines+=("share $tag $p")
  qemu_args+=(-fsdev "local,id=fs$tag,path=$(qesc "$p"),security_model=none,multidevs=remap"
              -device "virtio-9p-pci,fsdev=fs$tag,mount_tag=$tag")
done
printf '%s\n' "${share_lines[@]}" | LC_ALL=C sort -t' ' -k3 >>"$rundir/guest.conf"

# The host CPU meter (cpu_meter.py): how much of a host core the emulated CPU gets, and a higher
# CPU priority for QEMU while the guest asks for it, for timing cases on a busy machine. Needs
# python3 (the interpreter itself, not a wrapper that PATH finds).
meter_py=
for p in /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
  if [ -n "$p" ] && [ -x "$p" ]; then meter_py=$p; break; fi
done

# The command script, run by the host's bash inside the guest: caller's environment, cwd, argv.
guest_path=$PATH
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  case ":$guest_path:" in *":$d:"*) ;; *) guest_path=$guest_path:$d ;; esac
done
guest_path=$guest_path:/run/emuhost/bin
cwd=$(pwd -P)
(
  umask 077
  {
    echo '#!/bin/bash'
    echo '# generated by tests/emuhost/run.sh'
    while IFS= read -r name; do
      case $name in
        PWD|OLDPWD|SHLVL|_|PATH|ISOVM_EMUHOST|ISOVM_EMUHOST_PROGRESS|ISOVM_EMUHOST_CPU_METER|ISOVM_EMUHOST_BOOST|BASH_*|BASHOPTS|SHELLOPTS) continue ;;
      esac
      [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
      printf 'export %s=%q\n' "$name" "${!name}"
    done < <(compgen -e)
    printf 'export PATH=%q\n' "$guest_path"
    echo 'export ISOVM_EMUHOST=1'
    printf 'export ISOVM_EMUHOST_PROGRESS=%q\n' "$progress"
    if [ -n "$meter_py" ]; then
      printf 'export ISOVM_EMUHOST_CPU_METER=%q\n' "$rundir/host-cpu"
      printf 'export ISOVM_EMUHOST_BOOST=%q\n' "$rundir/boost"
    fi
    printf 'cd -- %q || { echo "emuhost: cannot cd to %q inside the guest" >&2; exit 125; }\n' "$cwd" "$cwd"
    printf 'exec'
    printf ' %q' "$@"
    echo
  } >"$rundir/cmd.sh"
)

if [ "$verbose" = 1 ]; then
  echo "emuhost: qemu-system-x86_64 ${qemu_args[*]}" >&2
  : >"$rundir/console.log"
  tail --pid=$$ -n +1 -F "$rundir/console.log" 2>/dev/null | sed -u 's/\r$//; s/^/console: /' >&2 &
  tailpid=$!
fi

[ "$boost" = 0 ] || echo on >"$rundir/boost" # cpu_meter.py raises QEMU's priority at once

# QEMU's stdin: a FIFO nobody writes to. At EOF (e.g. </dev/null) QEMU would mark the stdio chardev
# disconnected and the guest's writes to the virtio serial port would block forever.
mkfifo "$rundir/stdin"
exec 8<>"$rundir/stdin"
start_ns=$(date +%s%N)
set +e
# QEMU in a session of its own (setsid): where the kernel shares CPU between sessions
# (autogroup), cpu_meter.py can then raise QEMU's priority without raising the caller's.
timeout -k 10 "$timeout_s" setsid qemu-system-x86_64 "${qemu_args[@]}" <&8 8<&- 2>"$rundir/qemu.log" &
qpid=$!
watch_idle "$qpid" "$rundir/boot-seconds" # written by init.sh just before it runs CMD
meterpid=
tickpid=
if [ -n "$meter_py" ]; then
  "$meter_py" "$here/cpu_meter.py" "$qpid" "$rundir/host-cpu" "$rundir/boost" </dev/null >/dev/null 2>&1 &
  meterpid=$!
  # the rescue tick: a byte into QEMU's stdin every ISOVM_EMUHOST_TICK_MS (README.md, "Lost
  # timer interrupts"); 0 turns it off
  if [ "$tick_ms" != 0 ]; then
    "$meter_py" "$here/tick.py" "$qpid" "$rundir/stdin" "$tick_ms" </dev/null >/dev/null 2>&1 &
    tickpid=$!
  fi
fi
wait "$qpid"
qrc=$?
qpid=
set -e
exec 8<&-
end_ns=$(date +%s%N)
if [ -n "$tailpid" ]; then sleep 0.3; kill "$tailpid" 2>/dev/null || true; tailpid=; fi

if [ "$qrc" = 124 ] || stopped_for_idle; then report_timeout; exit 124; fi
if [ "$verbose" = 1 ]; then
  boot=$(cat "$rundir/boot-seconds" 2>/dev/null || echo "?")
  echo "emuhost: guest uptime when the command started: $boot s; whole run (QEMU start to exit): $(( (end_ns - start_ns) / 1000000 )) ms" >&2
fi
if [ -f "$rundir/status" ]; then
  rc=$(cat "$rundir/status")
  [[ $rc =~ ^[0-9]+$ ]] || die "bad exit status '$rc' from the guest"
  exit "$rc"
fi

# The guest stopped without reporting CMD's exit status.
echo "emuhost: error: the emulated host stopped before the command finished (QEMU exit $qrc)" >&2
if [ -s "$rundir/guest-error" ]; then
  cat "$rundir/guest-error" >&2
elif grep -q '^emuhost: error:' "$rundir/console.log" 2>/dev/null; then
  grep '^emuhost: error:' "$rundir/console.log" | tr -d '\r' >&2
else
  echo "emuhost: last lines of the guest console ($cache/last-console.log):" >&2
  tail -n 15 "$rundir/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/  /' >&2 || true
fi
if [ -s "$rundir/qemu.log" ]; then
  echo "emuhost: QEMU said:" >&2
  tail -n 10 "$rundir/qemu.log" | sed 's/^/  /' >&2
fi
exit 125
