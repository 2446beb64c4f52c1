# File-system view cases (issue 4): grants as the only file system, rights, escapes (.., symlinks
# out, /proc/self/root, a symlink-swap race), symlinks the job makes, and unmodified busybox
# applets on granted directories compared with the same applets run natively.
# shellcheck shell=bash
# Sourced by run.sh after its own cases: uses V4, V2, WORK, GUEST_DIR, ISOVM, BUSYBOX and lib.sh.
# Every case name starts with "fs/", so `run.sh fs` runs just these. The jobs' steps are driven
# by guest/tests/fs_ops.c ("read:/data/a.txt" -> "read:/data/a.txt -> alpha|"). The cases need
# isovm (grants have no native equivalent): natively they are skipped.

# _fs_dir NAME : a fresh directory for the case under $WORK/fs, path in FSD
_fs_dir() {
    FSD=$WORK/fs/$1
    rm -rf "$FSD"
    mkdir -p "$FSD"
}

# _fs_policy FILE CWD GRANT... : a policy file with grants "GUEST=HOST=RIGHTS"
_fs_policy() {
    local file=$1 cwd=$2 g sep="" guest host rights
    shift 2
    {
        printf '{"grants": ['
        for g in "$@"; do
            guest=${g%%=*}
            host=${g#*=}
            rights=${host##*=}
            host=${host%=*}
            printf '%s{"guest": "%s", "host": "%s", "rights": "%s"}' "$sep" "$guest" "$host" "$rights"
            sep=", "
        done
        printf ']'
        [ -n "$cwd" ] && printf ', "cwd": "%s"' "$cwd"
        printf '}\n'
    } >"$file"
}

# _fs_tree DIR : the read-only test tree
_fs_tree() {
    mkdir -p "$1/sub"
    printf 'alpha\n' >"$1/a.txt"
    printf 'beta\n' >"$1/sub/b.txt"
    chmod 0644 "$1/a.txt" "$1/sub/b.txt"
    chmod 0755 "$1" "$1/sub"
}

# _fs_expect_lines TEXT : stdout is exactly TEXT (one step per line)
_fs_expect_lines() {
    expect_status 0 || return
    if ! printf '%s\n' "$1" | cmp -s - "$OUT_FILE"; then
        fail "stdout differs from the expected steps (diff: < want, > got)"
        CASE_DETAIL+="$(printf '%s\n' "$1" | diff - "$OUT_FILE" | grep '^[<>]' | head -20 |
            sed 's/^/        | /')"$'\n'
        return 1
    fi
}

c_fs_ro() {
    native && return
    need "fs_ops.$1" || return
    _fs_dir "ro-$1"
    _fs_tree "$FSD/in"
    _fs_policy "$FSD/p.json" "" "/data=$FSD/in=ro"
    run_isovm launch --policy "$FSD/p.json" -- "$J" \
        read:/data/a.txt read:/data/sub/b.txt read://data//sub/./b.txt ls:/data ls:/data/sub \
        stat:/data/a.txt stat:/data stat:/ stat:/data/sub/b.txt lstat:/data/a.txt \
        write:/data/a.txt:X writeexisting:/data/a.txt:X create:/data/new unlink:/data/a.txt \
        rmdir:/data/sub rename:/data/a.txt:/data/c.txt mkdir:/data/d symlink:a.txt:/data/l \
        truncate:/data/a.txt:0 chmod:/data/a.txt:777 \
        read:/data/../etc/passwd read:/etc/passwd read:/dataX read:/data/missing ls:/ \
        read:/data/a.txt/x stat:/proc/self/root/etc/passwd \
        access:/data/a.txt:r access:/data/a.txt:w access:/data:r access:/:w \
        chdir:/data getcwd read:a.txt read:sub/../a.txt read:../data/a.txt read:../../etc/passwd \
        readat:/data/sub:b.txt readat:/data/sub:../a.txt readat:/data/sub:../../etc/passwd \
        pread:/data/a.txt:2 seekend:/data/a.txt chdir:/ getcwd chdir:/etc
    _fs_expect_lines "read:/data/a.txt -> alpha|
read:/data/sub/b.txt -> beta|
read://data//sub/./b.txt -> beta|
ls:/data -> [a.txt sub]
ls:/data/sub -> [b.txt]
stat:/data/a.txt -> f 0644 size=6 uid=0
stat:/data -> d 0755 size=0 uid=0
stat:/ -> d 0555 size=0 uid=0
stat:/data/sub/b.txt -> f 0644 size=5 uid=0
lstat:/data/a.txt -> f 0644 size=6 uid=0
write:/data/a.txt:X -> EACCES
writeexisting:/data/a.txt:X -> EACCES
create:/data/new -> EACCES
unlink:/data/a.txt -> EACCES
rmdir:/data/sub -> EACCES
rename:/data/a.txt:/data/c.txt -> EACCES
mkdir:/data/d -> EACCES
symlink:a.txt:/data/l -> EACCES
truncate:/data/a.txt:0 -> EACCES
chmod:/data/a.txt:777 -> EACCES
read:/data/../etc/passwd -> ENOENT
read:/etc/passwd -> ENOENT
read:/dataX -> ENOENT
read:/data/missing -> ENOENT
ls:/ -> EACCES
read:/data/a.txt/x -> ENOTDIR
stat:/proc/self/root/etc/passwd -> ENOENT
access:/data/a.txt:r -> ok
access:/data/a.txt:w -> EACCES
access:/data:r -> ok
access:/:w -> EACCES
chdir:/data -> ok
getcwd -> /data
read:a.txt -> alpha|
read:sub/../a.txt -> alpha|
read:../data/a.txt -> alpha|
read:../../etc/passwd -> ENOENT
readat:/data/sub:b.txt -> beta|
readat:/data/sub:../a.txt -> ENOENT
readat:/data/sub:../../etc/passwd -> ENOENT
pread:/data/a.txt:2 -> pha|
seekend:/data/a.txt -> 6
chdir:/ -> ok
getcwd -> /
chdir:/etc -> ENOENT" || return
    # nothing changed on the host
    [ "$(cat "$FSD/in/a.txt")" = alpha ] || fail "host a.txt changed"
    [ "$(ls "$FSD/in" | tr '\n' ' ')" = "a.txt sub " ] || fail "host directory changed: $(ls "$FSD/in")"
}

c_fs_escape() {
    native && return
    need "fs_ops.$1" || return
    _fs_dir "escape-$1"
    _fs_tree "$FSD/in"
    mkdir -p "$FSD/outside"
    printf 'OUTSIDE-SECRET\n' >"$FSD/outside/secret"
    ln -s /etc/passwd "$FSD/in/abs"
    ln -s ../../../../../../../../etc/passwd "$FSD/in/rel"
    ln -s ../outside/secret "$FSD/in/up"
    ln -s /proc/self/root/etc/passwd "$FSD/in/procroot"
    ln -s /proc/self/cwd "$FSD/in/proccwd"
    ln -s "$FSD/in/a.txt" "$FSD/in/absinside" # absolute, even though it names a file inside
    ln -s a.txt "$FSD/in/inlink"
    ln -s sub "$FSD/in/dirlink"
    ln -s ../../outside "$FSD/in/sub/updir"
    ln -s loop2 "$FSD/in/loop1"
    ln -s loop1 "$FSD/in/loop2"
    _fs_policy "$FSD/p.json" "" "/data=$FSD/in=ro"
    run_isovm launch --policy "$FSD/p.json" -- "$J" \
        read:/data/abs read:/data/rel read:/data/up read:/data/procroot read:/data/proccwd \
        read:/data/absinside read:/data/inlink read:/data/dirlink/b.txt read:/data/sub/updir/secret \
        ls:/data/sub/updir stat:/data/abs lstat:/data/abs readlink:/data/abs readlink:/data/inlink \
        readlink:/data/a.txt stat:/data/inlink read:/data/loop1 \
        read:/data/dirlink/../a.txt readat:/data/dirlink:b.txt
    _fs_expect_lines "read:/data/abs -> EACCES
read:/data/rel -> EACCES
read:/data/up -> EACCES
read:/data/procroot -> EACCES
read:/data/proccwd -> EACCES
read:/data/absinside -> EACCES
read:/data/inlink -> alpha|
read:/data/dirlink/b.txt -> beta|
read:/data/sub/updir/secret -> EACCES
ls:/data/sub/updir -> EACCES
stat:/data/abs -> EACCES
lstat:/data/abs -> l 0777 size=0 uid=0
readlink:/data/abs -> /etc/passwd
readlink:/data/inlink -> a.txt
readlink:/data/a.txt -> EINVAL
stat:/data/inlink -> f 0644 size=6 uid=0
read:/data/loop1 -> EACCES
read:/data/dirlink/../a.txt -> alpha|
readat:/data/dirlink:b.txt -> beta|"
}

c_fs_rw() {
    native && return
    need "fs_ops.$1" || return
    _fs_dir "rw-$1"
    _fs_tree "$FSD/in"
    mkdir -p "$FSD/out" "$FSD/outside"
    ln -s /etc/passwd "$FSD/out/hostlink"
    ln -s ../outside/created "$FSD/out/hostlink2"
    _fs_policy "$FSD/p.json" "" "/data=$FSD/in=ro" "/out=$FSD/out=rw"
    run_isovm launch --policy "$FSD/p.json" -- "$J" \
        write:/out/new.txt:hello read:/out/new.txt append:/out/new.txt:!! read:/out/new.txt \
        mkdir:/out/d mkdir:/out/d rename:/out/new.txt:/out/d/moved.txt ls:/out/d \
        symlink:moved.txt:/out/d/l1 read:/out/d/l1 symlink:../../etc/passwd:/out/d/l2 \
        symlink:/etc/passwd:/out/l3 symlink:../d/moved.txt:/out/d/l4 read:/out/d/l4 \
        symlink:x/../../../etc:/out/d/l5 symlink:..:/out/l6 \
        truncate:/out/d/moved.txt:2 read:/out/d/moved.txt chmod:/out/d/moved.txt:600 \
        stat:/out/d/moved.txt pwrite:/out/d/moved.txt:1:EY read:/out/d/moved.txt \
        create:/out/d/moved.txt create:/out/c.txt stat:/out/c.txt unlink:/out/d/l1 rmdir:/out/d \
        rename:/out/d/moved.txt:/data/x rename:/data/a.txt:/out/a.txt \
        read:/out/hostlink write:/out/hostlink:x write:/out/hostlink2:x \
        unlink:/out rmdir:/out rename:/out:/out/x rename:/out:/out2 mkdir:/out unlink:/out/d/l4 \
        rename:/out/d:/out/e ls:/out/e
    _fs_expect_lines "write:/out/new.txt:hello -> 5
read:/out/new.txt -> hello
append:/out/new.txt:!! -> 2
read:/out/new.txt -> hello!!
mkdir:/out/d -> ok
mkdir:/out/d -> EEXIST
rename:/out/new.txt:/out/d/moved.txt -> ok
ls:/out/d -> [moved.txt]
symlink:moved.txt:/out/d/l1 -> ok
read:/out/d/l1 -> hello!!
symlink:../../etc/passwd:/out/d/l2 -> EPERM
symlink:/etc/passwd:/out/l3 -> EPERM
symlink:../d/moved.txt:/out/d/l4 -> EPERM
read:/out/d/l4 -> ENOENT
symlink:x/../../../etc:/out/d/l5 -> EPERM
symlink:..:/out/l6 -> EPERM
truncate:/out/d/moved.txt:2 -> ok
read:/out/d/moved.txt -> he
chmod:/out/d/moved.txt:600 -> ok
stat:/out/d/moved.txt -> f 0600 size=2 uid=0
pwrite:/out/d/moved.txt:1:EY -> 2
read:/out/d/moved.txt -> hEY
create:/out/d/moved.txt -> EEXIST
create:/out/c.txt -> ok
stat:/out/c.txt -> f 0600 size=0 uid=0
unlink:/out/d/l1 -> ok
rmdir:/out/d -> ENOTEMPTY
rename:/out/d/moved.txt:/data/x -> EXDEV
rename:/data/a.txt:/out/a.txt -> EXDEV
read:/out/hostlink -> EACCES
write:/out/hostlink:x -> EACCES
write:/out/hostlink2:x -> EACCES
unlink:/out -> EBUSY
rmdir:/out -> EBUSY
rename:/out:/out/x -> EBUSY
rename:/out:/out2 -> ENOENT
mkdir:/out -> EEXIST
unlink:/out/d/l4 -> ENOENT
rename:/out/d:/out/e -> ok
ls:/out/e -> [moved.txt]" || return
    [ "$(cat "$FSD/out/e/moved.txt")" = hEY ] || fail "host moved.txt is not hEY"
    [ "$(stat -c %a "$FSD/out/e/moved.txt")" = 600 ] || fail "host mode not 600"
    [ ! -e "$FSD/outside/created" ] || fail "a file was created outside the grant"
    [ "$(ls "$FSD/out" | tr '\n' ' ')" = "c.txt e hostlink hostlink2 " ] ||
        fail "host /out holds: $(ls "$FSD/out" | tr '\n' ' ')"
}

# A host loop swaps /data/swap between a real directory and symlinks out of the grant while the
# job opens /data/swap/f over and over: it must never read the outside file.
c_fs_swap_race() {
    native && return
    need "fs_ops.$1" || return
    _fs_dir "race-$1"
    mkdir -p "$FSD/in/swap" "$FSD/outside"
    printf 'GOOD-MARKER\n' >"$FSD/in/swap/f"
    printf 'OUTSIDE-SECRET\n' >"$FSD/outside/f"
    _fs_policy "$FSD/p.json" "" "/data=$FSD/in=ro"
    (
        cd "$FSD/in" || exit 1
        while [ ! -e "$FSD/stop" ]; do
            mv swap real && ln -s "$FSD/outside" swap && rm swap &&
                ln -s ../outside swap && rm swap && mv real swap
        done
    ) 2>/dev/null &
    local loop=$!
    run_isovm launch --policy "$FSD/p.json" -- "$J" loopread:/data/swap/f:3000:GOOD-MARKER
    touch "$FSD/stop"
    wait "$loop"
    # bad=0 is what matters; good= tells whether the job also caught the directory in place
    expect_status 0 || return
    grep -qE -- '^loopread:/data/swap/f:3000:GOOD-MARKER -> good=(some|none) bad=0$' "$OUT_FILE" ||
        { fail "the job read outside the grant (or did not run the loop)"; _show_outputs; }
}

c_fs_no_grants() {
    native && return
    need "fs_ops.$1" || return
    run_isovm launch -- "$J" read:/etc/passwd stat:/ stat:/etc ls:/ getcwd write:/tmp/x:y
    _fs_expect_lines "read:/etc/passwd -> ENOENT
stat:/ -> d 0555 size=0 uid=0
stat:/etc -> ENOENT
ls:/ -> EACCES
getcwd -> /
write:/tmp/x:y -> ENOENT"
}

# A grant that expires 1.5 s after launch: usable before, EKEYEXPIRED after (paths and
# descriptors opened beneath it alike)
c_fs_expiry() {
    native && return
    need "fs_ops.$1" || return
    _fs_dir "expiry-$1"
    _fs_tree "$FSD/in"
    printf '{"grants": [{"guest": "/data", "host": "%s", "rights": "ro", "expires": "1500ms"}]}\n' \
        "$FSD/in" >"$FSD/p.json"
    run_isovm launch --policy "$FSD/p.json" -- "$J" read:/data/a.txt holdread:/data/a.txt:2500 \
        read:/data/a.txt stat:/data/a.txt
    _fs_expect_lines "read:/data/a.txt -> alpha|
holdread:/data/a.txt:2500 -> EKEYEXPIRED
read:/data/a.txt -> EKEYEXPIRED
stat:/data/a.txt -> EKEYEXPIRED"
}

# Rights one by one: "read" alone cannot list or stat; "list"+"stat" alone cannot read
c_fs_rights() {
    native && return
    need "fs_ops.$1" || return
    _fs_dir "rights-$1"
    _fs_tree "$FSD/in"
    mkdir -p "$FSD/in2"
    cp "$FSD/in/a.txt" "$FSD/in2/"
    mkdir -p "$FSD/cr"
    printf '{"grants": [{"guest": "/r", "host": "%s", "rights": ["read"]},
        {"guest": "/ls", "host": "%s", "rights": ["list", "stat"]},
        {"guest": "/cr", "host": "%s", "rights": ["create", "write"]}]}\n' \
        "$FSD/in" "$FSD/in2" "$FSD/cr" >"$FSD/p.json"
    run_isovm launch --policy "$FSD/p.json" -- "$J" read:/r/a.txt ls:/r stat:/r/a.txt \
        ls:/ls stat:/ls/a.txt read:/ls/a.txt write:/cr/n:x writeexisting:/cr/n:y unlink:/cr/n \
        create:/cr/m
    _fs_expect_lines "read:/r/a.txt -> alpha|
