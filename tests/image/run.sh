#!/usr/bin/env bash
# `isovm image from-dir`'s tests, host-side and fast (no network, no KVM): a small directory
# packed as squashfs and ext4 and read back (unsquashfs, debugfs), the cache hit of a second run
# and the miss after a change, -o over an existing file, and bad inputs and failing tools refused
# with exit 125 and a message naming them. `image build` (mmdebstrap, minutes, the network) is
# only checked for its refusals here.
#
#   tests/image/run.sh        ISOVM (default build/isovm) is the binary tested
#
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
ISOVM=$(realpath "${ISOVM:-$repo/build/isovm}")
for t in mksquashfs unsquashfs mkfs.ext4 debugfs; do
  command -v "$t" >/dev/null || { echo "FAIL tests/image/run.sh: missing $t (scripts/install-deps.sh)"; exit 1; }
done
[ -x "$ISOVM" ] || { echo "FAIL tests/image/run.sh: no $ISOVM (make)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
unset ISOVM_IMAGE_CACHE
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
no() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # NAME CMD...: CMD succeeds
  local name=$1
  shift
  if "$@"; then ok "$name"; else no "$name"; fi
}
# refused NAME PATTERN ARGS...: isovm ARGS exits 125 and says PATTERN on stderr (isovm runs
# with PATH=$TOOL_PATH when that is set)
refused() {
  local name=$1 pat=$2 rc
  shift 2
  env ${TOOL_PATH:+PATH="$TOOL_PATH"} "$ISOVM" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" = 125 ] && grep -q -- "$pat" "$tmp/err"; then ok "$name"
  else no "$name (exit $rc, wanted 125 and \"$pat\"; stderr: $(head -c 300 "$tmp/err"))"; fi
}

src=$tmp/src
mkdir -p "$src/etc" "$src/bin" "$src/empty"
echo hello >"$src/etc/greeting"
printf 'x%.0s' $(seq 1 5000) >"$src/bin/tool"
chmod 755 "$src/bin/tool"
ln -s ../etc/greeting "$src/bin/link"

# squashfs (the default): the files are in the image
"$ISOVM" image from-dir "$src" -o "$tmp/a.img" >"$tmp/out1" 2>"$tmp/err"
check "squashfs built" grep -q "squashfs image" "$tmp/out1"
check "squashfs not from the cache the first time" grep -q "built in" "$tmp/out1"
unsquashfs -l "$tmp/a.img" >"$tmp/list" 2>/dev/null
for f in etc/greeting bin/tool bin/link empty; do
  check "squashfs lists $f" grep -qx "squashfs-root/$f" "$tmp/list"
done
unsquashfs -q -d "$tmp/x" "$tmp/a.img" >/dev/null 2>&1
check "squashfs contents equal the directory" diff -r --no-dereference "$src" "$tmp/x"
check "squashfs keeps the symlink" test "$(readlink "$tmp/x/bin/link")" = ../etc/greeting

# the second run is a cache hit, byte for byte the same
cp "$tmp/a.img" "$tmp/a.first"
"$ISOVM" image from-dir "$src" -o "$tmp/a.img" >"$tmp/out2" 2>"$tmp/err"
check "second run comes from the cache" grep -q "from the cache" "$tmp/out2"
check "the cached image is the same" cmp -s "$tmp/a.img" "$tmp/a.first"
# a change to the directory is a miss
sleep 0.01
echo changed >"$src/etc/greeting"
"$ISOVM" image from-dir "$src" -o "$tmp/a.img" >"$tmp/out3" 2>"$tmp/err"
check "a changed directory is built again" grep -q "built in" "$tmp/out3"
unsquashfs -q -d "$tmp/y" "$tmp/a.img" >/dev/null 2>&1
check "the new image has the change" grep -qx changed "$tmp/y/etc/greeting"
check "--rebuild builds again" sh -c '"$1" image from-dir --rebuild "$2" -o "$3" | grep -q "built in"' \
  - "$ISOVM" "$src" "$tmp/a.img"

