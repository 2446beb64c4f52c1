#!/usr/bin/env bash
# The Linux tier's guest kernel: Debian's stock linux-image-amd64 (apt-get download of the
# versioned package it depends on), with the ELF vmlinux for the PVH entry and the modules isovm's
# init loads, in their load order, in a cache directory. Idempotent; quick when cached (no apt,
# no network). Prints the kernel's directory on stdout.
#
#   scripts/linux-kernel.sh [--cache DIR] [--force] [--quiet] [--download-only]
#
#   --force          extract and build again (the download is kept)
#   --quiet          say nothing but errors
#   --download-only  only make sure the package is in DIR/debs and print its path: how
#                    tests/emuhost/setup.sh shares the download (same kernel, one copy)
#
# The directory (docs/linux-tier.md, "The kernel and its modules"):
#   DIR/VERSION/vmlinuz        the bzImage
#   DIR/VERSION/vmlinux        the ELF inside it, with its PVH entry note (what isovm boots)
#   DIR/VERSION/config         the kernel's configuration
#   DIR/VERSION/modules/       NAME.ko and "order": /lib/modules/ of the initramfs (init/abi.h)
#   DIR/VERSION/modules.cpio   the same as a newc cpio (lib/modules/...), owned by root: the VMM
#                              appends it to its own cpio of /init
#   DIR/current -> VERSION
#   DIR/debs/                  the downloaded package
# DIR: --cache, else $ISOVM_KERNEL_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/isovm/kernel.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${ISOVM_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isovm/kernel}
force=0
quiet=0
download_only=0

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}
while [ $# -gt 0 ]; do
  case $1 in
    --cache) [ $# -ge 2 ] || { echo "linux-kernel.sh: --cache needs a directory" >&2; exit 2; }
             cache=$2; shift ;;
    --cache=*) cache=${1#--cache=} ;;
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    --download-only) download_only=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "linux-kernel.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/debian-kernel.sh
. "$repo/scripts/lib/debian-kernel.sh"
DK_WHO="linux-kernel"
DK_QUIET=$quiet

# What the init loads (init/abi.h): the virtio-mmio transport and the disk and console devices,
# the root's file systems, overlayfs; the grants' 9P file system over virtio (9p, 9pnet_virtio)
# and virtio-net, each only for a job that has grants or endpoints. ext4 checks its metadata with the crypto API's crc32c,
# which it does not depend on by symbol (a softdep): crc32c_generic is named. Their
# dependencies (virtio, virtio_ring, jbd2, mbcache, crc16, libcrc32c, ...) come from modules.dep.
want_modules=(virtio_ring virtio virtio_mmio virtio_blk virtio_console crc32c_generic squashfs ext4 erofs overlay
              9pnet_virtio 9p virtio_net)
# The file system types each of those serves (job file FSTYPEs, and "overlay"): the order file
# tags a module with them, and the init loads a tagged module only when the job file names one
# of its tags (init/abi.h). A module some untagged one needs is loaded always.
declare -A serves=([crc32c_generic]="ext4 ext3 ext2 erofs" [squashfs]=squashfs [ext4]="ext4 ext3 ext2"
                   [erofs]=erofs [overlay]=overlay [9pnet_virtio]=9p [9p]=9p [virtio_net]=net)
# What the init and the VMM rely on in the kernel itself.
want_config=(PVH KVM_GUEST ACPI DEVTMPFS TMPFS BLK_DEV_INITRD UNIX98_PTYS CGROUPS CGROUP_PIDS MEMCG
             VIRTIO_MMIO VIRTIO_BLK VIRTIO_CONSOLE SQUASHFS SQUASHFS_ZSTD EXT4_FS EROFS_FS OVERLAY_FS
             NET_9P NET_9P_VIRTIO 9P_FS VIRTIO_NET)

mkdir -p "$cache/debs"
exec 9>"$cache/.lock"
flock 9 || dk_die "cannot lock $cache/.lock"