ls:/r -> EACCES
stat:/r/a.txt -> EACCES
ls:/ls -> [a.txt]
stat:/ls/a.txt -> f 0644 size=6 uid=0
read:/ls/a.txt -> EACCES
write:/cr/n:x -> EACCES
writeexisting:/cr/n:y -> ENOENT
unlink:/cr/n -> EACCES
create:/cr/m -> ok"
}

c_fs_missing_host() {
    native && return
    need hello.musl || return
    _fs_dir missing-host
    _fs_policy "$FSD/p.json" "" "/data=$FSD/in=ro" "/nope=$FSD/does-not-exist=ro"
    mkdir -p "$FSD/in"
    run_isovm launch --policy "$FSD/p.json" -- "$J"
    expect_status 125 && expect_stderr_has "grants[1].host: $FSD/does-not-exist"
}

# --- busybox, unmodified, on granted directories; compared with the same applet natively -----

_fs_bb_tree() {
    mkdir -p "$1/sub/deeper"
    printf 'alpha\n' >"$1/a.txt"
    printf 'beta\n' >"$1/sub/b.txt"
    printf 'gamma\n' >"$1/sub/deeper/c.txt"
    local i
    for i in $(seq 1 2000); do printf 'line %d %d\n' $(((i * 7919) % 1000)) "$i"; done >"$1/big.txt"
    # fixed times: the tree is made twice (native run, isovm run), maybe a minute apart
    find "$1" -exec touch -h -d '2024-01-02 03:04:05' {} +
}

