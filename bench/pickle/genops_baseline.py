#!/usr/bin/python3
"""Reference: the time Python's own pickletools.genops takes to walk every opcode of a file
(no stack or memo emulation, no policy), measured in the same run as pickle_bench."""
import pickletools
import resource
import sys
import time

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        t0 = time.perf_counter()
        ops = 0
        for _ in pickletools.genops(f):
            ops += 1
        dt = time.perf_counter() - t0
    size = f.__sizeof__() and __import__("os").path.getsize(path)
    print(f"{path} genops: {ops} opcodes, {dt:.3f} s, {size / 1e6 / dt:.1f} MB/s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
