#!/usr/bin/env python3
"""Writes seed inputs for a fuzz harness (its input format is described atop the harness), so the
fuzzer starts from inputs that reach deep into the code:

    tests/fuzz/seeds.py virtq DIR   fuzz_virtq.c: well-formed queues with chains of every shape,
                                    and the malformations the unit tests cover
    tests/fuzz/seeds.py virtio_dev DIR  fuzz_virtio_dev.c: a driver's whole set-up of a disk (read,
                                    write, flush requests) and of a console (the port handshake,
                                    input and output), then what a driver does next
    tests/fuzz/seeds.py init_job DIR    fuzz_init_job.c: job files with every key, escapes, and
                                    the malformations the unit tests cover
    tests/fuzz/seeds.py image_check DIR fuzz_image_check.c: ext2/3/4, squashfs and erofs
                                    superblocks, good and with each defect the unit tests cover
    tests/fuzz/seeds.py modules_order DIR fuzz_modules_order.c: the order file
                                    scripts/linux-kernel.sh writes, and malformed lines
    tests/fuzz/seeds.py keeper_msg DIR    fuzz_keeper_msg.c: a VMM's messages to its ledger keeper
    tests/fuzz/seeds.py quota_budget DIR  fuzz_quota_budget.c: every kind of budget item of
                                    `isovm quota set`, and malformed ones
    tests/fuzz/seeds.py http_request DIR  fuzz_http_request.c: request heads as Prometheus,
                                    curl and Python send them, other methods and paths, and the
                                    malformations test_http_request covers
    tests/fuzz/seeds.py pool_request DIR  fuzz_pool_request.c: launch requests as isovm launch
                                    --pool sends them, and the refusals test_pool_wire covers
    tests/fuzz/seeds.py exec_script DIR fuzz_exec_script.c: #! lines, blanks, NULs, a long name
    tests/fuzz/seeds.py sigframe DIR    fuzz_sigframe.c: signal frames rt_sigreturn reads
    tests/fuzz/seeds.py guest_mem DIR   fuzz_guest_mem.c: scripts mapping, touching, copying,
                                    dropping and unmapping, file ranges split and truncated,
                                    and the limit reached
    tests/fuzz/seeds.py lnet_frame DIR  fuzz_lnet_frame.c: guest frames: UDP datagrams of
                                    several sizes, with options and without a checksum, each
                                    malformation test_lnet covers, ARP requests, TCP SYNs
"""
import os
import struct
import sys

DESC, AVAIL, USED = 0x000, 0x400, 0x600  # offsets in the rings' region (4 KiB at most)
BASES = (0, 0x100000000, 0xffffffffffffe000)  # the regions' guest addresses
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def seed(size_log2, chains, region=0, extra=None, script=b'', avail_idx=None):
    """chains: lists of (addr, len, flags, next) descriptors by index; the heads published in order."""
    size = 1 << size_log2
    ram = bytearray(0x1000)
    heads = []
    for i, (addr, length, flags, nxt) in sorted(chains.items()):
        struct.pack_into('<QIHH', ram, DESC + 16 * i, addr, length, flags, nxt)
    for h in (extra or []):
        heads.append(h)
    for k, h in enumerate(heads):
        struct.pack_into('<H', ram, AVAIL + 4 + 2 * (k % size), h)
    struct.pack_into('<H', ram, AVAIL + 2, len(heads) if avail_idx is None else avail_idx)
    hdr = struct.pack('<BBHHHH', size_log2, region, DESC, AVAIL, USED, len(script))
    return hdr + bytes(ram) + script


def virtq_seeds():
    buf = 0xa00
    pop = bytes([0, 15, 0, 0, 0])
    seeds = {
        'one': seed(3, {0: (buf, 16, 0, 0)}, extra=[0], script=pop),
        'rw': seed(3, {0: (buf, 16, F_NEXT, 1), 1: (buf + 16, 512, F_NEXT | F_WRITE, 2),
                       2: (buf + 600, 1, F_WRITE, 0)}, extra=[0], script=pop),
        'many': seed(4, {i: (buf + 32 * i, 32, F_NEXT if i % 4 != 3 else 0, i + 1) for i in range(16)},
                     extra=[0, 4, 8, 12], script=pop * 2),
        'full': seed(2, {0: (buf, 8, F_NEXT, 1), 1: (buf, 8, F_NEXT, 2), 2: (buf, 8, F_NEXT, 3),
                         3: (buf, 8, F_WRITE, 0)}, extra=[0]),
        'loop': seed(3, {0: (buf, 16, F_NEXT, 1), 1: (buf, 16, F_NEXT, 0)}, extra=[0]),
        'range': seed(3, {0: (buf, 16, F_NEXT, 9)}, extra=[0]),
        'indirect': seed(3, {0: (buf, 16, F_INDIRECT, 0)}, extra=[0]),
        'zero': seed(3, {0: (buf, 0, 0, 0)}, extra=[0]),
        'wrap': seed(3, {0: (0xfffffffffffffff0, 0x20, 0, 0)}, extra=[0]),
        'top': seed(3, {0: (BASES[2] + 0xf00, 0x100, F_WRITE, 0)}, region=2, extra=[0], script=pop),
        'top-past': seed(3, {0: (BASES[2] + 0xf00, 0x101, F_WRITE, 0)}, region=2, extra=[0]),
        'high': seed(3, {0: (BASES[1] + buf, 0x100, 0, 0)}, region=1, extra=[0], script=pop),
        'jump': seed(3, {0: (buf, 16, 0, 0)}, extra=[0], avail_idx=9),
        'script': seed(3, {0: (buf, 16, 0, 0), 1: (buf, 16, F_WRITE, 0)}, extra=[0, 1],
                       script=pop + bytes([2, 0, 0, 3, 0]) + bytes([1]) + struct.pack('<HH', AVAIL + 6, 1) + pop),
        'overlap': seed(3, {0: (DESC, 128, F_WRITE, 0)}, extra=[0], script=pop + bytes([2, 0, 0, 2, 0]) + pop),
    }
    return seeds