# c_fs_bb NAME APPLET ARGS... : busybox APPLET ARGS in the rw grant /w (cwd /w) against the
# same command natively in the host directory
c_fs_bb() {
    native && return
    [ -x "$BUSYBOX" ] || { fail "no busybox at $BUSYBOX"; return; }
    local name=$1
    shift
    _fs_dir "bb-$name"
    _fs_bb_tree "$FSD/w"
    _fs_policy "$FSD/p.json" /w "/w=$FSD/w=rw"
    (cd "$FSD/w" && "$BUSYBOX" "$@") >"$FSD/native.out" 2>&1
    local nst=$?
    _fs_bb_tree "$FSD/w" # the same state again (gzip changes it)
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" "$@"
    expect_status "$nst" || return
    if ! cmp -s "$OUT_FILE" "$FSD/native.out"; then
        fail "output differs from native busybox $*"
        CASE_DETAIL+="$(diff "$FSD/native.out" "$OUT_FILE" | head -10 | sed 's/^/        | /')"$'\n'
    fi
}

# absolute guest paths (natively they would name nothing)
c_fs_bb_cat_abs() {
    native && return
    _fs_dir bb-cat-abs
    _fs_bb_tree "$FSD/w"
    _fs_policy "$FSD/p.json" "" "/w=$FSD/w=ro"
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" cat /w/a.txt /w/sub/deeper/c.txt
    expect_status 0 && expect_stdout_eq "alpha
gamma"
}

