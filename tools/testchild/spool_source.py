#!/usr/bin/python3
"""spool_source: numbered JSON events for the spool's kill -9 test.

    spool_source.py BASE PROGRESS_FILE RATE [COUNT]

Writes {"type":"kill.ev","data":{"i":N}} lines from N = BASE, 50 per write(2),
at RATE lines a second, until COUNT lines (or forever). After each write it
records the last N written into PROGRESS_FILE (20 digits, in place), so after
a kill -9 of the collector (and of this process with it) the test knows how
far the source got into the pipe.
"""
import os
import sys
import time


def main():
    base, progress, rate = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else None
    fd = os.open(progress, os.O_WRONLY | os.O_CREAT, 0o644)
    i, start = base, time.monotonic()
    while count is None or i < base + count:
        n = 50 if count is None else min(50, base + count - i)
        batch = "".join('{"type":"kill.ev","data":{"i":%d}}\n' % (i + k) for k in range(n))
        os.write(1, batch.encode())
        i += n
        os.pwrite(fd, b"%020d" % (i - 1), 0)
        ahead = (i - base) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)


main()
