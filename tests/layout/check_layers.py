#!/usr/bin/env python3
"""Checks the source layout against docs/architecture.md's folder table: every #include of a
project header is path-qualified from the repository root, a file includes only from its own
folder and the folders the table lets it use, the table itself has no cycle, every source
folder is in the table, and every source file opens with its one-line purpose comment.

    tests/layout/check_layers.py [REPO]     prints "N passed, N failed"; exit 1 on any failure
"""
import os
import re
import subprocess
import sys

REPO = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..'))
DOC = os.path.join(REPO, 'docs', 'architecture.md')
# Folders outside the VMM's layering: they may include any project header.
FREE = ('tests/', 'guest/', 'bench/')


def folder_of(path):
    """The layer a repository path belongs to: vmm/<sub> under vmm/, else the top folder."""
    parts = path.split('/')
    if parts[0] == 'vmm' and len(parts) > 2:
        return '/'.join(parts[:2])
    return parts[0]


def read_table():
    """{folder: set(folders it may include)} from the '| `folder/` | ... | may include |' rows."""
    allowed = {}
    in_table = False
    for line in open(DOC, encoding='utf-8'):
        if line.startswith('## '):
            in_table = line.strip().lower().startswith('## folders')
            continue
        if not in_table or not line.startswith('| `'):
            continue
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        name = cells[0].strip('`').rstrip('/')
        uses = set(re.findall(r'`([a-z0-9_/]+?)/?`', cells[-1]))
        allowed[name] = uses
    return allowed


def has_cycle(allowed):
    state = {}

    def visit(n, path):
        if state.get(n) == 1:
            return path[path.index(n):] + [n]
        if state.get(n) == 2:
            return None
        state[n] = 1
        for m in sorted(allowed.get(n, ())):
            c = visit(m, path + [n])
            if c:
                return c
        state[n] = 2
        return None

    for n in sorted(allowed):
        c = visit(n, [])
        if c:
            return c
    return None


def main():
    failures = []
    passed = 0
    if not os.path.exists(DOC):
        print('FAIL layout: %s missing' % DOC)
        print('0 passed, 1 failed')
        return 1
    allowed = read_table()
    if not allowed:
        failures.append('docs/architecture.md has no "## Folders" table of `folder/` rows')
    for f, uses in allowed.items():
        for u in uses:
            if u not in allowed:
                failures.append('docs/architecture.md: %s may include `%s/`, which is not in the table' % (f, u))
    cyc = has_cycle(allowed)
    if cyc:
        failures.append('docs/architecture.md: the folders may include each other in a cycle: ' + ' -> '.join(cyc))
    files = subprocess.run(['git', '-C', REPO, 'ls-files', '--cached', '--others', '--exclude-standard', '*.c', '*.h'],
                           capture_output=True, text=True, check=True).stdout.split()
    seen_folders = set()
    for f in files:
        if f.startswith(FREE) or not os.path.exists(os.path.join(REPO, f)):
            continue
        own = folder_of(f)
        seen_folders.add(own)
        text = open(os.path.join(REPO, f), encoding='utf-8', errors='replace').read()
        ok = True
        first = text.split('\n', 1)[0]
        if not (first.startswith('/* ') and (first.endswith('*/') or '*/' not in first)):
            failures.append('%s:1: does not open with its purpose comment (/* ... */)' % f)
            ok = False
        for no, line in enumerate(text.split('\n'), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            if '/' not in inc or not os.path.exists(os.path.join(REPO, inc)):
                failures.append('%s:%d: #include "%s" is not a path from the repository root' % (f, no, inc))
                ok = False
                continue
            to = folder_of(inc)
            if to == own:
                continue
            if own not in allowed:
                continue  # reported once below
            if to not in allowed[own]:
                failures.append('%s:%d: %s/ may not include %s (docs/architecture.md lets it use: %s)'
                                % (f, no, own, inc, ', '.join(sorted(allowed[own])) or 'nothing'))
                ok = False
        passed += ok
    for d in sorted(seen_folders - set(allowed)):
        failures.append('%s/ holds sources but is not in docs/architecture.md\'s folder table' % d)
    for msg in failures:
        print('FAIL layout: ' + msg)
    print('%d passed, %d failed' % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