# gzip then gunzip in the grant: the file comes back identical
c_fs_bb_gzip_roundtrip() {
    native && return
    _fs_dir bb-gzip
    _fs_bb_tree "$FSD/w"
    local want
    want=$(sha256sum <"$FSD/w/big.txt")
    _fs_policy "$FSD/p.json" /w "/w=$FSD/w=rw"
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" gzip big.txt
    expect_status 0 "gzip big.txt" || return
    [ -f "$FSD/w/big.txt.gz" ] && [ ! -e "$FSD/w/big.txt" ] || { fail "gzip did not replace big.txt"; return; }
    gzip -t "$FSD/w/big.txt.gz" || { fail "host gzip -t refuses the job's big.txt.gz"; return; }
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" gzip -d big.txt.gz
    expect_status 0 "gzip -d big.txt.gz" || return
    [ "$(sha256sum <"$FSD/w/big.txt")" = "$want" ] || fail "big.txt differs after gzip + gzip -d"
}

# issue 17's first calls with real programs (each failed before: ENOSYS or wrong bits): ln
# (link), stat -f (statfs), nproc (sched_getaffinity), and the umask isovm was
# started with applied to what the job creates
c_fs_bb_calls() {
    native && return
    _fs_dir bb-calls
    _fs_bb_tree "$FSD/w"
    _fs_policy "$FSD/p.json" /w "/w=$FSD/w=rw"
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" ln a.txt hard.txt
    expect_status 0 "ln" || return
    [ "$(stat -c %i "$FSD/w/a.txt")" = "$(stat -c %i "$FSD/w/hard.txt" 2>&1)" ] ||
        fail "ln did not make a second name of a.txt"
    local want
    want=$(cd "$FSD/w" && "$BUSYBOX" stat -f -c '%T %S %l' .)
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" stat -f -c '%T %S %l' .
    expect_status 0 "stat -f" && expect_stdout_eq "$want"
    run_isovm launch --policy "$FSD/p.json" --max-threads 3 -- "$BUSYBOX" nproc
    expect_status 0 "nproc" && expect_stdout_eq "3"
    local saved m
    saved=$(umask)
    umask 027
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" touch new.txt
    expect_status 0 "touch under umask 027"
    run_isovm launch --policy "$FSD/p.json" -- "$BUSYBOX" mkdir newdir
    expect_status 0 "mkdir under umask 027"
    umask "$saved"
    m=$(stat -c %a "$FSD/w/new.txt" "$FSD/w/newdir" 2>&1 | tr '\n' ' ')
    [ "$m" = "640 750 " ] || fail "modes under umask 027: $m, want 640 750"
}

