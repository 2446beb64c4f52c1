#!/usr/bin/env bash
# Installs the Debian packages isovm needs to build, test and run its emulated KVM host, then
# fetches the Linux tier's guest kernel into its cache (scripts/linux-kernel.sh).
#   scripts/install-deps.sh [--no-kernel]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernel=1
case ${1:-} in
  "") ;;
  --no-kernel) kernel=0 ;;
  -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-deps: unknown argument: $1" >&2; exit 2 ;;
esac
# libslirp-dev: the Linux tier's network (vmm/linux/lnet*.c)
# mmdebstrap, uidmap (its --mode=unshare), squashfs-tools, e2fsprogs, erofs-utils: isovm image
# prometheus: promtool and a real server scraping `isovm quota serve` (tests/quota)
# golang-go, bash-static: real programs of the hypercall tier's process cases (a Go program built
# with CGO_ENABLED=0, bash scripts: tests/integration/proc_cases.sh)
pkgs=(build-essential pkg-config libjansson-dev libseccomp-dev libsqlite3-dev libcmocka-dev
      libfdt-dev musl-tools qemu-system-x86 busybox-static cpio xz-utils zstd valgrind
      linux-libc-dev python3 acpica-tools clang libclang-rt-14-dev
      mmdebstrap uidmap squashfs-tools e2fsprogs erofs-utils libslirp-dev prometheus
      golang-go bash-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# The guest kernel of the Linux tier (docs/linux-tier.md): downloaded once, then a no-op.
if [ "$kernel" = 1 ]; then
  "$here/linux-kernel.sh" --quiet >/dev/null
fi