# fuzz_virtio_dev.c: virtio-mmio registers and the op codes of its steps
STATUS, DRV_FEAT, DRV_FEAT_SEL, QSEL, QNUM, QREADY, QNOTIFY, IACK = 0x70, 0x20, 0x24, 0x30, 0x38, 0x44, 0x50, 0x64
QDESC, QAVAIL, QUSED = 0x80, 0x90, 0xa0
W, R, NOTIFY, CLOCK, POKE, HOST = range(6)


def step(op, off=0, val=0, size=4):
    return struct.pack('<BBHI', op, size, off, val)


def dev_input(device, image, steps):
    return struct.pack('<BH', device, len(image)) + bytes(image) + b''.join(steps)


def ring(q):
    """queue q's descriptor table, avail and used rings (8 entries)"""
    return 0x300 * q, 0x300 * q + 0x100, 0x300 * q + 0x200


def put_chain(img, q, slot, descs, heads_before):
    """descs: (addr, len, flags) on descriptors slot.. of queue q, published as entry heads_before"""
    d, a, _ = ring(q)
    for k, (addr, length, flags) in enumerate(descs):
        nxt = slot + k + 1 if k + 1 < len(descs) else 0
        struct.pack_into('<QIHH', img, d + 16 * (slot + k), addr, length, flags | (F_NEXT if k + 1 < len(descs) else 0), nxt)
    struct.pack_into('<H', img, a + 4 + 2 * heads_before, slot)
    struct.pack_into('<H', img, a + 2, heads_before + 1)


def setup_steps(features, nqueues):
    st = [step(W, STATUS, 0), step(W, STATUS, 1), step(W, STATUS, 3),
          step(W, DRV_FEAT_SEL, 0), step(W, DRV_FEAT, features & 0xffffffff),
          step(W, DRV_FEAT_SEL, 1), step(W, DRV_FEAT, features >> 32), step(W, STATUS, 11)]
    for q in range(nqueues):
        d, a, u = ring(q)
        st += [step(W, QSEL, q), step(W, QNUM, 8), step(W, QDESC, d), step(W, QAVAIL, a), step(W, QUSED, u),
               step(W, QREADY, 1)]
    return st + [step(W, STATUS, 15)]


def dev_seeds():
    seeds = {}
    for device, feats in ((0, 1 << 32 | 0x244), (1, 1 << 32 | 0x64)):
        img = bytearray(0x1000)
        struct.pack_into('<IIQ', img, 0x800, 0, 0, 1)       # IN sector 1
        struct.pack_into('<IIQ', img, 0x810, 1, 0, 2)       # OUT sector 2
        struct.pack_into('<IIQ', img, 0x820, 4, 0, 0)       # FLUSH
        struct.pack_into('<IIQ', img, 0x830, 8, 0, 0)       # GET_ID
        put_chain(img, 0, 0, [(0x800, 16, 0), (0xa00, 512, F_WRITE), (0xf00, 1, F_WRITE)], 0)
        put_chain(img, 0, 3, [(0x810, 16, 0), (0xc00, 512, 0), (0xf10, 1, F_WRITE)], 1)
        put_chain(img, 0, 6, [(0x820, 16, 0), (0xf20, 1, F_WRITE)], 2)
        steps = setup_steps(feats, 1) + [step(W, QNOTIFY, 0), step(CLOCK, val=400000), step(NOTIFY, val=0),
                                         step(CLOCK, val=2000000), step(R, IACK - 4), step(W, IACK, 1)]
        seeds['disk%d' % device] = dev_input(device, img, steps)
        seeds['disk%d-fail' % device] = dev_input(device, img, [step(HOST, val=1)] + steps)
        put_chain(img, 0, 0, [(0x830, 16, 0), (0xa00, 20, F_WRITE), (0xf00, 1, F_WRITE)], 3)
        seeds['disk%d-id' % device] = dev_input(device, img, steps + [step(NOTIFY, val=0)])
    img = bytearray(0x2000)
    msgs = [(0xffffffff, 0, 1), (0, 3, 1), (1, 3, 1), (2, 3, 1), (0, 6, 1), (1, 6, 1)]
    for k, (pid, ev, val) in enumerate(msgs):
        struct.pack_into('<IHH', img, 0x1a00 + 8 * k, pid, ev, val)
        put_chain(img, 3, k, [(0x1a00 + 8 * k, 8, 0)], k)
    for k in range(6):
        put_chain(img, 2, k, [(0x1800 + 64 * k, 64, F_WRITE)], k)
    for k in range(2):
        put_chain(img, 0, k, [(0x1c00 + 64 * k, 64, F_WRITE)], k)
    img[0x1e00:0x1e05] = b'hello'
    put_chain(img, 5, 0, [(0x1e00, 5, 0)], 0)
    steps = setup_steps(1 << 32 | 2, 8) + [step(W, QNOTIFY, 3), step(HOST, val=0x00ff0f00), step(NOTIFY, val=5),
                                            step(HOST, val=1 | 1 << 2), step(NOTIFY, val=0), step(HOST, val=0x0300)]
    seeds['console'] = dev_input(2, img, steps)
    seeds['console-end'] = dev_input(2, img, [step(HOST, val=1)] + setup_steps(1 << 32 | 2, 8) + [
        step(W, QNOTIFY, 3), step(HOST, val=2 | 2 << 2), step(NOTIFY, val=5)])
    return seeds


