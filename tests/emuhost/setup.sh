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
Downloads linux-image-amd64 (the versioned package it depends on) and busybox-static with
apt-get download into \$ISOVM_CACHE (default <repo>/.cache/emuhost), extracts them and builds
vmlinuz + initramfs.gz. Does nothing when everything is already there and up to date.
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

say() { [ "$quiet" = 1 ] || echo "emuhost setup: $*" >&2; }
die() { echo "emuhost setup: error: $*" >&2; exit 1; }

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

# Downloads package $1 into $debs unless a .deb of it is already there; apt-get update only on failure.
fetch_deb() {
  local pkg=$1
  if compgen -G "$debs/${pkg}_*.deb" >/dev/null; then return 0; fi
  say "downloading $pkg"
  local log=$cache/apt-download.log
  if ! (cd "$debs" && apt-get download "$pkg") >"$log" 2>&1; then
    say "apt-get download $pkg failed; running apt-get update and retrying"
    apt-get update >>"$log" 2>&1 || die "apt-get update failed (see $log)"
    (cd "$debs" && apt-get download "$pkg") >>"$log" 2>&1 ||
      die "apt-get download $pkg failed (see $log)"
  fi
  compgen -G "$debs/${pkg}_*.deb" >/dev/null || die "no .deb for $pkg after download (see $log)"
}

# Name of the versioned kernel package: reuse a cached one, else ask apt what linux-image-amd64 depends on.
kernel_pkg() {
  local f
  for f in "$debs"/linux-image-[0-9]*-amd64_*.deb; do
    [ -e "$f" ] || continue
    basename "$f" | sed 's/_.*//'
    return 0
  done
  local dep
  dep=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
  if [ -z "$dep" ]; then
    apt-get update >"$cache/apt-update.log" 2>&1 || die "apt-get update failed (see $cache/apt-update.log)"
    dep=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
  fi
  [ -n "$dep" ] || die "cannot resolve linux-image-amd64 to a versioned kernel package with apt-cache depends"
  echo "$dep"
}

