"""Random forest and RBF SVM: secmlops vs scikit-learn, side by side in one run.

Writes 10,000 x 20 synthetic data (make_classification, fixed seed), then for each round times
scikit-learn and then bench_models_nonlinear on the same data, and prints medians and ratios.

Usage: compare.py BENCH_EXECUTABLE [--rounds N]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.svm import SVC


def save(dir_, name, x, y):
    with open(os.path.join(dir_, name + ".shape"), "w") as f:
        f.write(f"{x.shape[0]} {x.shape[1]}\n")
    np.ascontiguousarray(x, dtype="<f8").tofile(os.path.join(dir_, name + ".x"))
    np.ascontiguousarray(y, dtype="<i4").tofile(os.path.join(dir_, name + ".y"))


def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def sklearn_round(x, y, xs, ys):
    r = {}
    forest = RandomForestClassifier(n_estimators=100, max_depth=10, n_jobs=2, random_state=0)
    r["rf_fit"] = timed(lambda: forest.fit(x, y))
    r["rf_predict_proba"] = timed(lambda: forest.predict_proba(x))
    forest.set_params(n_jobs=None)  # scikit-learn's default: one thread
    r["rf_predict_proba_1job"] = timed(lambda: forest.predict_proba(x))
    svc = SVC(C=1.0, gamma="scale", probability=True, random_state=0)
    r["svm_fit"] = timed(lambda: svc.fit(xs, ys))
    r["svm_support_vectors"] = int(svc.n_support_.sum())
    r["svm_predict_proba"] = timed(lambda: svc.predict_proba(x))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    x, y = make_classification(n_samples=10000, n_features=20, n_informative=10, n_redundant=4,
                               flip_y=0.05, class_sep=1.0, random_state=0)
    # The SVM trains on 8,000 rows, which gives about 2,500 support vectors; the gradient is
    # taken on the other 2,000.
    xs, ys = x[:8000], y[:8000]
    try:
        from threadpoolctl import threadpool_info
        print("BLAS:", [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
                        for i in threadpool_info()])
    except ImportError:
        pass
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as d:
        save(d, "all", x, y)
        save(d, "svm_train", xs, ys)
        save(d, "svm_grad", x[8000:], y[8000:])
        for i in range(args.rounds):
            theirs.append(sklearn_round(x, y, xs, ys))
            out = subprocess.run([args.bench, d], check=True, capture_output=True, text=True).stdout
            ours.append(json.loads(out))
            print(f"round {i + 1}: sklearn {theirs[-1]}\n         secmlops {ours[-1]}", flush=True)

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    print()
    print("| operation | scikit-learn (median s) | secmlops (median s) | speed-up |")
    print("|---|---|---|---|")
    for key, label in [("rf_fit", "RF fit, 100 trees, depth 10, 10,000 x 20"),
                       ("rf_predict_proba", "RF predict_proba, 10,000 rows (sklearn n_jobs=2)"),
                       ("rf_predict_proba_1job", "RF predict_proba, 10,000 rows (sklearn n_jobs=None)"),
                       ("svm_fit", "RBF SVC fit (probability=True), 8,000 x 20"),
                       ("svm_predict_proba", "RBF SVC predict_proba, 10,000 rows")]:
        s, o = med(theirs, key), med(ours, key.replace("_1job", ""))
        print(f"| {label} | {s:.4f} | {o:.4f} | {s / o:.1f}x |")
    g = med(ours, "svm_gradient")
    print(f"| RBF SVM loss gradient, 2,000 rows, {int(med(ours, 'svm_support_vectors'))} SVs "
          f"(sklearn: {int(med(theirs, 'svm_support_vectors'))}) | - | {g:.4f} | {2000 / g:,.0f} rows/s |")
    per_isa(ours, med, x.shape)


def per_isa(ours, med, shape):
    """The kernels under each instruction-set variant against the floors measured in the same runs."""
    n, d = shape
    isas = [k[len("svm_predict_proba_"):] for k in ours[0] if k.startswith("svm_predict_proba_")]
    print(f"\nPer instruction set (dispatched: {ours[0]['dispatched']}); load average (1/5/15 min) "
          f"after each run: {'; '.join(o['load'] for o in ours)}")
    print("| kernel | " + " | ".join(isas) + " | floor measured in the same runs |")
    print("|---|" + "---|" * (len(isas) + 1))
    read_once = med(ours, "read_once")
    steps = med(ours, "rf_steps")
    rf = med(ours, "rf_predict_proba_median")
    print(f"| RF predict_proba, 10,000 rows, {steps / 1e6:.1f} M node steps (one portable walk) | " +
          " | ".join([f"{rf * 1e3:.2f} ms ({steps / rf / 1e9:.2f} steps/ns)"] * len(isas)) +
          f" | input read once: {read_once * 1e3:.3f} ms |")
    nsv = med(ours, "svm_support_vectors")
    flop = n * nsv * (3 * d + 2)  # float32: distance (subtract, multiply-add) and the weighted sum
    cells, floors = [], []
    for i in isas:
        t = med(ours, "svm_predict_proba_" + i)
        # Two cores at the one-core peak (on a shared machine the two-core probe rarely gets
        # both); float32 has twice the lanes of the measured float64 peak.
        peak32 = 2 * 2 * med(ours, "peak_gflops_1t_" + i)
        cells.append(f"{t * 1e3:.2f} ms ({flop / t / 1e9:.0f} GFLOP/s)")
        floors.append(f"{i} {flop / (peak32 * 1e9) * 1e3:.2f} ms")
    print(f"| RBF SVC predict_proba, 10,000 rows x {int(nsv)} SVs, {flop / 1e9:.2f} GFLOP (float32) | " +
          " | ".join(cells) + " | at 2 x the 1-core float32 peak: " + ", ".join(floors) + " |")
    cells = [f"{med(ours, 'svm_gradient_' + i) * 1e3:.2f} ms" for i in isas]
    print("| RBF SVM loss gradient, 2,000 rows | " + " | ".join(cells) + " | |")
    for t, label in (("1t", "1 core"), ("2t", "2 cores at once")):
        print(f"| peak float64 GFLOP/s, {label} | " +
              " | ".join(f"{med(ours, f'peak_gflops_{t}_' + i):.1f}" for i in isas) + " | |")


if __name__ == "__main__":
    main()