# fcntl record locks are the host's: a job holding one keeps another job (and a host process)
# out, F_SETLKW waits for the holder to go; and a host process's lock keeps the job out (issue 17)
c_fs_locks() {
    native && return
    need fs_ops.musl || return
    _fs_dir locks
    mkdir -p "$FSD/w" && printf 'data\n' >"$FSD/w/f"
    _fs_policy "$FSD/p.json" /w "/w=$FSD/w=rw"
    # the holder keeps its lock until the case creates /w/release
    "$ISOVM" launch --policy "$FSD/p.json" -- "$J" lockhold:/w/f:/w/release >"$FSD/a.out" 2>&1 &
    local holder=$! i
    for ((i = 0; i < 600; i++)); do
        _has "$FSD/a.out" "lockhold:/w/f:/w/release -> ok" && break
        sleep 0.05
    done
    _has "$FSD/a.out" "-> ok" || { fail "the holding job did not lock: $(cat "$FSD/a.out")"; kill "$holder"; return; }
    python3 -c 'import fcntl, sys
try:
    fcntl.lockf(open(sys.argv[1], "r+"), fcntl.LOCK_EX | fcntl.LOCK_NB); print("host got it")
except OSError: print("host kept out")' "$FSD/w/f" >"$FSD/h.out" 2>&1
    _has "$FSD/h.out" "host kept out" ||
        fail "a host process got the job's lock: $(cat "$FSD/h.out"; cat /proc/locks)"
    run_isovm launch --policy "$FSD/p.json" -- "$J" trylock:/w/f
    expect_status 0 && expect_stdout_eq "trylock:/w/f -> EAGAIN"
    # a job that waits for it: still waiting while the holder holds, done once it lets go
    "$ISOVM" launch --policy "$FSD/p.json" -- "$J" lockwait:/w/f >"$FSD/w.out" 2>&1 &
    local waiter=$!
    sleep 1
    kill -0 "$waiter" 2>/dev/null || fail "the waiting job did not wait: $(cat "$FSD/w.out")"
    : >"$FSD/w/release"
    wait "$holder"
    wait "$waiter"
    local rc=$?
    [ "$rc" = 0 ] && _has "$FSD/w.out" "lockwait:/w/f -> ok" ||
        fail "the waiting job: status $rc, $(cat "$FSD/w.out")"
    # the other way: a host process holds it, the job is kept out
    python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+"); fcntl.lockf(f, fcntl.LOCK_EX); print("held", flush=True); time.sleep(60)' \
        "$FSD/w/f" >"$FSD/h2.out" 2>&1 &
    local host=$!
    for ((i = 0; i < 600; i++)); do _has "$FSD/h2.out" held && break; sleep 0.05; done
    run_isovm launch --policy "$FSD/p.json" -- "$J" trylock:/w/f
    expect_status 0 && expect_stdout_eq "trylock:/w/f -> EAGAIN"
    kill "$host"
    wait "$host" 2>/dev/null
    run_isovm launch --policy "$FSD/p.json" -- "$J" trylock:/w/f
    expect_status 0 && expect_stdout_eq "trylock:/w/f -> ok"
}

