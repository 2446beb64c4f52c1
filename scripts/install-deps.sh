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
pkgs=(build-essential pkg-config libjansson-dev libseccomp-dev libsqlite3-dev libcmocka-dev
      libfdt-dev musl-tools qemu-system-x86 busybox-static cpio xz-utils zstd valgrind
      linux-libc-dev python3 acpica-tools clang libclang-rt-14-dev
      mmdebstrap uidmap squashfs-tools e2fsprogs erofs-utils libslirp-dev)
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
# QEMU 10 or later for the emulated KVM host (tests/emuhost/README.md, "QEMU 10"): bookworm's
# QEMU 7.2 loses the emulated host's local-APIC timer interrupts now and then under TCG with nested
# SVM, and the host stands still for good (heavy network cases did it about one run in three).
# On bookworm it comes from Debian's bookworm-backports, added as an apt source of its own.
qemu_major() {
  qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/^QEMU emulator version \([0-9]*\)\..*/\1/p'
}
QEMU_MIN_MAJOR=10
major=$(qemu_major)
if [ -z "$major" ] || [ "$major" -lt "$QEMU_MIN_MAJOR" ]; then
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  if [ "$codename" = bookworm ]; then
    echo "install-deps: installing QEMU $QEMU_MIN_MAJOR from bookworm-backports (bookworm's ${major:-none} hangs the emulated KVM host)" >&2
    src=/etc/apt/sources.list.d/isovm-bookworm-backports.sources
    if [ ! -f "$src" ]; then
      printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
        'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' | $SUDO tee "$src" >/dev/null
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      -t bookworm-backports qemu-system-x86 >&2
  fi
  major=$(qemu_major)
  if [ -z "$major" ] || [ "$major" -lt "$QEMU_MIN_MAJOR" ]; then
    echo "install-deps: warning: qemu-system-x86_64 is version ${major:-unknown}; the emulated KVM host needs $QEMU_MIN_MAJOR or later (older ones hang it now and then)" >&2
  fi
fi
# The guest kernel of the Linux tier (docs/linux-tier.md): downloaded once, then a no-op.
if [ "$kernel" = 1 ]; then
  "$here/linux-kernel.sh" --quiet >/dev/null
fi
