#!/usr/bin/python3
"""Generates the pickle scanner benchmark inputs into OUTDIR (about 3.1 GB in all):
  dense.pkl           ~80 MB opcode-dense pickle: a list of a million small tuples and a million small dicts
  numpy_1g.pkl        a pickled 1 GiB float32 NumPy array (protocol 4: one BINBYTES8 payload)
  torch_legacy_1g.pt  a 1 GiB tensor in the legacy (non-zip) torch.save format
  torch_zip_1g.pt     the same tensor in the zip format (needs the host's zip reader)
Usage: make_bench_files.py OUTDIR [--small]   (--small: 1/16 of the sizes, for a quick look)"""
import os
import pickle
import sys

out = sys.argv[1]
scale = 16 if "--small" in sys.argv else 1
os.makedirs(out, exist_ok=True)

n = 1_000_000 // scale
rows = []
for i in range(n):
    rows.append((i, i * 0.5, "name-%07d" % i, i % 3 == 0))
    rows.append({"id": i, "score": i * 0.25, "tag": "t%d" % (i % 1000), "ok": None, "n": -i})
with open(os.path.join(out, "dense.pkl"), "wb") as f:
    pickle.dump(rows, f, protocol=4)
del rows

import numpy as np  # noqa: E402
elements = (1 << 28) // scale  # float32: 1 GiB
with open(os.path.join(out, "numpy_1g.pkl"), "wb") as f:
    pickle.dump(np.zeros(elements, dtype=np.float32), f, protocol=4)

import torch  # noqa: E402
t = torch.zeros(elements, dtype=torch.float32)
torch.save({"weight": t}, os.path.join(out, "torch_legacy_1g.pt"), _use_new_zipfile_serialization=False)
torch.save({"weight": t}, os.path.join(out, "torch_zip_1g.pt"))
for name in sorted(os.listdir(out)):
    print(name, os.path.getsize(os.path.join(out, name)))