# SQLite, Debian's libsqlite3.a unmodified, in every journal mode, WAL's -shm file mapped
# MAP_SHARED included (issue 17's part 6): before locks it failed with "disk I/O error" in every
# mode; the host's own sqlite3 reads what the job wrote
c_fs_sqlite() {
    native && return
    need sqlite_job.glibc || return
    _fs_dir sqlite
    mkdir -p "$FSD/w"
    _fs_policy "$FSD/p.json" /w "/w=$FSD/w=rw"
    local m
    for m in delete truncate persist memory wal; do
        run_isovm launch --policy "$FSD/p.json" -- "$J" "/w/$m.db" "$m"
        expect_status 0 "sqlite $m" && expect_stdout_eq "journal=$m rows=2 sum=3" || continue
        run_isovm launch --policy "$FSD/p.json" -- "$J" "/w/$m.db" "$m"
        expect_status 0 "sqlite $m, again" && expect_stdout_eq "journal=$m rows=4 sum=6"
    done
    local got
    got=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*), group_concat(y) from t").fetchone())' \
        "$FSD/w/delete.db" 2>&1)
    [ "$got" = "(4, 'one,TWO,one,TWO')" ] || fail "the host's sqlite3 reads: $got"
}

# mmap of granted files (issue 17 part 6): private and shared maps, coherence with pread/pwrite,
# MADV_DONTNEED, msync, the VMM's copies over a file's pages past its end (EFAULT, not a crash),
# unmapping the middle, refusals; a read-only grant's file: private maps only writable; a read
# past the end of a file in the job itself: SIGBUS
c_fs_mmap() { # VARIANT
    native && return
    need "mmap_file.$1" || return
    _fs_dir "mmap-$1"
    mkdir -p "$FSD/w" "$FSD/r"
    printf 'read-only bytes\n' >"$FSD/r/f.bin"
    _fs_policy "$FSD/p.json" /w "/w=$FSD/w=rw" "/r=$FSD/r=ro"
    run_isovm launch --policy "$FSD/p.json" -- "$J" all /w
    expect_status 0 "all" && expect_stdout_has "all checks passed"
    run_isovm launch --policy "$FSD/p.json" -- "$J" ro /r/f.bin
    expect_status 0 "ro" && expect_stdout_has "all checks passed"
    [ "$(cat "$FSD/r/f.bin")" = "read-only bytes" ] || fail "the read-only file changed"
    run_isovm launch --policy "$FSD/p.json" -- "$J" revoke /w
    expect_status 139 "revoke" &&
        expect_stdout_eq "after close r"$'\n'"second map r"$'\n'"revoked 0, first map r" &&
        expect_stderr_has "job killed by SIGSEGV: page fault (user read, not present)"
    run_isovm launch --policy "$FSD/p.json" -- "$J" sigbus /w
    expect_status 135 "sigbus" || return
    expect_stdout_eq "first page q"
    expect_stderr_has "job killed by SIGBUS: an access to a mapped file past its end"
}

