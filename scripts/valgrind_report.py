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


# PostgreSQL's own processing of the shared invalidation queue (run whenever any code takes a
# lock): memcheck reports an uninitialised value in smgrclosenode's hash lookup there now and
# then, depending on when another backend's invalidation arrives. An error whose frames reach
# this before any ducache frame is PostgreSQL's, whatever took the lock.
POSTGRES_OWN_FRAMES = ("ReceiveSharedInvalidMessages",)

# PostgreSQL's WAL writes: its WAL buffers carry uninitialised padding between records (its known
# report, in every process that writes WAL), and a write of a full buffer page can happen inside
# any statement that inserts a record, ducache's SPI writes included (it failed one run of the
# valgrind suite under the rollup refresh's UPDATE). A pwrite of uninitialised bytes whose frames
# reach PostgreSQL's WAL insertion or flush before any ducache frame is that padding: what
# PostgreSQL's own src/tools/valgrind.supp suppresses as padding_XLogRecData_write. (The bytes
# of every datum ducache lays out are compared with PostgreSQL's own: 79_document_jsonb,
# 76_merge_closure, 78_rollup_jsonb; docs/hardening.md.)
WAL_WRITE_FRAMES = ("XLogInsertRecord", "XLogFlush", "XLogBackgroundFlush")


def is_ducache_frame(line):
    return "ducache.so" in line or "ducache::" in line


def postgres_own(block):
    wal_write = "Syscall param pwrite64(buf) points to uninitialised byte(s)" in block
    for line in block.splitlines():
        if is_ducache_frame(line):
            return False
        if any(f in line for f in POSTGRES_OWN_FRAMES):
            return True
        if wal_write and any(f in line for f in WAL_WRITE_FRAMES):
            return True
    return False


def ducache_blocks(text):
    blocks = re.split(r"\n==\d+== \n", text)
    return [b for b in blocks
            if is_ducache_frame(b) and re.search(ERROR_KINDS, b) and not postgres_own(b)]


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
