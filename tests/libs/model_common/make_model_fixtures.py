#!/usr/bin/python3
"""Fixtures of the model plugin tests, written into the directory given as argv[1]:

* {binary,multiclass}_{train,test}.csv: make_classification data (fixed seeds) and one
  train/test split, with columns f0..f19 and `label`;
* expected.json: scikit-learn's held-out accuracy for each model family with the
  hyper-parameters the C++ tests use (listed in the same file);
* skl_*.onnx + skl_*_proba.csv: graphs written by hand with onnx.helper in the operator
  patterns skl2onnx emits for LogisticRegression, LinearSVC and MLPClassifier, and the
  probabilities scikit-learn computes for the test rows. Fitted weights are rounded to float32
  before predicting, since the graphs store float32 weights: the comparison then tests the
  interpretation of the graph, not rounding;
* skl_*_rows.csv + skl_*_predict.csv: the test rows, plus (linear models) rows bisected onto
  the decision boundary, and scikit-learn's predict on them (the labels the host must report).
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.svm import LinearSVC
import warnings

warnings.filterwarnings("ignore")
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)

DATASETS = {
    "binary": dict(n_samples=4000, n_features=20, n_informative=8, n_redundant=4, n_classes=2,
                   class_sep=1.0, flip_y=0.02, random_state=7),
    "multiclass": dict(n_samples=4000, n_features=20, n_informative=10, n_redundant=4, n_classes=4,
                       n_clusters_per_class=1, class_sep=1.2, flip_y=0.02, random_state=11),
}
MLP_SEEDS = [0, 1, 2]
PARAMS = {
    "logreg": {"C": 1.0, "max_iter": 1000, "tol": 1e-6},
    "linear_svm": {"C": 1.0, "max_iter": 1000, "tol": 1e-6},
    "mlp": {"hidden_layer_sizes": [32], "alpha": 1e-4, "learning_rate_init": 1e-3,
            "max_iter": 200, "batch_size": 200, "seed": 0},
}


def sklearn_models():
    return {
        "logreg": LogisticRegression(C=1.0, max_iter=1000, tol=1e-6),
        "linear_svm": LinearSVC(C=1.0, max_iter=20000, tol=1e-5),
        "mlp": MLPClassifier(hidden_layer_sizes=(32,), alpha=1e-4, learning_rate_init=1e-3,
                             max_iter=200, batch_size=200, random_state=0),
    }


def write_csv(path, x, y):
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["label"])
    with open(path, "w") as f:
        f.write(header + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def save(model, name):
    model = helper.make_model(model, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("ai.onnx.ml", 1)],
                              producer_name="skl2onnx", ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name + ".onnx"))


def zipmap_tail(nodes, outputs, proba, classes):
    nodes.append(helper.make_node("ZipMap", [proba], ["output_probability"], domain="ai.onnx.ml",
                                  classlabels_int64s=[int(c) for c in classes]))
    vi = onnx.ValueInfoProto()
    vi.name = "output_probability"
    m = vi.type.sequence_type.elem_type.map_type
    m.key_type = TensorProto.INT64
    m.value_type.tensor_type.elem_type = TensorProto.FLOAT
    outputs.append(vi)


def linear_classifier_graph(kind, clf, d, name):
    """skl2onnx's float-input pattern for LogisticRegression / LinearSVC."""
    classes = [int(c) for c in clf.classes_]
    coef, icpt = clf.coef_, clf.intercept_
    if len(classes) == 2:
        coef = np.vstack([-coef, coef])
        icpt = np.concatenate([-icpt, icpt])
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, d])
    label = helper.make_tensor_value_info("label", TensorProto.INT64, [None])
    nodes, outputs, inits = [], [label], []
    attrs = dict(coefficients=coef.ravel().tolist(), intercepts=icpt.ravel().tolist(),
                 classlabels_ints=classes)
    if kind == "logreg":
        multinomial = len(classes) > 2
        attrs.update(multi_class=1 if multinomial else 0,
                     post_transform="SOFTMAX" if multinomial else "LOGISTIC")
        if multinomial:
            nodes.append(helper.make_node("LinearClassifier", ["X"], ["label", "probability_tensor"],
                                          domain="ai.onnx.ml", **attrs))
            nodes.append(helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"],
                                          domain="ai.onnx.ml", norm="L1"))
        else:
            nodes.append(helper.make_node("LinearClassifier", ["X"], ["label", "probabilities"],
                                          domain="ai.onnx.ml", **attrs))
        zipmap_tail(nodes, outputs, "probabilities", classes)
    else:
        attrs.update(multi_class=0, post_transform="NONE")
        if len(classes) == 2:
            nodes.append(helper.make_node("LinearClassifier", ["X"], ["label", "raw_scores_tensor"],
                                          domain="ai.onnx.ml", **attrs))
            inits.append(numpy_helper.from_array(np.array(1, dtype=np.int64), "positive_class_index"))
            nodes.append(helper.make_node("ArrayFeatureExtractor", ["raw_scores_tensor", "positive_class_index"],
                                          ["probabilities"], domain="ai.onnx.ml"))
            outputs.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 1]))
        else:
            nodes.append(helper.make_node("LinearClassifier", ["X"], ["label", "probabilities"],
                                          domain="ai.onnx.ml", **attrs))
            outputs.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                         [None, len(classes)]))
    save(helper.make_graph(nodes, name, [x], outputs, inits), name)