# ls -l on a read-only grant shows the files' own modes (as Linux on a read-only mount), and a
# copy out of it keeps them (issue 17: cp made a 0644 file 0444); access() still says read-only
# (fs/ro)
c_fs_bb_ls_ro() {
    native && return
    _fs_dir bb-ls-ro
    _fs_bb_tree "$FSD/w"
    mkdir -p "$FSD/out"
    chmod 0644 "$FSD/w/a.txt"
    chmod 0750 "$FSD/w/sub"
    printf '{"grants": [{"guest": "/w", "host": "%s", "rights": ["read", "list", "stat"]},
        {"guest": "/out", "host": "%s", "rights": ["read", "write", "create", "list", "stat", "delete", "truncate"]}]}\n' \
        "$FSD/w" "$FSD/out" >"$FSD/p.json"
    run_isovm launch --policy "$FSD/p.json" --cwd /w -- "$BUSYBOX" ls -ln a.txt
    expect_status 0 && expect_stdout_has "-rw-r--r--    1 0        0"
    run_isovm launch --policy "$FSD/p.json" --cwd /w -- "$BUSYBOX" cp a.txt /out/a.txt
    expect_status 0 || return
    run_isovm launch --policy "$FSD/p.json" --cwd /w -- "$BUSYBOX" cp -r sub /out/sub
    expect_status 0 || return
    local m
    m=$(stat -c %a "$FSD/out/a.txt" "$FSD/out/sub" 2>&1 | tr '\n' ' ')
    [ "$m" = "644 750 " ] || fail "the copies' modes: $m, want 644 750"
}

