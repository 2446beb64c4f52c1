#!/usr/bin/env bash
# Installs the Debian packages isovm needs to build, test and run its emulated KVM host.
set -euo pipefail
pkgs=(build-essential pkg-config libjansson-dev libseccomp-dev libsqlite3-dev libcmocka-dev
      libfdt-dev musl-tools qemu-system-x86 busybox-static cpio xz-utils zstd valgrind
      linux-libc-dev python3 acpica-tools clang libclang-rt-14-dev)
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