def init_job_seeds():
    head = b'version 1\narg /bin/sh\narg -c\narg echo%20hi\n'
    root = b'root /dev/vda squashfs\n'
    return {
        'minimal': b'version 1\narg /bin/true\n' + root,
        'full': head + b'env PATH=/usr/bin:/bin\nenv A=%25%0A\ncwd /work\nroot /dev/vda ext4\n'
                b'overlay disk /dev/vdd ext4\ndisk /dev/vdb ext4 /data ro\ndisk /dev/vdc ext2 - rw\n'
                b'max_threads 64\nmemory 268435456\ntime 1700000000 123456789\n'
                b'seed 000102030405060708090a0b0c0d0e0fF0E1D2C3B4A5968778695A4B3C2D1E0F\n',
        'tmpfs': head + root + b'overlay tmpfs\n',
        'prepare': b'version 1\nprepare 1\n' + root + b'overlay tmpfs\n',
        'prepare-arg': b'version 1\nprepare 1\narg x\n' + root,
        'prepare-late': head + b'prepare 1\n' + root,
        'time': head + root + b'time 4611686018427387904 999999999\n',
        'seed': head + root + b'seed ' + b'aB' * 32 + b'\n',
        'time-nsec': head + root + b'time 1 1000000000\n',
        'time-sign': head + root + b'time -1 0\n',
        'seed-short': head + root + b'seed ' + b'0' * 63 + b'\n',
        'seed-hex': head + root + b'seed ' + b'0' * 62 + b'0g\n',
        'time-seed-order': head + root + b'seed ' + b'1' * 64 + b'\ntime 0 0\n',
        'time-twice': head + root + b'time 0 0\ntime 0 0\n',
        'escapes': b'version 1\narg %C3%a9%20%25\narg \n' + root,
        'bad-escape': head + b'arg %G1\n' + root,
        'nul': head.replace(b'echo', b'ec\0ho') + root,
        'order': head + root + b'cwd /\n',
        'unknown': head + b'user x\n' + root,
        'truncated': head + b'root /dev/vda squashfs',
        'long': b'version 1\narg ' + b'a' * 70000 + b'\n' + root,
        'shares-net': head + root + b'overlay tmpfs\ndisk /dev/vdb ext4 /data ro\n'
                      b'share /home/u/src rw\nshare /home/u/src/out%20dir ro\nshare /data/in rw\n'
                      b'net 10.0.2.15 24\nhost ep0.isovm 10.0.2.100\nhost ep1.isovm 10.0.2.101\n'
                      b'nameserver 10.0.2.101\nmemory 268435456\n',
        'share-ro': head + root + b'share /opt ro\n',
        'share-relative': head + root + b'share opt ro\n',
        'share-dotdot': head + root + b'share /a/../b rw\n',
        'share-slash': head + root + b'share /a/ rw\n',
        'share-root': head + root + b'share / rw\n',
        'share-comma': head + root + b'share /a%2Cb rw\n',
        'share-twice': head + root + b'share /a rw\nshare /a ro\n',
        'share-order': head + root + b'share /a/b rw\nshare /c ro\nshare /a ro\n',
        'share-disk': head + root + b'disk /dev/vdb ext4 /d/x ro\nshare /d rw\n',
        'share-access': head + root + b'share /a RW\n',
        'share-etc': head + root + b'share /etc ro\nhost a.b 1.2.3.4\nnameserver 1.1.1.1\n',
        'net-32': head + root + b'net 10.0.2.15 32\n',
        'net-bad': head + root + b'net 10.0.2.256 24\n',
        'net-zero': head + root + b'net 10.0.02.15 24\n',
        'net-prefix': head + root + b'net 10.0.2.15 33\n',
        'net-broadcast': head + root + b'net 10.0.2.255 24\n',
        'net-twice': head + root + b'net 10.0.2.15 24\nnet 10.0.2.16 24\n',
        'host-label': head + root + b'host a-.b 1.2.3.4\n',
        'host-digits': head + root + b'host 1.2.3.4 1.2.3.4\n',
        'host-twice': head + root + b'host a.b 1.2.3.4\nhost A.B 1.2.3.5\n',
        'nameserver': head + root + b'nameserver 1.1.1.1\n',
        'nameserver-multicast': head + root + b'nameserver 224.0.0.251\n',
    }


