# Debian's stock kernel for isovm's scripts (sourced, not run): download the linux-image package
# with apt-get, extract it, its modules.dep and a module load order, and the ELF vmlinux inside
# vmlinuz. Used by tests/emuhost/setup.sh (the emulated KVM host) and scripts/linux-kernel.sh (the
# Linux tier's guest kernel).
#
# The caller sets DK_WHO (the prefix of messages) and DK_QUIET (1: say nothing); errors end the
# script (dk_die).

dk_say() { [ "${DK_QUIET:-0}" = 1 ] || echo "$DK_WHO: $*" >&2; }
dk_die() { echo "$DK_WHO: error: $*" >&2; exit 1; }

# dk_fetch_deb DEBS PKG: downloads PKG into DEBS unless a .deb of it is already there; apt-get
# update only on failure. The download lands in DEBS/.partial first and is moved in when complete,
# so an interrupted one is never taken for a cached package. Its log: DEBS/apt-download.log.
dk_fetch_deb() {
  local debs=$1 pkg=$2 log=$1/apt-download.log part=$1/.partial f
  if compgen -G "$debs/${pkg}_*.deb" >/dev/null; then return 0; fi
  dk_say "downloading $pkg"
  rm -rf "$part"
  mkdir -p "$part"
  if ! (cd "$part" && apt-get download "$pkg") >"$log" 2>&1; then
    dk_say "apt-get download $pkg failed; running apt-get update and retrying"
    apt-get update >>"$log" 2>&1 || dk_die "apt-get update failed (see $log)"
    (cd "$part" && apt-get download "$pkg") >>"$log" 2>&1 ||
      dk_die "apt-get download $pkg failed (see $log)"
  fi
  for f in "$part/${pkg}"_*.deb; do
    [ -e "$f" ] && mv "$f" "$debs/"
  done
  rm -rf "$part"
  compgen -G "$debs/${pkg}_*.deb" >/dev/null || dk_die "no .deb for $pkg after download (see $log)"
}

# dk_kernel_pkg DEBS: the versioned kernel package: a cached one, else what linux-image-amd64
# depends on (apt-cache; apt-get update once when apt knows nothing of it).
dk_kernel_pkg() {
  local debs=$1 f dep
  for f in "$debs"/linux-image-[0-9]*-amd64_*.deb; do
    [ -e "$f" ] || continue
    basename "$f" | sed 's/_.*//'
    return 0
  done
  dep=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
  if [ -z "$dep" ]; then
    apt-get update >"$debs/apt-update.log" 2>&1 || dk_die "apt-get update failed (see $debs/apt-update.log)"
    dep=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
  fi
  [ -n "$dep" ] || dk_die "cannot resolve linux-image-amd64 to a versioned kernel package with apt-cache depends"
  echo "$dep"
}

# dk_check_config CONFIG OPTION...: every CONFIG_OPTION is built in (=y) or a module (=m).
dk_check_config() {
  local config=$1 opt
  shift
  for opt in "$@"; do
    grep -Eq "^CONFIG_${opt}=[ym]$" "$config" || dk_die "kernel $(basename "$config") lacks CONFIG_$opt (see $config)"
  done
}

# dk_modules_dep KROOT KVER DEPMOD...: makes KROOT/lib/modules/KVER/modules.dep (the package does
# not ship one: depmod runs at install) with the depmod command given, after decompressing any
# compressed module.
dk_modules_dep() {
  local kroot=$1 kver=$2 mdir=$1/lib/modules/$2 f
  shift 2
  [ -f "$mdir/modules.dep" ] && return 0
  while IFS= read -r -d '' f; do
    case $f in
      *.ko.xz) xz -dq "$f" || dk_die "cannot decompress $f" ;;
      *.ko.zst) zstd -dqf --rm "$f" || dk_die "cannot decompress $f" ;;
      *.ko.gz) gzip -dq "$f" || dk_die "cannot decompress $f" ;;
    esac
  done < <(find "$mdir" \( -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) -print0)
  "$@" -b "$kroot" "$kver" || dk_die "$* failed for $kver"
  [ -f "$mdir/modules.dep" ] || dk_die "no modules.dep for $kver"
}

