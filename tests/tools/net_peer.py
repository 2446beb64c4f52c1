#!/usr/bin/env python3
"""The host side of the network cases (tests/integration/net_cases.sh) and of bench/net.sh.

  net_peer.py echo ADDR PORT [N]     tcp: serve N connections (default 1), echoing until EOF
  net_peer.py udp ADDR PORT [N]      udp: echo N datagrams (default 2) to their sender
  net_peer.py sink ADDR PORT         tcp: one connection, count bytes to EOF: "received=N"
  net_peer.py hold ADDR PORT [S]     tcp: one connection; after S seconds (default: never)
                                     send "x"; keep it open until the peer closes it
  net_peer.py connect ADDR PORT MSG  tcp client: send MSG, print what comes back
  net_peer.py source ADDR PORT MIB [N]  tcp: serve N connections (default 1), sending MIB
                                     mebibytes to each, then closing it

Servers print "ready" on stdout once listening and exit after serving (or after 60 s idle).
"""
import socket
import sys
import time


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listener(addr, port):
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)
    s.settimeout(60)
    print("ready", flush=True)
    return s


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "echo":
        s = listener(addr, port)
        for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 1):
            c, _ = s.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
            c.close()
    elif mode == "udp":
        s = socket.socket(fam(addr), socket.SOCK_DGRAM)
        s.bind((addr, port))
        s.settimeout(60)
        print("ready", flush=True)
        for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 2):
            b, src = s.recvfrom(65536)
            s.sendto(b, src)
    elif mode == "sink":
        s = listener(addr, port)
        c, _ = s.accept()
        n = 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            n += len(b)
        print("received=%d" % n, flush=True)
    elif mode == "hold":
        s = listener(addr, port)
        c, _ = s.accept()
        if len(sys.argv) > 4:
            time.sleep(float(sys.argv[4]))
            c.sendall(b"x")
        c.settimeout(60)
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass
    elif mode == "source":
        s = listener(addr, port)
        chunk = bytes(range(256)) * 4096
        for _ in range(int(sys.argv[5]) if len(sys.argv) > 5 else 1):
            c, _ = s.accept()
            for _ in range(int(sys.argv[4])):
                c.sendall(chunk)
            c.close()
    elif mode == "connect":
        c = socket.create_connection((addr, port), timeout=30)
        c.sendall(sys.argv[4].encode())
        print(c.recv(4096).decode(), flush=True)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