# Up to date: the current version's files are there, from the same scripts and package. (The
# scripts' contents, not their paths: every checkout of the same scripts shares the cache.)
inputs_stamp() { # inputs_stamp DEB
  { cat "$here/linux-kernel.sh" "$here/lib/debian-kernel.sh" | sha256sum; basename "$1"; stat -c %s "$1"; } |
    sha256sum | cut -d' ' -f1
}
if [ "$download_only" = 1 ]; then
  for t in apt-get apt-cache; do
    command -v "$t" >/dev/null 2>&1 || dk_die "missing $t (this needs a Debian host with apt)"
  done
  kpkg=$(dk_kernel_pkg "$cache/debs") || exit 1
  dk_fetch_deb "$cache/debs" "$kpkg"
  ls "$cache/debs/${kpkg}"_*.deb | head -n1
  exit 0
fi
if [ "$force" = 0 ] && [ -L "$cache/current" ]; then
  cur=$cache/$(readlink "$cache/current")
  deb=$(ls "$cache/debs"/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | head -n1 || true)
  if [ -n "$deb" ] && [ -s "$cur/vmlinux" ] && [ -s "$cur/modules/order" ] && [ -s "$cur/modules.cpio" ] &&
     [ "$(cat "$cur/stamp" 2>/dev/null)" = "$(inputs_stamp "$deb")" ]; then
    echo "$cur"
    exit 0
  fi
fi

for t in apt-get apt-cache dpkg-deb cpio xz readelf flock; do
  command -v "$t" >/dev/null 2>&1 || dk_die "missing $t (scripts/install-deps.sh installs it)"
done
if command -v depmod >/dev/null 2>&1; then depmod=(depmod)
elif command -v busybox >/dev/null 2>&1; then depmod=(busybox depmod)
else dk_die "missing depmod (Debian package kmod) or busybox (busybox-static)"
fi

kpkg=$(dk_kernel_pkg "$cache/debs") || exit 1
dk_fetch_deb "$cache/debs" "$kpkg"
deb=$(ls "$cache/debs/${kpkg}"_*.deb | head -n1)
work=$cache/.work
rm -rf "$work"
dk_say "extracting $(basename "$deb")"
kver=$(dk_unpack_kernel "$deb" "$work/pkg") || exit 1
config=$work/pkg/boot/config-$kver
dk_check_config "$config" "${want_config[@]}"
mdir=$work/pkg/lib/modules/$kver
dk_modules_dep "$work/pkg" "$kver" "${depmod[@]}"
order=$(dk_module_order "$mdir" "${want_modules[@]}") || exit 1
# each module's tags: the union of what the wanted modules that need it serve; "" when one of
# them is untagged (always loaded)
declare -A tags always
for w in "${want_modules[@]}"; do
  while read -r name _; do
    if [ -z "${serves[$w]:-}" ]; then always[$name]=1
    else tags[$name]="${tags[$name]:-} ${serves[$w]}"
    fi
  done < <(dk_module_order "$mdir" "$w")
done

out=$work/out
mkdir -p "$out/modules"
while read -r name path; do
  cp "$mdir/$path" "$out/modules/$name.ko"
  line="$name.ko"
  if [ -z "${always[$name]:-}" ] && [ -n "${tags[$name]:-}" ]; then
    line="$line $(tr ' ' '\n' <<<"${tags[$name]}" | awk 'NF && !seen[$0]++' | tr '\n' ' ' | sed 's/ $//')"
  fi
  echo "$line" >>"$out/modules/order"
done <<<"$order"
cp "$work/pkg/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$config" "$out/config"
dk_extract_vmlinux "$out/vmlinuz" "$out/vmlinux" ||
  dk_die "no ELF vmlinux with a PVH entry note inside $(basename "$deb")'s vmlinuz"
# about half of vmlinux is zeros (.bss, padding): holes, which isovm does not read (guest RAM
# starts zeroed); a file system without hole punching keeps them as data, which works the same
fallocate --dig-holes "$out/vmlinux" 2>/dev/null || true
mkdir -p "$work/cpio/lib"
cp -r "$out/modules" "$work/cpio/lib/modules"
(cd "$work/cpio" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
   cpio --null -o -H newc --owner=0:0 --reproducible --quiet) >"$out/modules.cpio" ||
  dk_die "cpio of the modules failed"
inputs_stamp "$deb" >"$out/stamp"
rm -rf "${cache:?}/$kver"
mv "$out" "$cache/$kver"
ln -sfn "$kver" "$cache/current"
rm -rf "$work"
dk_say "ready: $cache/$kver (modules, with the file systems they serve: $(tr '\n' ';' <"$cache/$kver/modules/order"))"
echo "$cache/$kver"