# dk_module_order MDIR NAME...: prints "NAME PATH" (PATH relative to MDIR), one a line, for the
# NAMEs and everything they depend on, each after its dependencies (depth-first over
# modules.dep). A NAME built into the kernel is left out; one that is neither is an error.
dk_module_order() {
  local mdir=$1 line mod name m mm
  shift
  declare -A dep_of path_of seen
  while IFS= read -r line; do
    mod=${line%%:*}
    name=$(basename "$mod" .ko)
    name=${name//-/_}
    path_of[$name]=$mod
    dep_of[$name]=${line#*:}
  done <"$mdir/modules.dep"
  visit() {
    local n=${1//-/_} d dn
    [ -n "${seen[$n]:-}" ] && return 0
    seen[$n]=1
    [ -n "${path_of[$n]:-}" ] || return 1
    for d in ${dep_of[$n]}; do
      dn=$(basename "$d" .ko)
      visit "$dn" || dk_die "module $dn (needed by $n) not in modules.dep"
    done
    echo "$n ${path_of[$n]}"
  }
  for m in "$@"; do
    mm=${m//-/_}
    if [ -z "${path_of[$mm]:-}" ]; then
      grep -q "/${m}.ko\$\|/${mm}.ko\$" "$mdir/modules.builtin" && continue
      dk_die "module $m is neither in modules.dep nor built in ($mdir)"
    fi
    visit "$mm"
  done
}

# dk_extract_vmlinux VMLINUZ OUT: the uncompressed ELF inside a bzImage, as the kernel's
# scripts/extract-vmlinux finds it: the payload the boot protocol's header points at
# (payload_offset at 0x248 and payload_length at 0x24c, from the protected-mode code that starts
# after the setup sectors), decompressed by its magic (xz, zstd, gzip, lzma, bzip2, lz4); failing
# that, the first xz stream found in the file. Kept only when it is an ELF with a PVH entry note
# (Xen's note 18, XEN_ELFNOTE_PHYS32_ENTRY). 0 when OUT was made.
dk_extract_vmlinux() {
  local vmlinuz=$1 out=$2 off len sects magic
  rm -f "$out" "$out.tmp"
  dk_u32() { od -An -tu4 -j "$2" -N 4 "$1" | tr -d ' '; }
  if [ "$(dd if="$vmlinuz" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ]; then
    sects=$(od -An -tu1 -j 497 -N 1 "$vmlinuz" | tr -d ' ')
    [ "$sects" = 0 ] && sects=4
    off=$(( (sects + 1) * 512 + $(dk_u32 "$vmlinuz" 584) ))
    len=$(dk_u32 "$vmlinuz" 588)
    magic=$(od -An -tx1 -j "$off" -N 6 "$vmlinuz" | tr -d ' \n')
    local dec=()
    case $magic in
      fd377a585a00) dec=(xz -dcq) ;;
      28b52ffd*) dec=(zstd -dcq) ;;
      1f8b*) dec=(gzip -dcq) ;;
      5d0000*) dec=(xz --format=lzma -dcq) ;;
      425a68*) dec=(bzip2 -dcq) ;;
      02214c18*) dec=(lz4 -dcq) ;;
    esac
    if [ ${#dec[@]} -gt 0 ] && command -v "${dec[0]}" >/dev/null 2>&1 && [ "$len" -gt 0 ]; then
      tail -c +$((off + 1)) "$vmlinuz" | head -c "$len" | "${dec[@]}" >"$out.tmp" 2>/dev/null || true
    fi
  fi
  if ! dk_is_pvh_elf "$out.tmp"; then
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1) || true
    if [ -n "$off" ] && command -v xz >/dev/null 2>&1; then
      # xz complains about the data after the stream; what matters is a complete ELF with the note
      tail -c +$((off + 1)) "$vmlinuz" | xz -dcq >"$out.tmp" 2>/dev/null || true
    fi
  fi
  if dk_is_pvh_elf "$out.tmp"; then
    mv "$out.tmp" "$out"
    return 0
  fi
  rm -f "$out.tmp"
  return 1
}

# dk_is_pvh_elf FILE: FILE is an ELF whose notes include Xen's PHYS32_ENTRY (type 18).
dk_is_pvh_elf() {
  [ -s "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] &&
    readelf -nW "$1" 2>/dev/null | grep -Eq '^ *Xen .*(\(0x00000012\)|PHYS32_ENTRY)'
}

# dk_unpack_kernel DEB DIR: extracts (not installs) the kernel package DEB into DIR (emptied
# first) and prints its version (DIR/lib/modules/VERSION); DIR/boot/vmlinuz-VERSION and
# DIR/boot/config-VERSION are there.
dk_unpack_kernel() {
  local deb=$1 dir=$2 kver
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg-deb -x "$deb" "$dir" || dk_die "dpkg-deb -x $deb failed"
  kver=$(ls "$dir/lib/modules" 2>/dev/null | head -n1)
  [ -n "$kver" ] && [ -d "$dir/lib/modules/$kver" ] || dk_die "no lib/modules/<version> in $deb"
  [ -f "$dir/boot/vmlinuz-$kver" ] || dk_die "no boot/vmlinuz-$kver in $deb"
  [ -f "$dir/boot/config-$kver" ] || dk_die "no boot/config-$kver in $deb"
  echo "$kver"
}