def image_check_seeds():
    """the claimed file size (u64 LE), then the image's first 4 KiB"""
    def img(size, head):
        return struct.pack('<Q', size) + bytes(head)

    def ext(log_bs=2, blocks=1024, compat=0, incompat=0x40, ro=0, rev=1, inodes=64, hi=None):
        b = bytearray(4096)
        struct.pack_into('<II', b, 1024, inodes, blocks)
        struct.pack_into('<I', b, 1024 + 24, log_bs)
        struct.pack_into('<H', b, 1024 + 56, 0xEF53)
        struct.pack_into('<I', b, 1024 + 76, rev)
        struct.pack_into('<III', b, 1024 + 92, compat, incompat, ro)
        if hi is not None:
            struct.pack_into('<I', b, 1024 + 0x150, hi)
        return b

    def sq(major=4, comp=6, bsize=131072, blog=17, used=8000):
        b = bytearray(4096)
        b[0:4] = b'hsqs'
        struct.pack_into('<I', b, 12, bsize)
        struct.pack_into('<HHxxxxH', b, 20, comp, blog, major)
        struct.pack_into('<Q', b, 40, used)
        return b

    def ero(bits=12, blocks=3):
        b = bytearray(4096)
        struct.pack_into('<I', b, 1024, 0xE0F5E1E2)
        b[1024 + 12] = bits
        struct.pack_into('<I', b, 1024 + 36, blocks)
        return b

    mib = 1 << 20
    return {
        'ext4': img(4 * mib, ext()), 'ext3': img(4 * mib, ext(incompat=2, compat=4)),
        'ext2': img(4 * mib, ext(incompat=2)), 'ext4-csum': img(4 * mib, ext(incompat=0, ro=0x400)),
        'ext4-trunc': img(2 * mib, ext()), 'ext4-64bit': img(1 << 44, ext(incompat=0xc0, hi=1)),
        'ext4-overflow': img(1 << 44, ext(incompat=0xc0, hi=0xffffffff, log_bs=6)),
        'ext-bs': img(4 * mib, ext(log_bs=7)), 'ext-rev': img(4 * mib, ext(rev=2)),
        'ext-noblocks': img(4 * mib, ext(blocks=0)), 'ext-noinodes': img(4 * mib, ext(inodes=0)),
        'ext-cut': img(4 * mib, ext()[:2047]),
        'squashfs': img(8192, sq()), 'squashfs-v3': img(8192, sq(major=3)),
        'squashfs-lzma': img(8192, sq(comp=2)), 'squashfs-comp': img(8192, sq(comp=9)),
        'squashfs-blog': img(8192, sq(blog=16)), 'squashfs-used': img(8192, sq(used=1 << 63)),
        'squashfs-cut': img(8192, sq()[:95]),
        'erofs': img(3 * 4096, ero()), 'erofs-bits': img(3 * 4096, ero(bits=9)),
        'erofs-noblocks': img(3 * 4096, ero(blocks=0)), 'erofs-trunc': img(4096, ero()),
        'zeros': img(mib, bytes(4096)), 'tiny': img(512, b'hsqs'),
    }


def modules_order_seeds():
    real = (b'virtio_ring.ko\nvirtio.ko\nvirtio_mmio.ko\nvirtio_blk.ko\nvirtio_console.ko\n'
            b'crc32c_generic.ko ext4 ext3 ext2 erofs\nsquashfs.ko squashfs\njbd2.ko ext4 ext3 ext2\n'
            b'ext4.ko ext4 ext3 ext2\nlibcrc32c.ko erofs\nerofs.ko erofs\noverlay.ko overlay\n')
    return {
        'real': real,
        'untagged': b'virtio.ko\nvirtio_console.ko\n',
        'bad-name': b'../x.ko\n.hidden.ko\nx.o\n',
        'bad-tags': b'a.ko EXT4\nb.ko  ext4\nc.ko ext4 \nd.ko ' + b'x' * 33 + b'\n',
        'many-tags': b'a.ko ' + b' '.join(b't%d' % i for i in range(20)) + b'\n',
        'nul': b'a.ko ext\0 4\n',
        'no-lf': b'a.ko ext4',
    }


def lsnap_seeds():
    """Snapshot files: 'GEN!' inputs are made into sound files by the harness (lsnap_write) and read
    back; the others are headers with each field wrong in turn (struct lsnap_header, 128 bytes)."""
    def hdr(magic=b'ISOVMSN1', version=1, size=128, mem=16384, nvcpus=1, state=0, log_len=0,
            state_off=4096, log_off=8192, ram_off=8192):
        return (magic + struct.pack('<II', version, size) + b'\x5a' * 32 +
                struct.pack('<QIIQQQQ', mem, nvcpus, state, state_off, log_off, log_len, ram_off) +
                bytes(32))
    return {
        'gen-empty': b'GEN!',
        'gen-log': b'GEN!' + b'[    0.000000] Linux version 6.1\n' * 4,
        'gen-ram': b'GEN!' + bytes(range(256)) * 64,
        'header': hdr() + bytes(4096 - 128),
        'bad-magic': hdr(magic=b'ISOVMSN0'),
        'bad-version': hdr(version=2),
        'short': hdr()[:100],
        'huge-log': hdr(log_len=1 << 40),
        'huge-mem': hdr(mem=(1 << 64) - 4096),
    }


def inet_csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


GUEST_ETH = bytes([0x52, 0x55, 10, 0, 2, 2]) + bytes([2, 0x15, 0x15, 0, 0, 1]) + b'\x08\x00'