for v in $V4; do
    add_case "fs/ro/$v" c_fs_ro "$v"
    add_case "fs/escape/$v" c_fs_escape "$v"
    add_case "fs/rw/$v" c_fs_rw "$v"
    add_case "fs/no-grants/$v" c_fs_no_grants "$v"
done
add_case "fs/expiry/musl" c_fs_expiry musl
add_case "fs/expiry/glibc" c_fs_expiry glibc
add_case "fs/rights/musl" c_fs_rights musl
add_case "fs/rights/glibc-pie" c_fs_rights glibc-pie
add_case "fs/swap-race/musl" c_fs_swap_race musl
add_case "fs/swap-race/glibc" c_fs_swap_race glibc
add_case "fs/missing-host" c_fs_missing_host
add_case "fs/busybox/cat" c_fs_bb cat cat a.txt sub/b.txt
add_case "fs/busybox/cat-abs" c_fs_bb_cat_abs
add_case "fs/busybox/wc" c_fs_bb wc wc a.txt big.txt sub/b.txt
add_case "fs/busybox/sha256sum" c_fs_bb sha256sum sha256sum a.txt big.txt sub/deeper/c.txt
add_case "fs/busybox/ls-ln" c_fs_bb ls-ln ls -ln . sub
add_case "fs/busybox/ls-lR" c_fs_bb ls-lR ls -lnR
add_case "fs/busybox/find" c_fs_bb find find .
add_case "fs/busybox/find-name" c_fs_bb find-name find . -name '*.txt' -type f
add_case "fs/busybox/sort" c_fs_bb sort sort big.txt
add_case "fs/busybox/sort-n" c_fs_bb sort-n sort -k2 -n -r big.txt
add_case "fs/busybox/gzip-c" c_fs_bb gzip-c gzip -c big.txt
add_case "fs/busybox/head-tail" c_fs_bb head head -n 3 big.txt
add_case "fs/busybox/stat" c_fs_bb stat stat -c '%n %s %F' a.txt sub
add_case "fs/busybox/issue 17 calls" c_fs_bb_calls
add_case "fs/locks across jobs and the host" with_budget 60 c_fs_locks
add_case "fs/sqlite journal modes" with_budget 60 c_fs_sqlite
for v in $V2; do
    add_case "fs/mmap of granted files mmap_file.$v" with_budget 30 c_fs_mmap "$v"
done
add_case "fs/busybox/gzip-roundtrip" c_fs_bb_gzip_roundtrip
add_case "fs/busybox/ls-ro" c_fs_bb_ls_ro
