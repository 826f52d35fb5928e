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


if __name__ == "__main__":
    main()