def linear_double_graph(clf, d, name):
    """skl2onnx's double-input pattern for a multinomial LogisticRegression: MatMul + Add."""
    classes = np.array([int(c) for c in clf.classes_], dtype=np.int64)
    x = helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, d])
    inits = [numpy_helper.from_array(clf.coef_.T.astype(np.float64), "coef"),
             numpy_helper.from_array(clf.intercept_.reshape(1, -1).astype(np.float64), "intercept"),
             numpy_helper.from_array(classes, "classes")]
    nodes = [helper.make_node("MatMul", ["X", "coef"], ["multiplied"]),
             helper.make_node("Add", ["multiplied", "intercept"], ["raw_scores"]),
             helper.make_node("ArgMax", ["raw_scores"], ["argmax"], axis=1),
             helper.make_node("ArrayFeatureExtractor", ["classes", "argmax"], ["label_raw"], domain="ai.onnx.ml"),
             helper.make_node("Reshape", ["label_raw", "shape"], ["label"]),
             helper.make_node("Softmax", ["raw_scores"], ["probabilities"], axis=1)]
    inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"))
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
               helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, [None, len(classes)])]
    save(helper.make_graph(nodes, name, [x], outputs, inits), name)


def mlp_graph(clf, d, name):
    """skl2onnx's MLPClassifier pattern: Cast, MatMul + Add + Relu per layer, Softmax or Sigmoid
    (+ Sub/Concat for two classes), ArgMax + ArrayFeatureExtractor for the label."""
    classes = np.array([int(c) for c in clf.classes_], dtype=np.int32)
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, d])
    nodes = [helper.make_node("Cast", ["X"], ["cast_input"], to=TensorProto.FLOAT)]
    inits = []
    cur = "cast_input"
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        inits.append(numpy_helper.from_array(w.astype(np.float32), f"coefficient{i}"))
        inits.append(numpy_helper.from_array(b.reshape(1, -1).astype(np.float32), f"intercepts{i}"))
        nodes.append(helper.make_node("MatMul", [cur, f"coefficient{i}"], [f"mul_result{i}"]))
        nodes.append(helper.make_node("Add", [f"mul_result{i}", f"intercepts{i}"], [f"add_result{i}"]))
        if i + 1 < len(clf.coefs_):
            nodes.append(helper.make_node("Relu", [f"add_result{i}"], [f"next_activations{i}"]))
            cur = f"next_activations{i}"
    last = f"add_result{len(clf.coefs_) - 1}"
    if len(classes) == 2:
        nodes.append(helper.make_node("Sigmoid", [last], ["out_activations_result"]))
        inits.append(numpy_helper.from_array(np.array(1, dtype=np.float32), "unity"))
        nodes.append(helper.make_node("Sub", ["unity", "out_activations_result"], ["negative_class_proba"]))
        nodes.append(helper.make_node("Concat", ["negative_class_proba", "out_activations_result"],
                                      ["probabilities"], axis=1))
    else:
        nodes.append(helper.make_node("Softmax", [last], ["out_activations_result"], axis=1))
        nodes.append(helper.make_node("Identity", ["out_activations_result"], ["probabilities"]))
    inits.append(numpy_helper.from_array(classes, "classes"))
    inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"))
    nodes += [helper.make_node("ArgMax", ["probabilities"], ["argmax_output"], axis=1),
              helper.make_node("ArrayFeatureExtractor", ["classes", "argmax_output"],
                               ["array_feature_extractor_result"], domain="ai.onnx.ml"),
              helper.make_node("Reshape", ["array_feature_extractor_result", "shape"], ["reshaped_result"]),
              helper.make_node("Cast", ["reshaped_result"], ["label"], to=TensorProto.INT64)]
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(classes)])]
    save(helper.make_graph(nodes, name, [x], outputs, inits), name)


