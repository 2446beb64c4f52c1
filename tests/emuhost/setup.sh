#!/usr/bin/env bash
# Builds (idempotently, cached) the emulated KVM host's kernel and initramfs from Debian packages.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${ISOVM_CACHE:-$repo/.cache/emuhost}
force=0
quiet=0

usage() {
  cat <<EOF
usage: $0 [--force] [--quiet]
Downloads linux-image-amd64 (the versioned package it depends on) with
scripts/linux-kernel.sh --download-only (the Linux tier's kernel cache: one download for both)
and busybox-static with apt-get download into \$ISOVM_CACHE (default <repo>/.cache/emuhost),
extracts them and builds vmlinuz + initramfs.gz. Does nothing when everything is already there
and up to date.
  --force   rebuild the initramfs (downloads are kept)
  --quiet   print nothing unless something goes wrong
EOF
}
while [ $# -gt 0 ]; do
  case $1 in
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/debian-kernel.sh
. "$repo/scripts/lib/debian-kernel.sh"
DK_WHO="emuhost setup"
DK_QUIET=$quiet
say() { dk_say "$@"; }
die() { dk_die "$@"; }

# Modules the guest loads (their dependencies are added from modules.dep).
# kvm-amd pulls kvm, irqbypass and ccp; 9p pulls 9pnet, netfs and fscache; virtio_console
# carries the command's output; virtio_pci is the transport of all virtio devices.
want_modules=(virtio_pci 9pnet_virtio 9p virtio_console kvm-amd)

mkdir -p "$cache"
exec 9>"$cache/.setup.lock"
flock 9 || die "cannot lock $cache/.setup.lock"

# Host tools we need (installed by scripts/install-deps.sh).
need_tools() {
  local missing=()
  for t in apt-get apt-cache dpkg-deb cpio gzip xz readelf qemu-system-x86_64 flock; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "missing host tools: ${missing[*]}; running scripts/install-deps.sh"
    "$repo/scripts/install-deps.sh" >&2 || die "scripts/install-deps.sh failed"
    for t in "${missing[@]}"; do
      command -v "$t" >/dev/null 2>&1 || die "host tool '$t' still missing after install-deps.sh"
    done
  fi
}

debs=$cache/debs
mkdir -p "$debs"
# The kernel package is in the Linux tier's kernel cache (scripts/linux-kernel.sh); its path is
# kept in $cache/kernel-deb so that the up-to-date check needs neither apt nor that script.
kdeb=$(cat "$cache/kernel-deb" 2>/dev/null || true)

# Cheap up-to-date check: outputs exist and were built from the same inputs (scripts + debs).
inputs_stamp() {
  {
    cat "$here/setup.sh" "$here/init.sh" "$repo/scripts/lib/debian-kernel.sh" | sha256sum # contents, not paths
    ls -l --time-style=+%s "$debs"/*.deb "$kdeb" 2>/dev/null | awk '{print $5, $6, $7}'
  } | sha256sum | cut -d' ' -f1
}
if [ "$force" = 0 ] && [ -s "$cache/vmlinuz" ] && [ -s "$cache/initramfs.gz" ] && [ -f "$cache/stamp" ] &&
   [ -n "$kdeb" ] && [ -f "$kdeb" ] && compgen -G "$debs/busybox-static_*.deb" >/dev/null &&
   [ "$(cat "$cache/stamp")" = "$(inputs_stamp)" ]; then
  exit 0
fi

need_tools
q=(); [ "$quiet" = 1 ] && q=(--quiet)
kdeb=$("$repo/scripts/linux-kernel.sh" --download-only "${q[@]}") || die "scripts/linux-kernel.sh --download-only failed"
[ -f "$kdeb" ] || die "scripts/linux-kernel.sh --download-only printed no package ($kdeb)"
echo "$kdeb" >"$cache/kernel-deb"
dk_fetch_deb "$debs" busybox-static
bdeb=$(ls "$debs"/busybox-static_*.deb | head -n1)

# Extract (not install) both packages.
ex=$cache/extract
rm -rf "$ex"
mkdir -p "$ex/busybox"
say "extracting $(basename "$kdeb") and $(basename "$bdeb")"
kver=$(dk_unpack_kernel "$kdeb" "$ex/kernel") || exit 1
dpkg-deb -x "$bdeb" "$ex/busybox" || die "dpkg-deb -x $bdeb failed"
kroot=$ex/kernel
vmlinuz=$kroot/boot/vmlinuz-$kver
config=$kroot/boot/config-$kver
bb=$ex/busybox/bin/busybox
[ -x "$bb" ] || die "no bin/busybox in $bdeb"

# Options the guest relies on must be built in (=y) or modules (=m).
dk_check_config "$config" DEVTMPFS TMPFS BLK_DEV_INITRD RD_GZIP SERIAL_8250_CONSOLE KVM KVM_AMD 9P_FS NET_9P \
  NET_9P_VIRTIO VIRTIO_PCI VIRTIO_CONSOLE

# modules.dep (busybox depmod), then the load order: every module after its dependencies.
mdir=$kroot/lib/modules/$kver
dk_modules_dep "$kroot" "$kver" "$bb" depmod
order_lines=$(dk_module_order "$mdir" "${want_modules[@]}") || exit 1
declare -A path_of
order=()
while read -r n p; do
  order+=("$n")
  path_of[$n]=$p
done <<<"$order_lines"

# Assemble the initramfs.
say "building initramfs for kernel $kver (modules: ${order[*]})"
ir=$cache/initramfs.tmp
rm -rf "$ir"
mkdir -p "$ir"/{bin,dev,proc,sys,tmp,newroot,emurun,modules}
cp "$bb" "$ir/bin/busybox"
for a in $("$bb" --list); do
  [ "$a" = busybox ] || ln -s busybox "$ir/bin/$a"
done
i=0
: >"$ir/modules/order"
for n in "${order[@]}"; do
  i=$((i + 1))
  f=$(printf '%02d-%s.ko' "$i" "$n")
  cp "$mdir/${path_of[$n]}" "$ir/modules/$f"
  echo "$f" >>"$ir/modules/order"
done
install -m 0755 "$here/init.sh" "$ir/init"
echo "$kver" >"$ir/kernel-version"
(cd "$ir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$cache/initramfs.gz.tmp" ||
  die "cpio/gzip of the initramfs failed"
rm -rf "$ir"
cp "$vmlinuz" "$cache/vmlinuz.tmp"
mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
# vmlinux: the uncompressed ELF inside vmlinuz. With its PVH entry note QEMU boots it directly,
# skipping firmware real-mode setup and the xz decompressor (about 3 s under TCG).
dk_extract_vmlinux "$vmlinuz" "$cache/vmlinux" ||
  say "note: cannot extract a PVH vmlinux from vmlinuz; booting the slower bzImage"
mv "$cache/initramfs.gz.tmp" "$cache/initramfs.gz"
echo "$kver" >"$cache/kernel-version"
inputs_stamp >"$cache/stamp"
rm -rf "$ex" # only needed while building; a rebuild extracts the cached .debs again
say "ready: $cache/vmlinuz, $cache/initramfs.gz ($(du -h "$cache/initramfs.gz" | cut -f1))"
