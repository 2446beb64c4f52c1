#!/bin/sh
# /init of the emulated KVM host (busybox sh): loads kvm-amd + 9p, mounts host / read-only and the shares read-write, runs the command, reboots (QEMU exits).
# Configuration comes from guest.conf in the run folder that run.sh shares with mount tag "emurun".
# Messages for the user go to the console (ttyS0, the host's console.log) and, once the run folder
# is mounted, to its guest-error file, which run.sh prints.

PATH=/bin
export PATH
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

P9OPTS=trans=virtio,version=9p2000.L,msize=262144
RUN_MOUNTED=0

stop() {
    sync
    reboot -f
    sleep 5
    echo "emuhost: error: reboot failed"
    exec sleep 100000
}

fail() {
    echo "emuhost: error: $*"
    if [ "$RUN_MOUNTED" = 1 ]; then
        echo "emuhost: error: $*" >>/emurun/guest-error
    fi
    stop
}

stamp() { read -r up _ </proc/uptime; echo "emuhost: [$up s] $*"; }

stamp "init started (kernel $(uname -r))"

# 1. Kernel modules, in dependency order (setup.sh computed it from modules.dep).
while read -r m; do
    [ -n "$m" ] || continue
    name=${m#??-}
    name=${name%.ko}
    if ! out=$(insmod "/modules/$m" 2>&1); then
        echo "$out"
        dmesg | grep -iE "$name|kvm|svm" | tail -n 5
        case $name in
            kvm_amd) fail "cannot load kernel module kvm_amd ($out): does QEMU emulate SVM (-cpu max)?" ;;
            *) fail "cannot load kernel module $name ($out)" ;;
        esac
    fi
done </modules/order
stamp "modules loaded"

# 2. The run folder (tag emurun) carries guest.conf, the command script and the exit status.
i=0
until mount -t 9p -o "$P9OPTS,cache=none" emurun /emurun 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 50 ] || fail "cannot mount the run folder (9p tag emurun)"
    usleep 100000
done
RUN_MOUNTED=1
[ -f /emurun/guest.conf ] || fail "no guest.conf in the run folder"

RUNDIR=
PROBE=
SHARES=
while read -r key val; do
    case $key in
        rundir) RUNDIR=$val ;;
        probe) PROBE=$val ;;
        share) SHARES="$SHARES
$val" ;;
    esac
done </emurun/guest.conf
[ -n "$RUNDIR" ] || fail "guest.conf names no rundir"

# 3. The new root: host / read-only, with fresh /proc /sys /dev /tmp /run on top, then the shares.
N=/newroot
mount -t 9p -o "$P9OPTS,cache=loose,ro" hostroot $N || fail "cannot mount the host root (9p tag hostroot)"
mount -t proc proc $N/proc || fail "cannot mount /proc in the new root"
mount -t sysfs sysfs $N/sys || fail "cannot mount /sys in the new root"
mount -t devtmpfs devtmpfs $N/dev || fail "cannot mount /dev in the new root"
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $N/dev/pts || fail "cannot mount /dev/pts"
mount -t tmpfs -o mode=1777 tmpfs $N/dev/shm || fail "cannot mount /dev/shm"
mount -t tmpfs -o mode=1777 tmpfs $N/tmp || fail "cannot mount tmpfs on /tmp"
mount -t tmpfs -o mode=0755 tmpfs $N/run || fail "cannot mount tmpfs on /run"
if [ -d $N/var/tmp ]; then mount -t tmpfs -o mode=1777 tmpfs $N/var/tmp || fail "cannot mount tmpfs on /var/tmp"; fi

# busybox, last in the command's PATH, in case the host lacks a tool.
# (/bin holds busybox and relative applet symlinks: one cp, not hundreds of ln processes)
mkdir -p $N/run/emuhost
cp -a /bin $N/run/emuhost/bin || fail "cannot copy busybox into /run/emuhost/bin"

# Shares, parents before children (run.sh sorted them); the run folder is bound, 9p tags mount once.
echo "$SHARES" | while read -r tag path; do
    [ -n "$tag" ] || continue
    mkdir -p "$N$path" 2>/dev/null
    [ -d "$N$path" ] || fail "share $path: no such folder inside the guest"
    if [ "$tag" = emurun ]; then
        mount -o bind /emurun "$N$path" || fail "cannot bind the run folder at $path"
    else
        mount -t 9p -o "$P9OPTS,cache=mmap" "$tag" "$N$path" || fail "cannot mount share $path (9p tag $tag)"
    fi
done || stop
stamp "filesystems mounted"

# 4. /dev/kvm must be there and work.
[ -c /dev/kvm ] || fail "/dev/kvm missing after loading kvm_amd (dmesg: $(dmesg | grep -iE 'kvm|svm' | tail -n 3 | tr '\n' ' '))"
if [ -n "$PROBE" ]; then
    env -i PATH=/usr/bin:/bin chroot $N "$PROBE" -q
    rc=$?
    [ $rc = 0 ] || fail "/dev/kvm does not work inside the emulated host ($PROBE exited $rc; dmesg: $(dmesg | grep -iE 'kvm|svm' | tail -n 3 | tr '\n' ' '))"
    stamp "kvm_probe ok"
fi

# 5. The command: output on the virtio serial port that QEMU connects to run.sh's stdout.
port=
i=0
while :; do
    for p in /dev/vport*p1; do [ -c "$p" ] && port=$p; done
    [ -n "$port" ] && break
    i=$((i + 1))
    [ $i -lt 50 ] || fail "no virtio serial port for the command's output (/dev/vport*p1)"
    usleep 100000
done

read -r up _ </proc/uptime
echo "$up" >/emurun/boot-seconds
stamp "running command"
# The port read and written through one open: run.sh's rescue tick (tick.py, README.md "Lost
# timer interrupts") arrives on it as bytes, read and dropped here, each one an interrupt.
exec 3<>"$port"
cat <&3 >/dev/null &
drain=$!
env -i PATH=/usr/bin:/bin HOME=/ chroot $N /bin/bash "$RUNDIR/cmd.sh" </dev/null >&3 2>&1
rc=$?
kill "$drain" 2>/dev/null
echo "$rc" >/emurun/status.tmp && mv /emurun/status.tmp /emurun/status
stamp "command exited $rc"
stop
