#!/usr/bin/env python3
"""bench/disk_probe.py DATAFILE OUTFILE — the disk's commit latency during a benchmark run.

Every 50 ms: write 8 KB to DATAFILE and fdatasync it, as PostgreSQL's WAL flush at each commit
does, on the same filesystem. On SIGTERM (or after 600 s) writes one line to OUTFILE:
    <max ms> <p99 ms> <flushes slower than 100 ms> <flushes>
A run whose flushes stall for longer than its p99 target shows it here: every synchronous commit
of the run waited for the same disk (docs/performance.md, "WAL flush stalls").
"""
import os
import signal
import sys
import time

data, out = sys.argv[1], sys.argv[2]
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
fd = os.open(data, os.O_WRONLY | os.O_CREAT, 0o644)
block = b"\0" * 8192
lat = []
t0 = time.monotonic()
while not stop and time.monotonic() - t0 < 600:
    os.pwrite(fd, block, (len(lat) % 64) * 8192)
    s = time.monotonic()
    os.fdatasync(fd)
    lat.append(time.monotonic() - s)
    time.sleep(0.05)
os.close(fd)
os.unlink(data)
lat.sort()
if lat:
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    slow = sum(1 for v in lat if v > 0.1)
    line = f"{lat[-1] * 1000:.1f} {p99 * 1000:.1f} {slow} {len(lat)}\n"
else:
    line = "- - 0 0\n"
with open(out, "w") as f:
    f.write(line)