def svm_proba(scores):
    """secmlops' documented linear SVM probabilities: sigmoid of the decision value for two
    classes, softmax of the one-vs-rest decision values otherwise."""
    if scores.ndim == 1:
        p = 1 / (1 + np.exp(-scores))
        return np.column_stack([1 - p, p])
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def write_proba(path, p):
    np.savetxt(path, p, delimiter=",", fmt="%.17g")


def boundary_rows(clf, x, count):
    """Rows between consecutive test rows of different predicted classes, bisected (30 halvings)
    onto the boundary between them: decision values of about 1e-9 of the segment's change.
    (Closer, at the last bits of the dot product, a tie decides the label; the probabilities
    the host ranks cannot say which side scikit-learn's summation order would take.)"""
    pred, rows = clf.predict(x), []
    for i in range(len(x) - 1):
        if len(rows) >= count:
            break
        if pred[i] == pred[i + 1]:
            continue
        lo, hi = 0.0, 1.0
        for _ in range(30):
            mid = (lo + hi) / 2
            if clf.predict((x[i] + mid * (x[i + 1] - x[i]))[None, :])[0] == pred[i]:
                lo = mid
            else:
                hi = mid
        rows += [x[i] + lo * (x[i + 1] - x[i]), x[i] + hi * (x[i + 1] - x[i])]
    return np.array(rows)


def write_labels(clf, x, prefix, boundary):
    rows = np.vstack([x, boundary_rows(clf, x, 40)]) if boundary else x
    np.savetxt(os.path.join(OUT, f"{prefix}_rows.csv"), rows, delimiter=",", fmt="%.17g")
    np.savetxt(os.path.join(OUT, f"{prefix}_predict.csv"), clf.predict(rows), fmt="%d")


expected = {"params": PARAMS, "mlp_seeds": MLP_SEEDS}
for name, spec in DATASETS.items():
    x, y = make_classification(**spec)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=spec["random_state"])
    write_csv(os.path.join(OUT, f"{name}_train.csv"), x_tr, y_tr)
    write_csv(os.path.join(OUT, f"{name}_test.csv"), x_te, y_te)
    d = x.shape[1]
    accs = {}
    for family, clf in sklearn_models().items():
        if family == "mlp":
            # A network's accuracy varies with its random initialisation: compare the mean over
            # MLP_SEEDS (the C++ test averages its own networks over the same seeds).
            scores = []
            for seed in MLP_SEEDS:
                clf.set_params(random_state=seed)
                clf.fit(x_tr, y_tr)
                scores.append(float((clf.predict(x_te) == y_te).mean()))
            accs["mlp"] = float(np.mean(scores))
            clf.set_params(random_state=0)
        clf.fit(x_tr, y_tr)
        if family != "mlp":
            accs[family] = float((clf.predict(x_te) == y_te).mean())
        # Converter-style graphs with float32-rounded weights and the matching probabilities.
        if family in ("logreg", "linear_svm"):
            clf.coef_, clf.intercept_ = f32(clf.coef_), f32(clf.intercept_)
            linear_classifier_graph(family, clf, d, f"skl_{family}_{name}")
            proba = clf.predict_proba(x_te) if family == "logreg" else svm_proba(clf.decision_function(x_te))
            write_proba(os.path.join(OUT, f"skl_{family}_{name}_proba.csv"), proba)
            write_labels(clf, x_te, f"skl_{family}_{name}", boundary=True)
            if family == "logreg" and name == "multiclass":
                linear_double_graph(clf, d, "skl_logreg_double_multiclass")
        else:
            clf.coefs_ = [f32(w) for w in clf.coefs_]
            clf.intercepts_ = [f32(b) for b in clf.intercepts_]
            mlp_graph(clf, d, f"skl_mlp_{name}")
            write_proba(os.path.join(OUT, f"skl_mlp_{name}_proba.csv"), clf.predict_proba(x_te))
            write_labels(clf, x_te, f"skl_mlp_{name}", boundary=False)
    expected[name] = accs

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=2)
print(json.dumps(expected))
