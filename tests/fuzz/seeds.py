#!/usr/bin/env python3
"""Writes seed inputs for a fuzz harness (its input format is described atop the harness), so the
fuzzer starts from inputs that reach deep into the code:

    tests/fuzz/seeds.py init_job DIR     fuzz_init_job.c: job files with every key, escapes, and
                                         the malformations the unit tests cover
"""
import os
import sys


def init_job_seeds():
    head = b'version 1\narg /bin/sh\narg -c\narg echo%20hi\n'
    root = b'root /dev/vda squashfs\n'
    return {
        'minimal': b'version 1\narg /bin/true\n' + root,
        'full': head + b'env PATH=/usr/bin:/bin\nenv A=%25%0A\ncwd /work\nroot /dev/vda ext4\n'
                b'overlay disk /dev/vdd ext4\ndisk /dev/vdb ext4 /data ro\ndisk /dev/vdc ext2 - rw\n'
                b'max_threads 64\nmemory 268435456\n',
        'tmpfs': head + root + b'overlay tmpfs\n',
        'escapes': b'version 1\narg %C3%a9%20%25\narg \n' + root,
        'bad-escape': head + b'arg %G1\n' + root,
        'nul': head.replace(b'echo', b'ec\0ho') + root,
        'order': head + root + b'cwd /\n',
        'unknown': head + b'user x\n' + root,
        'truncated': head + b'root /dev/vda squashfs',
        'long': b'version 1\narg ' + b'a' * 70000 + b'\n' + root,
    }


HARNESSES = {'init_job': init_job_seeds}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in HARNESSES:
        sys.exit('usage: seeds.py %s DIR' % '|'.join(sorted(HARNESSES)))
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, data in HARNESSES[sys.argv[1]]().items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