def ipv4(proto, src, dst, l4, options=b'', frag=0x4000, total=None, ihl=None):
    """An IPv4 packet with a right header checksum (total and ihl may lie)."""
    hl = 20 + len(options)
    ihl = hl // 4 if ihl is None else ihl
    total = hl + len(l4) if total is None else total
    h = bytearray(struct.pack('>BBHHHBBH4s4s', 0x40 | ihl, 0, total, 0, frag, 64, proto, 0,
                              bytes(src), bytes(dst)) + options)
    struct.pack_into('>H', h, 10, inet_csum(bytes(h)))
    return bytes(h) + l4


def udp(src, dst, sport, dport, payload, ulen=None, csum=True):
    ulen = 8 + len(payload) if ulen is None else ulen
    u = bytearray(struct.pack('>HHHH', sport, dport, ulen, 0) + payload)
    if csum:
        ph = bytes(src) + bytes(dst) + struct.pack('>BBH', 0, 17, len(u))
        struct.pack_into('>H', u, 6, inet_csum(ph + bytes(u)) or 0xffff)
    return bytes(u)


def lnet_frame_seeds():
    g, e = [10, 0, 2, 15], [10, 0, 2, 102]
    seeds = {}
    for n in (0, 1, 100, 1472):
        pl = bytes((i * 31) & 0xff for i in range(n))
        seeds['udp-%d' % n] = GUEST_ETH + ipv4(17, g, e, udp(g, e, 40000, 53, pl))
    d = udp(g, e, 40000, 53, b'hello')
    seeds['udp-nocsum'] = GUEST_ETH + ipv4(17, g, e, udp(g, e, 40000, 53, b'hello', csum=False))
    seeds['udp-options'] = GUEST_ETH + ipv4(17, g, e, d, options=bytes([1, 1, 1, 0]) * 10)
    seeds['udp-padded'] = GUEST_ETH + ipv4(17, g, e, d) + bytes(20)
    seeds['bad-ihl'] = GUEST_ETH + ipv4(17, g, e, d, ihl=4)
    seeds['bad-ihl-long'] = GUEST_ETH + ipv4(17, g, e, d, ihl=15)
    seeds['bad-total'] = GUEST_ETH + ipv4(17, g, e, d, total=20 + len(d) + 1)
    seeds['bad-mf'] = GUEST_ETH + ipv4(17, g, e, d, frag=0x2000)
    seeds['bad-offset'] = GUEST_ETH + ipv4(17, g, e, d, frag=0x0010)
    seeds['bad-ulen-long'] = GUEST_ETH + ipv4(17, g, e, udp(g, e, 40000, 53, b'hello', ulen=14))
    seeds['bad-ulen-short'] = GUEST_ETH + ipv4(17, g, e, udp(g, e, 40000, 53, b'hello', ulen=12))
    bad = bytearray(GUEST_ETH + ipv4(17, g, e, d))
    bad[-1] ^= 0xff
    seeds['bad-udp-csum'] = bytes(bad)
    bad = bytearray(GUEST_ETH + ipv4(17, g, e, d))
    bad[14 + 10] ^= 1
    seeds['bad-ip-csum'] = bytes(bad)
    seeds['short-ip'] = GUEST_ETH + bytes(19)
    seeds['tcp-syn'] = GUEST_ETH + ipv4(6, g, [10, 0, 2, 100], struct.pack(
        '>HHIIBBHHH', 40000, 8080, 1, 0, 0x50, 0x02, 65535, 0, 0))
    seeds['icmp-echo'] = GUEST_ETH + ipv4(1, g, [10, 0, 2, 2], bytes([8, 0, 0xf7, 0xff]) + bytes(4))
    arp = struct.pack('>HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, bytes([2, 0x15, 0x15, 0, 0, 1]),
                      bytes(g), bytes(6), bytes(e))
    seeds['arp-request'] = b'\xff' * 6 + GUEST_ETH[6:12] + b'\x08\x06' + arp + bytes(18)
    return seeds


