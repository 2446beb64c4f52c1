#!/usr/bin/env python3
"""Host peers that never answer, for the blocking-call cases (tests/integration/blocking_cases.sh).

  block_peer.py ROLE:PORT...

Roles, each on 127.0.0.1:PORT:
  hold        tcp: accept every connection with a tiny receive buffer; never read, never send
  stuck       tcp: a listener whose accept queue is full, so a further connect never completes
  silent      udp: bound, never answers
  udp-filter  udp: to each datagram at PORT answer from PORT+1 (a source the job has no grant
              for) "bad", then from PORT "good-<what it got>"; to "bad-only" only the first,
              to "good-only" only the second

Prints "ready" once every role listens; runs until killed (at most 120 s).
"""
import select
import socket
import sys
import time

ADDR = "127.0.0.1"


def main():
    listeners, udp, keep = [], {}, []
    for spec in sys.argv[1:]:
        role, port = spec.split(":")
        port = int(port)
        if role in ("hold", "stuck"):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # inherited by accepted ones
            s.bind((ADDR, port))
            s.listen(0 if role == "stuck" else 16)
            if role == "stuck":  # fill the accept queue: later SYNs are dropped
                for _ in range(4):
                    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    c.setblocking(False)
                    try:
                        c.connect((ADDR, port))
                    except BlockingIOError:
                        pass
                    keep.append(c)
                time.sleep(0.2)
            else:
                listeners.append(s)
            keep.append(s)
        elif role in ("silent", "udp-filter"):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ADDR, port))
            keep.append(s)
            if role == "udp-filter":
                other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                other.bind((ADDR, port + 1))
                keep.append(other)
                udp[s] = other
        else:
            sys.exit("block_peer.py: unknown role " + role)
    print("ready", flush=True)
    end = time.time() + 120
    while time.time() < end:
        r, _, _ = select.select(listeners + list(udp), [], [], 1.0)
        for s in r:
            if s in listeners:
                c, _ = s.accept()
                keep.append(c)  # never read, never written
                continue
            data, src = s.recvfrom(65536)
            what = data.decode(errors="replace")
            if what != "good-only":
                udp[s].sendto(b"bad", src)
                time.sleep(0.05)
            if what != "bad-only":
                s.sendto(b"good-" + data, src)


if __name__ == "__main__":
    main()