# Cheap up-to-date check: outputs exist and were built from the same inputs (scripts + debs).
inputs_stamp() {
  {
    sha256sum "$here/setup.sh" "$here/init.sh"
    ls -l --time-style=+%s "$debs"/*.deb 2>/dev/null | awk '{print $5, $6, $7}'
  } | sha256sum | cut -d' ' -f1
}
if [ "$force" = 0 ] && [ -s "$cache/vmlinuz" ] && [ -s "$cache/initramfs.gz" ] && [ -f "$cache/stamp" ] &&
   compgen -G "$debs/linux-image-[0-9]*-amd64_*.deb" >/dev/null && compgen -G "$debs/busybox-static_*.deb" >/dev/null &&
   [ "$(cat "$cache/stamp")" = "$(inputs_stamp)" ]; then
  exit 0
fi

need_tools
kpkg=$(kernel_pkg)
fetch_deb "$kpkg"
fetch_deb busybox-static
kdeb=$(ls "$debs/${kpkg}"_*.deb | head -n1)
bdeb=$(ls "$debs"/busybox-static_*.deb | head -n1)

# Extract (not install) both packages.
ex=$cache/extract
rm -rf "$ex.tmp"
mkdir -p "$ex.tmp/kernel" "$ex.tmp/busybox"
say "extracting $(basename "$kdeb") and $(basename "$bdeb")"
dpkg-deb -x "$kdeb" "$ex.tmp/kernel" || die "dpkg-deb -x $kdeb failed"
dpkg-deb -x "$bdeb" "$ex.tmp/busybox" || die "dpkg-deb -x $bdeb failed"
rm -rf "$ex"
mv "$ex.tmp" "$ex"

kroot=$ex/kernel
kver=$(ls "$kroot/lib/modules" | head -n1)
[ -n "$kver" ] && [ -d "$kroot/lib/modules/$kver" ] || die "no lib/modules/<version> in $kdeb"
vmlinuz=$kroot/boot/vmlinuz-$kver
config=$kroot/boot/config-$kver
[ -f "$vmlinuz" ] || die "no boot/vmlinuz-$kver in $kdeb"
[ -f "$config" ] || die "no boot/config-$kver in $kdeb"
bb=$ex/busybox/bin/busybox
[ -x "$bb" ] || die "no bin/busybox in $bdeb"

# Options the guest relies on must be built in (=y) or modules (=m).
for opt in DEVTMPFS TMPFS BLK_DEV_INITRD RD_GZIP SERIAL_8250_CONSOLE KVM KVM_AMD 9P_FS NET_9P NET_9P_VIRTIO \
           VIRTIO_PCI VIRTIO_CONSOLE; do
  grep -Eq "^CONFIG_${opt}=[ym]$" "$config" || die "kernel $kver lacks CONFIG_$opt (see $config)"
done

# modules.dep: the package does not ship one (depmod runs at install); busybox depmod makes it.
mdir=$kroot/lib/modules/$kver
if [ ! -f "$mdir/modules.dep" ]; then
  # Compressed modules are decompressed first so that busybox insmod can load them.
  while IFS= read -r -d '' f; do
    case $f in
      *.ko.xz) xz -dq "$f" || die "cannot decompress $f" ;;
      *.ko.zst) zstd -dqf --rm "$f" || die "cannot decompress $f" ;;
      *.ko.gz) gzip -dq "$f" || die "cannot decompress $f" ;;
    esac
  done < <(find "$mdir" \( -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) -print0)
  "$bb" depmod -b "$kroot" "$kver" || die "busybox depmod failed for $kver"
fi
[ -f "$mdir/modules.dep" ] || die "no modules.dep for $kver"

# Load order: depth-first over modules.dep so every module follows its dependencies.
declare -A dep_of path_of seen
while IFS= read -r line; do
  mod=${line%%:*}
  name=$(basename "$mod" .ko)
  name=${name//-/_}
  path_of[$name]=$mod
  dep_of[$name]=${line#*:}
done < "$mdir/modules.dep"
order=()
visit() {
  local n=${1//-/_} d dn
  [ -n "${seen[$n]:-}" ] && return 0
  seen[$n]=1
  [ -n "${path_of[$n]:-}" ] || return 1
  for d in ${dep_of[$n]}; do
    dn=$(basename "$d" .ko)
    visit "$dn" || die "module $dn (needed by $n) not in modules.dep"
  done
  order+=("$n")
}
for m in "${want_modules[@]}"; do
  mm=${m//-/_}
  if [ -z "${path_of[$mm]:-}" ]; then
    # Built into the kernel? Then there is nothing to load.
    grep -q "/${m}.ko\$\|/${mm}.ko\$" "$mdir/modules.builtin" && continue
    die "module $m is neither in modules.dep nor built in (kernel $kver)"
  fi
  visit "$mm"
done

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
rm -f "$cache/vmlinux"
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1) || true
if [ -n "$off" ] && command -v xz >/dev/null 2>&1; then
  tail -c +$((off + 1)) "$vmlinuz" | xz -dcq >"$cache/vmlinux.tmp" 2>/dev/null || true
  # xz complains about the data after the stream; what matters is a complete ELF with the PVH note.
  if [ "$(head -c 4 "$cache/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] &&
     readelf -n "$cache/vmlinux.tmp" 2>/dev/null | grep -q '(0x00000012)'; then # XEN_ELFNOTE_PHYS32_ENTRY
    mv "$cache/vmlinux.tmp" "$cache/vmlinux"
  else
    say "note: cannot extract a PVH vmlinux from vmlinuz; booting the slower bzImage"
  fi
  rm -f "$cache/vmlinux.tmp"
fi
mv "$cache/initramfs.gz.tmp" "$cache/initramfs.gz"
echo "$kver" >"$cache/kernel-version"
inputs_stamp >"$cache/stamp"
rm -rf "$ex" # only needed while building; a rebuild extracts the cached .debs again
say "ready: $cache/vmlinuz, $cache/initramfs.gz ($(du -h "$cache/initramfs.gz" | cut -f1))"
