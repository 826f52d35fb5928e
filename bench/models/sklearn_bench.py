#!/usr/bin/python3
"""scikit-learn side of bench_models. Usage: sklearn_bench.py OUTDIR REPEATS

Generates the benchmark data (make_classification, 10,000 x 20, seed 0, two classes), writes it
for the C++ side (x.f64: row-major float64, y.i32: int32 labels), times scikit-learn on it and
prints one JSON object of median seconds. The C++ runner starts this script with
OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE removed from the environment so numpy uses its best kernel;
the kernel in use is reported under "blas".
"""
import json
import sys
import time
import warnings

import numpy as np
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.svm import LinearSVC

out, repeats = sys.argv[1], int(sys.argv[2])
x, y = make_classification(n_samples=10000, n_features=20, n_informative=10, n_redundant=4,
                           n_classes=2, random_state=0)
x.astype(np.float64).tofile(f"{out}/x.f64")
y.astype(np.int32).tofile(f"{out}/y.i32")


def median(fn, n=repeats):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


res = {}
lr = LogisticRegression()  # lbfgs, C=1, max_iter=100, tol=1e-4
res["logreg_fit"] = median(lambda: lr.fit(x, y))
# The solver a competent user picks for n_samples > n_features: the primal (dual=False, as
# scikit-learn's documentation advises); squared hinge, C=1, tol=1e-4. It must converge: a
# convergence warning is an error here, not silenced.
svm = LinearSVC(dual=False)
with warnings.catch_warnings():
    warnings.simplefilter("error", ConvergenceWarning)
    res["linear_svm_fit"] = median(lambda: svm.fit(x, y))
res["linear_svm_iterations"] = int(np.max(svm.n_iter_))
with warnings.catch_warnings():  # 5 epochs on purpose: prediction cost does not depend on training
    warnings.simplefilter("ignore", ConvergenceWarning)
    mlp = MLPClassifier(hidden_layer_sizes=(100,), max_iter=5, random_state=0).fit(x, y)
res["logreg_predict_proba"] = median(lambda: lr.predict_proba(x), 5 * repeats)
# LinearSVC has no predict_proba: the equivalent of secmlops' definition is the sigmoid of the
# decision function.
res["linear_svm_predict_proba"] = median(lambda: expit(svm.decision_function(x)), 5 * repeats)
res["mlp_predict_proba"] = median(lambda: mlp.predict_proba(x), 5 * repeats)
x100 = x[:100]
res["logreg_predict_proba_100"] = median(lambda: lr.predict_proba(x100), 20 * repeats)
res["mlp_predict_proba_100"] = median(lambda: mlp.predict_proba(x100), 20 * repeats)
res["logreg_accuracy"] = float(lr.score(x, y))
res["linear_svm_accuracy"] = float(svm.score(x, y))
try:
    from threadpoolctl import threadpool_info
    res["blas"] = [{k: i.get(k) for k in ("internal_api", "architecture", "num_threads")} for i in threadpool_info()]
except Exception as e:  # threadpoolctl missing: say so
    res["blas"] = str(e)
print(json.dumps(res))
