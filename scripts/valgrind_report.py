#!/usr/bin/env python3
"""Reads valgrind memcheck logs and reports the errors whose stack passes through ducache.

    valgrind_report.py LOG [LOG ...]

Memcheck error blocks are separated by a bare "==PID== " line. PostgreSQL's own reports (for
example its known uninitialised WAL-record padding) are not ducache's and are not counted.
Exit status 1 if any block has a ducache frame.
"""
import re
import sys

ERROR_KINDS = r"(Invalid|uninitialised|Uninitialised|Mismatched|overlap|definitely lost|Source and destination)"


def ducache_blocks(text):
    blocks = re.split(r"\n==\d+== \n", text)
    return [b for b in blocks
            if ("ducache.so" in b or "ducache::" in b) and re.search(ERROR_KINDS, b)]


def main(paths):
    ours, processes, errors = [], 0, 0
    for path in paths:
        text = open(path, errors="replace").read()
        processes += 1
        for s in re.findall(r"ERROR SUMMARY: (\d+) errors", text):
            errors += int(s)
        ours += ducache_blocks(text)
    print(f"memcheck: {processes} processes, {errors} errors in all (PostgreSQL's own included)")
    print(f"errors through ducache.so: {len(ours)}")
    for b in ours[:5]:
        print(b[:3000])
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
