#!/usr/bin/env python3
"""The emulated host's rescue tick (started by run.sh next to QEMU).

    tick.py PID FIFO [INTERVAL-MS]

Writes one byte to FIFO (QEMU's stdin: the stdio chardev behind the emulated host's virtio serial
port, which init.sh drains) every INTERVAL-MS (default 20) until PID (timeout(1) running QEMU)
exits. Each byte is a device interrupt in the emulated host, and every interrupt makes QEMU look
at the local APIC again: a timer interrupt that QEMU's TCG lost (README.md, "Lost timer
interrupts") is then taken at most INTERVAL-MS late instead of never. Never blocks on a full FIFO
(the guest not reading yet): the byte is dropped. Prints nothing; exits 0.
"""
import errno
import os
import sys
import time


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    pid = int(sys.argv[1])
    interval = (int(sys.argv[3]) if len(sys.argv) == 4 else 20) / 1000.0
    try:
        fd = os.open(sys.argv[2], os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return 0
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            return 0
        try:
            os.write(fd, b"\0")
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                return 0
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
