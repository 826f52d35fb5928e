"""Fixtures for the random_forest tests: train/test CSVs, scikit-learn's accuracy for the same
hyper-parameters (mean over several seeds: forests are random), and TreeEnsembleClassifier
graphs written the way skl2onnx converts a fitted RandomForestClassifier, with sklearn's
probabilities on the test rows.

Usage: make_fixtures.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.datasets import make_classification, make_moons
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

CASES = {
    "binary": {"n_estimators": 100, "max_depth": None, "min_samples_leaf": 1, "max_features": "sqrt"},
    "multiclass": {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 3, "max_features": 0.5},
}
SEEDS = range(5)


def write_csv(path, x, y):
    cols = [f"f{i}" for i in range(x.shape[1])] + ["label"]
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def write_matrix(path, m):
    with open(path, "w") as f:
        for row in np.atleast_2d(m):
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def dataset(name):
    if name == "binary":
        return make_moons(n_samples=2000, noise=0.3, random_state=0)
    return make_classification(n_samples=2000, n_features=10, n_informative=6, n_redundant=2,
                               n_classes=3, n_clusters_per_class=2, random_state=2)


def float_threshold(t):
    """The float32 w with float(x) <= t  <=>  float(x) <= w (sklearn compares float32 inputs
    against a double threshold; ONNX stores float thresholds)."""
    f = np.float32(t)
    if f <= t:
        return float(f)
    return float(np.nextafter(f, np.float32(-np.inf)))


def zipmap_output_type():
    t = onnx.TypeProto()
    m = t.sequence_type.elem_type.map_type
    m.key_type = TensorProto.INT64
    m.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return t


def forest_graph(rf, n_features):
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes",
                         "nodes_values", "nodes_truenodeids", "nodes_falsenodeids",
                         "nodes_missing_value_tracks_true", "nodes_hitrates", "class_treeids",
                         "class_nodeids", "class_ids", "class_weights"]}
    k = len(rf.classes_)
    for t, est in enumerate(rf.estimators_):
        tree = est.tree_
        for i in range(tree.node_count):
            split = tree.children_left[i] > i or tree.children_right[i] > i
            a["nodes_treeids"].append(t)
            a["nodes_nodeids"].append(i)
            a["nodes_featureids"].append(int(tree.feature[i]) if split else 0)
            a["nodes_modes"].append("BRANCH_LEQ" if split else "LEAF")
            a["nodes_values"].append(float_threshold(tree.threshold[i]) if split else 0.0)
            a["nodes_truenodeids"].append(int(tree.children_left[i]) if split else 0)
            a["nodes_falsenodeids"].append(int(tree.children_right[i]) if split else 0)
            a["nodes_missing_value_tracks_true"].append(0)
            a["nodes_hitrates"].append(1.0)
            if split:
                continue
            w = tree.value[i].ravel()
            w = w / w.sum() / len(rf.estimators_)
            if k == 2:  # binary: class 1's weight only, under class id 0
                w = w[1:]
            for c, v in enumerate(w):
                a["class_treeids"].append(t)
                a["class_nodeids"].append(i)
                a["class_ids"].append(c)
                a["class_weights"].append(float(v))
    node = helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"],
                            domain="ai.onnx.ml", name="TreeEnsembleClassifier",
                            classlabels_int64s=[int(c) for c in rf.classes_], post_transform="NONE", **a)
    zipmap = helper.make_node("ZipMap", ["probabilities"], ["output_probability"], domain="ai.onnx.ml",
                              name="ZipMap", classlabels_int64s=[int(c) for c in rf.classes_])
    cast = helper.make_node("Cast", ["label"], ["output_label"], to=TensorProto.INT64, name="Cast")
    graph = helper.make_graph(
        [node, cast, zipmap], "RandomForestClassifier",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
         helper.make_value_info("output_probability", zipmap_output_type())])
    model = helper.make_model(graph, producer_name="skl2onnx", opset_imports=[
        helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 1)])
    onnx.checker.check_model(model)
    return model


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    summary = {}
    for name, params in CASES.items():
        x, y = dataset(name)
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.5, random_state=0, stratify=y)
        write_csv(os.path.join(out, f"{name}_train.csv"), xtr, ytr)
        write_csv(os.path.join(out, f"{name}_test.csv"), xte, yte)
        accs = []
        for seed in SEEDS:
            rf = RandomForestClassifier(**params, bootstrap=True, random_state=seed).fit(xtr, ytr)
            accs.append(float((rf.predict(xte) == yte).mean()))
            if seed == 0:
                onnx.save(forest_graph(rf, x.shape[1]), os.path.join(out, f"{name}_sklearn.onnx"))
                write_matrix(os.path.join(out, f"{name}_sklearn_proba.csv"), rf.predict_proba(xte))
        summary[name] = {
            "params": {k: ("none" if v is None else str(v)) for k, v in params.items()},
            "accuracy": float(np.mean(accs)),
            "accuracy_per_seed": accs,
        }
    with open(os.path.join(out, "sklearn.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
