"""Fixtures for the rbf_svm tests: data sets split into train/test CSVs, scikit-learn's
accuracy for the same hyper-parameters, and SVMClassifier graphs written the way skl2onnx
converts a fitted sklearn.svm.SVC (probability=True), with sklearn's outputs on the test rows.

Also an SVC fitted with probability=False (a graph without prob_a/prob_b), whose float64
parameters are replaced by the float32 values the graph stores, so that scikit-learn's own
predict runs on exactly the imported model; its labels are written for the test rows and for
rows bisected onto its decision boundaries (|decision| < 1e-9), where float32 arithmetic or a
probability-based label would pick the wrong class.

Usage: make_fixtures.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.datasets import make_classification, make_moons
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC


def write_csv(path, x, y):
    cols = [f"f{i}" for i in range(x.shape[1])] + ["label"]
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def write_matrix(path, m):
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))
    with open(path, "w") as f:
        for row in m:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def datasets():
    x, y = make_moons(n_samples=1000, noise=0.3, random_state=0)
    yield "binary", x, y
    x, y = make_classification(n_samples=900, n_features=8, n_informative=5, n_redundant=1,
                               n_classes=3, n_clusters_per_class=1, class_sep=1.0, random_state=1)
    yield "multiclass", x, y


def zipmap_output_type():
    """seq(map(int64, tensor(float))), ZipMap's output (built by hand: onnx 1.12's helper lacks maps)."""
    t = onnx.TypeProto()
    m = t.sequence_type.elem_type.map_type
    m.key_type = TensorProto.INT64
    m.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return t


def svc_graph(clf, n_features):
    """SVMClassifier + ZipMap, as skl2onnx writes them for SVC(probability=True/False)."""
    k = len(clf.classes_)
    coef = clf.dual_coef_.ravel()
    rho = clf.intercept_
    if k == 2:  # sklearn negates the binary model; the converter undoes it
        coef, rho = -coef, -rho
    svm = helper.make_node(
        "SVMClassifier", ["X"], ["label", "probabilities"], domain="ai.onnx.ml", name="SVMc",
        classlabels_ints=[int(c) for c in clf.classes_],
        coefficients=coef.astype(np.float32).tolist(),
        kernel_params=[float(clf._gamma), float(clf.coef0), float(clf.degree)],
        kernel_type="RBF", post_transform="NONE",
        rho=rho.astype(np.float32).tolist(),
        support_vectors=clf.support_vectors_.ravel().astype(np.float32).tolist(),
        vectors_per_class=clf.n_support_.tolist())
    if clf.probability:
        svm.attribute.extend([
            helper.make_attribute("prob_a", clf.probA_.astype(np.float32).tolist()),
            helper.make_attribute("prob_b", clf.probB_.astype(np.float32).tolist())])
    zipmap = helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain="ai.onnx.ml",
                              name="ZipMap", classlabels_int64s=[int(c) for c in clf.classes_])
    cast = helper.make_node("Cast", ["label"], ["output_label"], to=TensorProto.INT64, name="Cast")
    seq_map = zipmap_output_type()
    graph = helper.make_graph(
        [svm, cast, zipmap], "SVC",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
         helper.make_value_info("output_probability", seq_map)])
    model = helper.make_model(graph, producer_name="skl2onnx", opset_imports=[
        helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 1)])
    onnx.checker.check_model(model)
    return model


def float32_decision(clf, x):
    """Pairwise decision values (libsvm sign) from the float32 attributes the graph stores."""
    k = len(clf.classes_)
    sv = clf.support_vectors_.astype(np.float32).astype(np.float64)
    coef = clf.dual_coef_.astype(np.float32).astype(np.float64)
    rho = clf.intercept_.astype(np.float32).astype(np.float64)
    gamma = float(np.float32(clf._gamma))
    if k == 2:
        coef, rho = -coef, -rho
    d2 = ((x[:, None, :] - sv[None, :, :]) ** 2).sum(axis=2)
    kern = np.exp(-gamma * d2)
    start = np.concatenate([[0], np.cumsum(clf.n_support_)])
    out = []
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            si = slice(start[i], start[i + 1])
            sj = slice(start[j], start[j + 1])
            out.append(kern[:, si] @ coef[j - 1, si] + kern[:, sj] @ coef[i, sj] + rho[p])
            p += 1
    return np.stack(out, axis=1)


def round_to_float32(clf):
    """Replaces the fitted parameters predict uses by the float32 values a graph stores."""
    f32 = lambda a: np.asarray(a).astype(np.float32).astype(np.float64)
    clf.support_vectors_ = f32(clf.support_vectors_)
    clf._dual_coef_ = f32(clf._dual_coef_)
    clf.dual_coef_ = f32(clf.dual_coef_)
    clf._intercept_ = f32(clf._intercept_)
    clf.intercept_ = f32(clf.intercept_)
    clf._gamma = float(np.float32(clf._gamma))


def boundary_rows(clf, x, y, count):
    """Rows on the segments between test rows of different predicted classes, bisected until one
    pairwise decision value is below 1e-9 in magnitude (sklearn's float64 decision_function)."""
    pred = clf.predict(x)
    rows = []
    i = 0
    while len(rows) < count and i < len(x) - 1:
        a, b = x[i], x[i + 1]
        i += 1
        if pred[i - 1] == pred[i]:
            continue
        pa = pred[i - 1]
        lo, hi = 0.0, 1.0
        for _ in range(200):
            mid = (lo + hi) / 2
            p = a + mid * (b - a)
            if clf.predict(p[None, :])[0] == pa:
                lo = mid
            else:
                hi = mid
            dec = clf.decision_function(p[None, :])
            if np.min(np.abs(np.atleast_2d(dec))) < 1e-9 and hi - lo < 1e-12:
                break
        rows.append(a + lo * (b - a))
        rows.append(a + hi * (b - a))
    return np.array(rows)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    summary = {}
    for name, x, y in datasets():
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.5, random_state=0, stratify=y)
        write_csv(os.path.join(out, f"{name}_train.csv"), xtr, ytr)
        write_csv(os.path.join(out, f"{name}_test.csv"), xte, yte)
        clf = SVC(C=1.0, gamma="scale", tol=1e-3, probability=True, random_state=0,
                  decision_function_shape="ovo").fit(xtr, ytr)
        proba = clf.predict_proba(xte)
        summary[name] = {
            "params": {"C": 1.0, "gamma": "scale", "tol": 1e-3},
            "accuracy": float((clf.predict(xte) == yte).mean()),
            "accuracy_argmax_proba": float((proba.argmax(axis=1) == yte).mean()),
            "n_support": clf.n_support_.tolist(),
            "gamma": float(clf._gamma),
        }
        onnx.save(svc_graph(clf, x.shape[1]), os.path.join(out, f"{name}_sklearn.onnx"))
        dec = clf.decision_function(xte)
        if dec.ndim == 1:
            dec = -dec[:, None]  # back to libsvm's sign: positive means the first class
        write_matrix(os.path.join(out, f"{name}_sklearn_decision.csv"), dec)
        write_matrix(os.path.join(out, f"{name}_f32_decision.csv"), float32_decision(clf, xte))
        write_matrix(os.path.join(out, f"{name}_sklearn_proba.csv"), proba)
        write_matrix(os.path.join(out, f"{name}_sklearn_predict.csv"), clf.predict(xte)[:, None])

        plain = SVC(C=1.0, gamma="scale", tol=1e-3, probability=False,
                    decision_function_shape="ovo").fit(xtr, ytr)
        round_to_float32(plain)
        onnx.save(svc_graph(plain, x.shape[1]), os.path.join(out, f"{name}_sklearn_noplatt.onnx"))
        edge = boundary_rows(plain, xte, yte, 60)
        rows = np.vstack([xte, edge])
        write_matrix(os.path.join(out, f"{name}_noplatt_rows.csv"), rows)
        write_matrix(os.path.join(out, f"{name}_noplatt_predict.csv"), plain.predict(rows)[:, None])
        summary[name]["noplatt_accuracy"] = float((plain.predict(xte) == yte).mean())
        summary[name]["noplatt_boundary_rows"] = int(len(edge))
    with open(os.path.join(out, "sklearn.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
