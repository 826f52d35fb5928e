#!/usr/bin/python3
"""What a Python user runs to load the same files: pickle.load / joblib.load, median and minimum
of REPEATS runs each (the file opened each time, as load_model_file reads it each time)."""
import pickle
import sys
import time

import joblib

repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 15
for path, loader in ((sys.argv[1] + "/rf100.pkl", lambda p: pickle.load(open(p, "rb"))),
                     (sys.argv[1] + "/rf100.joblib", joblib.load)):
    loader(path)  # imports sklearn once, outside the timing
    times, cpu = [], []
    for _ in range(repeats):
        start, c0 = time.perf_counter(), time.process_time()
        loader(path)
        cpu.append((time.process_time() - c0) * 1000)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    cpu.sort()
    name = "pickle.load" if path.endswith(".pkl") else "joblib.load"
    print(f"{path}: Python {name:12s} median {times[len(times) // 2]:8.2f} ms  min {times[0]:8.2f} ms"
          f"  CPU {cpu[len(cpu) // 2]:8.2f} ms")
