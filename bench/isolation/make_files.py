#!/usr/bin/python3
"""Inputs of bench/isolation/run.sh: dense.pkl (the opcode-dense pickle of bench/pickle, 73.6 MB)
and small/ with 2,000 small pickles (300 B to 3 KB, one in ten with an os.system import)."""
import os
import pickle
import random
import sys

out = sys.argv[1]
os.makedirs(os.path.join(out, "small"), exist_ok=True)
# The same content as bench/pickle/make_bench_files.py's dense.pkl.
rows = []
for i in range(1_000_000):
    rows.append((i, i * 0.5, "name-%07d" % i, i % 3 == 0))
    rows.append({"id": i, "score": i * 0.25, "tag": "t%d" % (i % 1000), "ok": None, "n": -i})
with open(os.path.join(out, "dense.pkl"), "wb") as f:
    pickle.dump(rows, f, protocol=4)
del rows


class Evil:
    def __reduce__(self):
        return (os.system, ("echo benchmark",))


random.seed(7)
for i in range(2000):
    obj = {"layer": i, "weights": [random.random() for _ in range(random.randint(20, 300))]}
    if i % 10 == 0:
        obj["hook"] = Evil()
    with open(os.path.join(out, "small", "m%04d.pkl" % i), "wb") as f:
        pickle.dump(obj, f, protocol=2)