# ext4: sized with headroom, the files inside (debugfs)
"$ISOVM" image from-dir --format ext4 "$src" -o "$tmp/b.img" >"$tmp/out4" 2>"$tmp/err"
check "ext4 built" grep -q "ext4 image" "$tmp/out4"
check "ext4 has etc/greeting" test "$(debugfs -R 'cat /etc/greeting' "$tmp/b.img" 2>/dev/null)" = changed
check "ext4 has bin/tool (5000 bytes)" test "$(debugfs -R 'cat /bin/tool' "$tmp/b.img" 2>/dev/null | wc -c)" = 5000
check "ext4 has the symlink" sh -c 'debugfs -R "stat /bin/link" "$1" 2>/dev/null | grep -q "Fast link dest: \"../etc/greeting\""' - "$tmp/b.img"
check "ext4 size is whole MiB" test $(($(stat -c %s "$tmp/b.img") % 1048576)) = 0
check "ext4 copy keeps holes" test $(($(stat -c %b "$tmp/b.img") * 512)) -lt "$(stat -c %s "$tmp/b.img")"
"$ISOVM" image from-dir --format ext4 --size 64MiB "$src" -o "$tmp/c.img" >/dev/null 2>&1
check "ext4 --size 64MiB" test "$(stat -c %s "$tmp/c.img")" = 67108864

# bad inputs: exit 125 and a message
refused "no subcommand" "missing build or from-dir" image
refused "unknown subcommand" 'unknown subcommand "frob"' image frob
refused "missing DIR" "missing DIR" image from-dir -o "$tmp/z.img"
refused "missing -o" "missing -o" image from-dir "$src"
refused "DIR does not exist" "$tmp/nope: No such file or directory" image from-dir "$tmp/nope" -o "$tmp/z.img"
refused "DIR is a file" "not a directory" image from-dir "$src/etc/greeting" -o "$tmp/z.img"
ln -s "$src" "$tmp/srclink"
refused "DIR is a symlink" "a symlink" image from-dir "$tmp/srclink" -o "$tmp/z.img"
refused "two DIRs" "one DIR only" image from-dir "$src" "$src" -o "$tmp/z.img"
refused "bad format" "squashfs or ext4" image from-dir --format xfs "$src" -o "$tmp/z.img"
refused "--size with squashfs" "ext4 only" image from-dir --size 1MiB "$src" -o "$tmp/z.img"
refused "bad size" "is not a size" image from-dir --format ext4 --size lots "$src" -o "$tmp/z.img"
refused "unknown option" "unknown option --frob" image from-dir --frob "$src" -o "$tmp/z.img"
refused "build option to from-dir" "option of image build" image from-dir --variant buildd "$src" -o "$tmp/z.img"
refused "-o is a directory" "not a regular file" image from-dir "$src" -o "$tmp/x"
refused "bad variant" "not one of mmdebstrap's variants" image build --variant bogus -o "$tmp/z.img"
refused "bad package" "not a Debian package name" image build --include 'ok,bad;rm' -o "$tmp/z.img"
refused "bad suite" "not a suite name" image build --suite ../x -o "$tmp/z.img"
refused "bad mirror" "--mirror" image build --mirror ftp://x -o "$tmp/z.img"
refused "build takes no DIR" "unexpected argument" image build "$src" -o "$tmp/z.img"
check "no image left behind by refusals" test ! -e "$tmp/z.img"
# failing tools: named in the message
TOOL_PATH=/nonexistent refused "mksquashfs missing" "mksquashfs not found in PATH (Debian package squashfs-tools" \
  image from-dir --rebuild "$src" -o "$tmp/z.img"
refused "mkfs.ext4 failing (--size too small)" "mkfs.ext4 failed (exit status" \
  image from-dir --format ext4 --size 64KiB "$src" -o "$tmp/z.img"
check "no build directory left in the cache" sh -c '! ls -a "$1"/isovm/images | grep -q "^\.build-"' - "$XDG_CACHE_HOME"
check "--help" sh -c '"$1" image --help | grep -q "from-dir"' - "$ISOVM"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
