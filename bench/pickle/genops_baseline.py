#!/usr/bin/python3
"""Reference: the time Python's own pickletools.genops takes to walk every opcode of a file
(no stack or memo emulation, no policy), measured in the same run as pickle_bench. Reports
wall and CPU time, since the machine may be shared."""
import os
import pickletools
import resource
import sys
import time

for path in sys.argv[1:]:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        t0, c0 = time.perf_counter(), time.process_time()
        ops = sum(1 for _ in pickletools.genops(f))
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"{os.path.basename(path)} genops: {ops} opcodes, wall {dt:.3f} s ({size / 1e6 / dt:.1f} MB/s), "
          f"cpu {dc:.3f} s ({size / 1e6 / dc:.1f} MB/s), "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
