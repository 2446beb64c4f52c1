#!/usr/bin/env bash
# `isovm image build` without root: mmdebstrap --mode=unshare (subordinate ids, no privilege)
# into a tar, packed by mksquashfs. Run as root, the build runs as the user isovm-imgtest, made
# (with a range in /etc/subuid and /etc/subgid) when missing; run as anyone else, as the caller,
# who needs those ranges. Needs Debian's archive (the variant "essential": about 20 packages).
# Checks: exit 0 and an image; its / is root's with mode 0755; every file root's or a system
# group's, none the builder's; setuid bits kept (/usr/bin/su is 4755 root); the file's contents
# as packed (/etc/debian_version).
#
#   tests/image/unshare.sh        ISOVM (default build/isovm) is the binary tested
#
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
ISOVM=$(realpath "${ISOVM:-$repo/build/isovm}")
for t in mmdebstrap mksquashfs unsquashfs newuidmap; do
  command -v "$t" >/dev/null || { echo "FAIL tests/image/unshare.sh: missing $t (scripts/install-deps.sh)"; exit 1; }
done
[ -x "$ISOVM" ] || { echo "FAIL tests/image/unshare.sh: no $ISOVM (make)"; exit 1; }
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
no() { failed=$((failed + 1)); echo "FAIL $*"; }

user=$(id -un)
if [ "$(id -u)" = 0 ]; then
  user=isovm-imgtest
  if ! id "$user" >/dev/null 2>&1; then
    useradd --system --create-home --home-dir /var/lib/$user --shell /bin/sh "$user" ||
      { echo "FAIL tests/image/unshare.sh: useradd $user failed"; exit 1; }
  fi
  for f in /etc/subuid /etc/subgid; do
    grep -q "^$user:" "$f" 2>/dev/null || echo "$user:3000000:65536" >>"$f"
  done
fi
for f in /etc/subuid /etc/subgid; do
  grep -q "^$user:" "$f" 2>/dev/null ||
    { echo "FAIL tests/image/unshare.sh: $user has no range in $f (mmdebstrap --mode=unshare needs one)"; exit 1; }
done
uid=$(id -u "$user")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cp "$ISOVM" "$tmp/isovm" # the repository may sit where the user cannot reach (/root)
mkdir "$tmp/work" && chown "$user" "$tmp/work"
as_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$tmp/work" XDG_CACHE_HOME="$tmp/work/cache" "$@"
  else
    env XDG_CACHE_HOME="$tmp/work/cache" "$@"
  fi
}
t0=$(date +%s)
as_user "$tmp/isovm" image build --variant essential -o "$tmp/work/e.img" >"$tmp/out" 2>"$tmp/err"
rc=$?
echo "(image build as $user: exit $rc in $(($(date +%s) - t0)) s)"
if [ "$rc" = 0 ] && [ -s "$tmp/work/e.img" ]; then ok "image build as $user (uid $uid) without root"
else no "image build as $user: exit $rc: $(tail -n 5 "$tmp/err")"; fi
unsquashfs -lln "$tmp/work/e.img" >"$tmp/list" 2>/dev/null
root_line=$(grep -E ' squashfs-root$' "$tmp/list")
case $root_line in
  drwxr-xr-x\ 0/0\ *) ok "/ is root's, 0755" ;;
  *) no "/ is not root's 0755: $root_line" ;;
esac
theirs=$(awk -v u="$uid" '{ split($2, o, "/"); if (o[1] == u || o[2] == u) print }' "$tmp/list" | head -n 3)
[ -z "$theirs" ] && ok "no file is the builder's" || no "files owned by the builder: $theirs"
grep -qE '^-rwsr-xr-x 0/0 .* squashfs-root/usr/bin/su$' "$tmp/list" && ok "/usr/bin/su setuid root" ||
  no "/usr/bin/su: $(grep 'squashfs-root/usr/bin/su$' "$tmp/list")"
[ "$(unsquashfs -cat "$tmp/work/e.img" etc/debian_version 2>/dev/null | cut -d. -f1)" = 12 ] &&
  ok "/etc/debian_version is bookworm's" || no "/etc/debian_version: $(unsquashfs -cat "$tmp/work/e.img" etc/debian_version 2>&1 | head -c 100)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
