#!/usr/bin/env python3
"""Times the NumPy reference of ART's FGSM and PGD (tests/libs/attack_common/art_reference.py) on the
shapes of bench/attacks (2,000 x 20, two classes; the softmax cross-entropy loss and ART's
linear-SVM loss): the side-by-side baseline for docs/benchmarks.md."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "libs", "attack_common"))
import art_reference as ref  # noqa: E402


def median(f, repeat):
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return sorted(t)[len(t) // 2]


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 20))
    y = np.arange(2000) % 2
    cfg = {"norm": "inf", "targeted": False, "eps": 0.1, "eps_step": 0.01, "max_iter": 40}
    models = {"linear": ref.LinearSoftmax(rng.normal(size=(20, 2)), np.zeros(2)),
              "svm": ref.LinearSvm(rng.normal(size=(1, 20)), np.zeros(1))}
    for name, model in models.items():
        t = median(lambda: ref.fgsm(model, x, y, cfg), repeat)
        print(f"{'numpy-fgsm/' + name:28s} samples=2000   median={t:.6f}s  {2000 / t:.3g} samples/s")
        t = median(lambda: ref.pgd(model, x, y, cfg), repeat)
        print(f"{'numpy-pgd40/' + name:28s} samples=2000   median={t:.6f}s  {2000 / t:.3g} samples/s")

if __name__ == "__main__":
    main()
