#!/usr/bin/python3
"""Data of the end-to-end benchmark: make_classification (12,000 x 20, two classes, seed 0) split
into train.csv (the first 10,000 rows, 4 MB) and test.csv (the last 2,000), header f0..f19,label,
values written with repr (shortest round trip), as a user's export would hold them.

usage: make_data.py OUTDIR"""
import os
import sys

from sklearn.datasets import make_classification


def write(path, x, y):
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(x.shape[1])) + ",label\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{label}\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x, y = make_classification(n_samples=12000, n_features=20, n_informative=10, n_redundant=4,
                               n_classes=2, random_state=0)
    write(os.path.join(out, "train.csv"), x[:10000], y[:10000])
    write(os.path.join(out, "test.csv"), x[10000:], y[10000:])


if __name__ == "__main__":
    main()