def vnet_seeds():
    """fuzz_vnet.c: a driver's set-up of virtio-net (VERSION_1, MAC, MTU), tx chains good and bad,
    rx buffers, frames offered to the guest; plain and with the buckets (flag bit 0)"""
    img = bytearray(0x2000)
    # an IPv4 TCP SYN and a UDP datagram as frames after 12-byte headers
    eth = bytes(6) + bytes([2, 0x15, 0x15, 0, 0, 1]) + b'\x08\x00'
    g, e = [10, 0, 2, 15], [10, 0, 2, 100]
    syn = eth + ipv4(6, g, e, struct.pack('>HHIIBBHHH', 40000, 8080, 1, 0, 0x50, 0x02, 65535, 0, 0))
    udp_frame = eth + ipv4(17, g, e, udp(g, e, 40000, 53, b'hello'))
    img[0x1000 + 12:0x1000 + 12 + len(syn)] = syn
    img[0x1100 + 12:0x1100 + 12 + len(udp_frame)] = udp_frame
    put_chain(img, 1, 0, [(0x1000, 12 + len(syn), 0)], 0)
    put_chain(img, 1, 1, [(0x1100, 12, 0), (0x110c, len(udp_frame), 0)], 1)
    put_chain(img, 1, 3, [(0x1200, 8, 0)], 2)                     # short header
    put_chain(img, 1, 4, [(0x1000, 12 + len(syn), 0), (0x1800, 64, F_WRITE)], 3)  # writable part
    for k in range(4):
        put_chain(img, 0, k, [(0x1400 + 0x100 * k, 0x100 if k else 8, F_WRITE)], k)
    steps = setup_steps(1 << 32 | 1 << 5 | 1 << 3, 2) + [
        step(W, QNOTIFY, 1), step(HOST, off=0x1000 // 4 + 3, val=60 << 8), step(HOST, off=0x400, val=(60 << 8) | 1),
        step(CLOCK, val=500000000), step(NOTIFY, val=0), step(HOST, off=0x400, val=200 << 8 | 4),
        step(R, IACK - 4), step(W, IACK, 1)]
    return {'net': dev_input(0, img, steps), 'net-throttled': dev_input(1, img, steps),
            'net-syn-frame': syn, 'net-udp-frame': udp_frame}


def p9_seeds():
    """fuzz_p9.c: request sequences (u16 length, then the message) after its session (fid 1 on
    /w rw, fid 2 on /r ro): walks, opens, reads, writes, creates, listings, renames, removals,
    escapes; a first byte of 0 keeps each size field as the input has it"""
    def s(t):
        b = t.encode()
        return struct.pack('<H', len(b)) + b

    def msg(typ, body, tag=1):
        return struct.pack('<IBH', 7 + len(body), typ, tag) + body

    def seq(*msgs):
        return b'\x00' + b''.join(struct.pack('<H', len(m)) + m for m in msgs)
    walk = lambda fid, new, *names: msg(110, struct.pack('<IIH', fid, new, len(names)) + b''.join(s(n) for n in names))
    lopen = lambda fid, fl: msg(12, struct.pack('<II', fid, fl))
    read = lambda fid, off, n: msg(116, struct.pack('<IQI', fid, off, n))
    write = lambda fid, off, d: msg(118, struct.pack('<IQI', fid, off, len(d)) + d)
    lcreate = lambda fid, name, fl: msg(14, struct.pack('<I', fid) + s(name) + struct.pack('<III', fl, 0o644, 0))
    return {
        'p9-read': seq(walk(1, 3, 'a.txt'), lopen(3, 0), read(3, 0, 100), msg(120, struct.pack('<I', 3))),
        'p9-create-write': seq(walk(1, 3, 'sub'), lcreate(3, 'f', 2), write(3, 0, b'data'), read(3, 0, 4),
                               msg(24, struct.pack('<IQ', 3, 0x7ff))),
        'p9-readdir': seq(walk(1, 3), lopen(3, 0o200000), msg(40, struct.pack('<IQI', 3, 0, 4096))),
        'p9-names': seq(msg(72, struct.pack('<I', 1) + s('d') + struct.pack('<II', 0o755, 0)),
                        msg(74, struct.pack('<I', 1) + s('d') + struct.pack('<I', 1) + s('e')),
                        msg(16, struct.pack('<I', 1) + s('l') + s('d/x') + struct.pack('<I', 0)),
                        msg(76, struct.pack('<I', 1) + s('e') + struct.pack('<I', 0x200))),
        'p9-escape': seq(walk(1, 3, '..', 'esc', 'x'), walk(1, 4, 'a/b'), walk(2, 5, 'x'),
                         lcreate(2, 'no', 1)),
        'p9-setattr': seq(walk(1, 3, 'a.txt'), msg(26, struct.pack('<IIIIIQQQQQ', 3, 0x3f, 0o600, 0, 0, 3, 1, 2, 3, 4))),
    }


def quota_budget_seeds():
    """Every kind of budget item, and the refusals test_quota covers."""
    items = ['cpu=10h/day', 'cpu=90m/hour', 'cpu=1500ms/week', 'io=200GiB/month', 'net=5GiB/week',
             'jobs=4', 'memory=8GiB', 'cpu=unlimited', 'jobs=unlimited', 'cpu=10h', 'cpu=10h/year',
             'cpu=10/day', 'jobs=4/day', 'jobs=99999999999999999999', 'memory=', '=4', 'disk=1GiB',
             'io=18446744073709551615/day', 'cpu=0.5s/hour']
    return {'item-%d' % i: it.encode() for i, it in enumerate(items)}


def http_request_seeds():
    """Request heads of `isovm quota serve`'s clients, and the refusals test_http_request covers."""
    prom = (b'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;'
            b'q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')
    seeds = {
        'prometheus': b'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: Prometheus/2.42.0\r\n'
                      b'Accept: ' + prom + b'\r\nAccept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 1\r\n\r\n',
        'curl': b'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
        'python': b'GET /metrics?x=1 HTTP/1.1\r\nAccept-Encoding: identity\r\nHost: localhost\r\n'
                  b'User-Agent: Python-urllib/3.11\r\nAccept: text/plain;q=0.9, application/openmetrics-text;q=0.8\r\n'
                  b'Connection: close\r\n\r\n',
        'head-1.0': b'HEAD /metrics HTTP/1.0\n\n',
        'post-body': b'POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
        'not-found': b'\r\nGET /metrics/x HTTP/1.1\r\nHost: a\r\nAccept: "a,b";q=0, application/openmetrics-text;q="1"\r\n\r\n',
        'accept-many': b'GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/*;q=0.2\r\naccept: application/openmetrics-text;q=0.3\r\n\r\n',
        'http2': b'GET /metrics HTTP/2.0\r\n\r\n',
        'no-host': b'GET /metrics HTTP/1.1\r\n\r\n',
        'fold': b'GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n',
        'bare-cr': b'GET /metrics HTTP/1.1\r\nHost: a\rX: b\r\n\r\n',
        'absolute': b'GET http://a/metrics HTTP/1.1\r\nHost: a\r\n\r\n',
        'tls': bytes.fromhex('160301020001000001fc0303') + bytes(32),
        'long': b'GET /metrics HTTP/1.1\r\nHost: a\r\nX-Pad: ' + b'p' * 8200 + b'\r\n\r\n',
        'garbage': b'hello world\r\n\r\n',
    }
    return seeds


def keeper_msg_seeds():
    """A VMM's messages to its ledger keeper (struct keeper_msg, 960 bytes): checkpoints, ends
    with each exit reason, BEGINs of the keeper service, and the refusals test_keeper covers."""
    def msg(typ, reason=b'', usage=(0,) * 10, magic=0x6b707271, rc=0, text=b'', job=None):
        jid, tenant, digest, tier, cpu, mem = job or (b'', b'', b'', b'', 0, 0)
        return struct.pack('<IIiI10Q3QI32s512s4x129s65s65s12s1xQQ', magic, typ, rc, 0, *usage,
                           0, 0, 0, 0, reason, text, jid, tenant, digest, tier, cpu, mem)
    use = (2 * 10**9, 3 * 10**9, 1 << 20, 4096, 10, 8192, 20, 100, 200, 5000)
    good = (b'isovm-42-00ff00ff00ff00ff', b'acme', b'a' * 64, b'hypercall', 10**9, 64 << 20)
    seeds = {'checkpoint': msg(2, usage=use), 'checkpoint-max': msg(2, usage=(2**64 - 1,) * 10),
             'begin': msg(6, job=good), 'begin-linux-nodigest': msg(6, job=(b'j', b'team-7.ci_x', b'', b'linux', 0, 0))}
    for r in ('exit', 'signal', 'oom', 'cpu-limit', 'timeout', 'killed', 'quota', 'internal-error'):
        seeds['end-' + r] = msg(4, r.encode(), use)
    seeds.update({'bad-magic': msg(2, magic=0x12345678), 'admit-from-vmm': msg(1),
                  'end-no-reason': msg(4), 'end-upper': msg(4, b'Exit'), 'end-unterminated': msg(4, b'x' * 32),
                  'short': msg(2)[:100], 'long': msg(2) + b'\0', 'checkpoint-text': msg(2, text=b'hi'),
                  'begin-bad-tenant': msg(6, job=(good[0], b'-x', good[2], good[3], 0, 0)),
                  'begin-short-digest': msg(6, job=(good[0], good[1], b'abc', good[3], 0, 0)),
                  'begin-bad-tier': msg(6, job=(good[0], good[1], good[2], b'other', 0, 0)),
                  'begin-id-slash': msg(6, job=(b'a/b', good[1], good[2], good[3], 0, 0))})
    return seeds


def pool_request_seeds():
    """isovm pool requests (pool/pool_wire.h: a 40-byte head, then argv and environment strings):
    as `isovm launch --pool` sends them, and the refusals test_pool_wire covers."""
    def req(argv, env=(), magic=0x4c505649, version=2, plen=None, umask=0o22, argc=None, envc=None):
        payload = b''.join(a + b'\0' for a in list(argv) + list(env))
        head = struct.pack('<IIIIIIQQ', magic, version, len(argv) if argc is None else argc,
                           len(env) if envc is None else envc,
                           len(payload) if plen is None else plen, umask, 10**9, 1700000000 * 10**9)
        return head + payload
    good = [b'launch', b'--pool', b'/run/p.sock', b'--memory', b'64M', b'--', b'./hello', b'a b']
    env = [b'PATH=/usr/bin:/bin', b'HOME=/root', b'ISOVM_LEDGER=/tmp/l.db', b'EMPTY=']
    return {'launch': req(good, env), 'launch-noenv': req([b'launch', b'x']),
            'bad-magic': req(good, magic=0), 'version-1': req(good, version=1),
            'one-arg': req([b'launch']), 'jail': req([b'jail', b'x']),
            'env-no-eq': req([b'launch', b'x'], [b'NOEQ']), 'env-empty-key': req([b'launch', b'x'], [b'=v']),
            'short-payload': req(good, plen=5), 'long-payload': req(good, plen=4000),
            'huge-length': req(good, plen=2**31), 'many-args': req(good, argc=70000),
            'umask-big': req(good, umask=0o7777), 'extra-strings': req(good, argc=2),
            'unterminated': req(good)[:-1]}


def guest_mem_seeds():
    """fuzz_guest_mem.c scripts: 6-byte steps (op, le16 page, count, arg, arg2)."""
    def step(op, page, n, arg=0, arg2=0):
        return struct.pack('<BHBBB', op, page, n - 1, arg, arg2)
    touch = [step(0, 512, 64, 2), step(1, 512, 1, 1), step(1, 600, 1, 0, 7), step(4, 520, 3, 1, 5),
             step(4, 530, 3, 0, 9), step(6, 512, 8), step(0, 540, 4, 0), step(0, 512, 64, 5)]
    files = [step(7, 1024, 8, 1), step(1, 1024, 1, 1), step(1, 1027, 1, 0), step(0, 1026, 1, 0),
             step(8, 0, 1, 1), step(1, 1025, 1, 0), step(4, 1024, 2, 0, 3), step(7, 2000, 4, 2),
             step(0, 1024, 8, 0)]
    limit = [step(9, 0, 1, 3), step(0, 300, 200, 2)] + [step(1, 300 + 16 * i, 1, 1) for i in range(10)]
    find = [step(0, 1000, 100, 5), step(5, 1100, 50), step(5, 4095, 200), step(3, 1000, 5, 2, 1)]
    execs = [step(0, 512, 64, 2), step(4, 512, 40, 1, 3), step(7, 700, 4, 1), step(4, 700, 2, 1),
             step(10, 512, 8, 1), step(4, 520, 3, 0), step(1, 530, 1, 1), step(4, 600, 2, 1, 1),
             step(0, 600, 4, 2), step(4, 600, 2, 1, 1),
             step(10, 600, 4), step(0, 600, 4, 2), step(4, 600, 2, 1, 1), step(6, 600, 4),
             step(10, 700, 4, 1)]
    return {'touch': b''.join(touch), 'files': b''.join(files), 'limit': b''.join(limit),
            'find': b''.join(find), 'exec': b''.join(execs) + b'\0'}


def exec_script_seeds():
    """fuzz_exec_script.c: the start of a file execve is asked to run."""
    long_name = b'#!/' + b'x' * 300
    return {'plain': b'#!/bin/sh\necho hi\n', 'arg': b'#! /usr/bin/env  python3 -u \r\nx',
            'tabs': b'#!\t/bin/sh\t-e\t\n', 'empty': b'#!   \n', 'no-lf': b'#!/bin/busybox sh',
            'nul': b'#!/bin/sh\0 -x\n', 'long': long_name, 'elf': b'\x7fELF\x02\x01\x01',
            'edge': b'#!' + b' ' * 250 + b'/bin/sh'}


def sigframe_seeds():
    """fuzz_sigframe.c: le64 rsp offset, then the job's stack from rsp - 8 (rt_sigframe)."""
    def frame(rip, rsp, flags, fp=0, mask=0):
        mc = [0] * 15 + [rsp, rip, flags]
        b = struct.pack('<QQQQiIQ', 0x401000, 6, 0, 0, 0, 0, 0)  # pretcode, uc_flags, link, stack
        b += struct.pack('<18Q', *mc) + struct.pack('<HHHH', 0x2b, 0, 0, 0x23)
        b += struct.pack('<QQQQQ', 0, 0, mask, 0, fp) + b'\0' * 64 + struct.pack('<Q', mask)
        return b + b'\0' * 128
    off = struct.pack('<Q', 4096)
    # an XSAVE state (x87, SSE, AVX: 832 bytes) 520 bytes past the frame, 64-aligned there
    # (the stack starts at 0x200000 and the frame at rsp - 8), its magics and header
    at = 0x200000 + 4096 - 8
    fpa = at + 520
    xs = bytearray(832)
    struct.pack_into('<I', xs, 24, 0x1f80)
    struct.pack_into('<IIQI', xs, 464, 0x46505853, 836, 7, 832)
    struct.pack_into('<Q', xs, 512, 7)
    xframe = frame(0x401000, 0x7fff0000, 0x246, fp=fpa)
    xsave = xframe + b'\0' * (520 - len(xframe)) + bytes(xs) + struct.pack('<I', 0x46505845)
    xs0 = bytearray(xs)  # its software bytes naming no feature (fuzz-smoke found it)
    struct.pack_into('<Q', xs0, 472, 0)
    xsave0 = xframe + b'\0' * (520 - len(xframe)) + bytes(xs0) + struct.pack('<I', 0x46505845)
    return {'good': off + frame(0x401000, 0x7fff0000, 0x246),
            'xsave': off + xsave,
            'xsave-no-features': off + xsave0,
            'kernel-rip': off + frame(0xffff800000001000, 0x7fff0000, 0x246),
            'iopl': off + frame(0x401000, 0x7fff0000, 0x3202),
            'fp-bad': off + frame(0x401000, 0x7fff0000, 0x202, fp=0x200008),
            'short': struct.pack('<Q', 65530) + b'\1' * 40}


HARNESSES = {'sigframe': sigframe_seeds, 'exec_script': exec_script_seeds, 'guest_mem': guest_mem_seeds, 'pool_request': pool_request_seeds, 'http_request': http_request_seeds, 'keeper_msg': keeper_msg_seeds, 'quota_budget': quota_budget_seeds, 'virtq': virtq_seeds, 'virtio_dev': dev_seeds, 'init_job': init_job_seeds,
             'image_check': image_check_seeds, 'modules_order': modules_order_seeds,
             'lsnap': lsnap_seeds, 'vnet': vnet_seeds, 'lnet_frame': lnet_frame_seeds, 'p9': p9_seeds}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in HARNESSES:
        sys.exit('usage: seeds.py %s DIR' % '|'.join(sorted(HARNESSES)))
    which, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seeds = HARNESSES[which]()
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
