#!/usr/bin/python3
"""Fixtures of the scikit-learn import tests, written into argv[1] with Debian's python3-sklearn.

* {binary,multi}_test.csv: test rows (f0..f7 and `label`), written with repr() so the C++
  reader gets the same float64 values scikit-learn predicted on;
* <name>.pkl / <name>.joblib[.<codec>]: fitted models pickled or dumped by Python, and
  <name>.expected.csv: scikit-learn's predict_proba (or decision_function argmax for models
  without probabilities) and predict for every test row;
* hand-built streams for layouts other than the installed scikit-learn writes (other
  `_sklearn_version`, tree node records with `missing_go_to_left` and fractions in `values` as
  1.3/1.4+ write them, protocol 5 in-band buffers), and refusals: an unknown version, an
  xgboost-like global, boosted trees, an SVC with a callable kernel, a malicious REDUCE;
* workshop/models/{random_forest,logistic_regression,svm}_model.pkl: the Secure-MLOps
  workshop's three models as its notebook pickles them, with workshop_test.csv and, for the
  differentiable two, FGSM and PGD as ART 1.20 computes them (tests/libs/attack_common/art_reference.py
  on the parameters the plugins hold), in <name>.{fgsm,pgd}.csv; the same for polynomial and
  sigmoid SVCs (svc_poly_binary, svc_sigmoid);
* manifest.json: what each file is and what the test expects of it.
"""
import copyreg
import io
import json
import os
import pickle
import sys
import types
import warnings

import joblib
import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesClassifier, GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._tree import Tree

warnings.filterwarnings("ignore")
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
manifest = {"sklearn_version": sklearn.__version__, "models": {}, "refused": {}}


def data(kind):
    if kind == "binary":
        x, y = make_classification(n_samples=800, n_features=8, n_informative=5, n_redundant=1,
                                   random_state=3)
    else:
        x, y = make_classification(n_samples=900, n_features=8, n_informative=6, n_redundant=1,
                                   n_classes=3, n_clusters_per_class=1, random_state=5)
    x = x * np.array([1, 10, 0.1, 3, 1, 100, 1, 0.5]) + np.array([0, 5, -1, 2, 0, 50, 0, 1])
    return x[:600], y[:600], x[600:], y[600:]


DATA = {k: data(k) for k in ("binary", "multi")}
NAMES = {"binary": np.array([0, 1]), "multi": np.array(["setosa", "versicolor", "virginica"])}


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write(",".join([f"f{i}" for i in range(x.shape[1])] + ["label"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + str(label) + "\n")


for kind, (xtr, ytr, xte, yte) in DATA.items():
    write_csv(os.path.join(OUT, f"{kind}_test.csv"), xte, NAMES[kind][yte])


def expected(name, model, kind):
    x = DATA[kind][2]
    labels = model.predict(x)
    if hasattr(model, "predict_proba") and (not isinstance(model, SVC) or model.probability):
        scores = model.predict_proba(x)
        if isinstance(model, SVC):
            # SVC.predict votes on the pairwise decision values and may disagree with its own
            # predict_proba (libsvm's Platt coupling); secmlops predicts the most probable
            # class, so the reference is scikit-learn's predict_proba argmax.
            labels = model.classes_[scores.argmax(axis=1)]
    else:
        scores = model.decision_function(x)
        if scores.ndim == 1:
            scores = np.stack([-scores, scores], axis=1)
    with open(os.path.join(OUT, name + ".expected.csv"), "w") as f:
        for s, l in zip(scores, labels):
            f.write(",".join(repr(float(v)) for v in s) + "," + str(l) + "\n")


def fit(model, kind):
    xtr, ytr = DATA[kind][0], DATA[kind][1]
    return model.fit(xtr, NAMES[kind][ytr])


def add(name, model, kind, file_name=None, scores="proba", **extra):
    manifest["models"][file_name or name + ".pkl"] = dict(expected=name + ".expected.csv", data=kind,
                                                           scores=scores, **extra)


def dump(name, model, protocol=pickle.DEFAULT_PROTOCOL):
    with open(os.path.join(OUT, name), "wb") as f:
        pickle.dump(model, f, protocol=protocol)


MODELS = {
    "lr_binary": (LogisticRegression(max_iter=2000), "binary", "proba", "logreg"),
    "lr_multi": (LogisticRegression(max_iter=2000), "multi", "proba", "logreg"),
    "lr_ovr": (LogisticRegression(max_iter=2000, multi_class="ovr"), "multi", "proba", "logreg"),
    "linear_svc": (LinearSVC(max_iter=20000, dual=False), "multi", "decision", "linear_svm"),
    "linear_svc_binary": (LinearSVC(max_iter=20000, dual=False), "binary", "decision", "linear_svm"),
    "svc_rbf_proba": (SVC(probability=True, random_state=0), "multi", "proba", "rbf_svm"),
    "svc_rbf_binary": (SVC(probability=True, random_state=0), "binary", "proba", "rbf_svm"),
    "svc_rbf": (SVC(), "multi", "decision", "rbf_svm"),
    "svc_linear_proba": (SVC(kernel="linear", probability=True, random_state=0), "multi", "proba", "rbf_svm"),
    "svc_linear_binary": (SVC(kernel="linear"), "binary", "decision", "rbf_svm"),
    "svc_poly_proba": (SVC(kernel="poly", coef0=1.0, probability=True, random_state=0), "multi", "proba", "rbf_svm"),
    "svc_poly_binary": (SVC(kernel="poly", degree=2, coef0=0.5), "binary", "decision", "rbf_svm"),
    "svc_sigmoid_proba": (SVC(kernel="sigmoid", probability=True, random_state=0), "binary", "proba", "rbf_svm"),
    "svc_sigmoid": (SVC(kernel="sigmoid", coef0=-0.5), "multi", "decision", "rbf_svm"),
    "rf": (RandomForestClassifier(n_estimators=40, random_state=0), "multi", "proba", "random_forest"),
    "rf_binary": (RandomForestClassifier(n_estimators=25, max_depth=6, random_state=1), "binary", "proba", "random_forest"),
    "extra_trees": (ExtraTreesClassifier(n_estimators=20, random_state=0), "multi", "proba", "random_forest"),
    "tree": (DecisionTreeClassifier(random_state=0), "multi", "proba", "random_forest"),
    "mlp": (MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=300, random_state=0), "multi", "proba", "mlp"),
    "mlp_binary": (MLPClassifier(hidden_layer_sizes=(12,), max_iter=300, random_state=0), "binary", "proba", "mlp"),
    "pipe_std_lr": (make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), "multi", "proba", "logreg"),
    "pipe_minmax_svc": (make_pipeline(MinMaxScaler(), LinearSVC(max_iter=20000, dual=False)), "binary", "decision", "linear_svm"),
    "pipe_std_mlp": (make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=400, random_state=0)), "multi", "proba", "mlp"),
    "pipe_std_rf": (make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=15, random_state=0)), "multi", "proba", "random_forest"),
}
FITTED = {}
for name, (model, kind, scores, plugin) in MODELS.items():
    FITTED[name] = fit(model, kind)
    expected(name, model, kind)
    dump(name + ".pkl", model)
    add(name, model, kind, scores=scores, plugin=plugin)

# FGSM (L∞, eps 0.1, true labels) on the multinomial logistic regression, as ART computes it for
# scikit-learn's LogisticRegression: x + eps·sign(∇x cross-entropy), ∇x = coef_ᵀ(p − onehot(y)).
lr = FITTED["lr_multi"]
x, y = DATA["multi"][2], DATA["multi"][3]
grad = (lr.predict_proba(x) - np.eye(3)[y]) @ lr.coef_
with open(os.path.join(OUT, "lr_multi.fgsm.csv"), "w") as f:
    for row in x + 0.1 * np.sign(grad):
        f.write(",".join(repr(float(v)) for v in row) + "\n")
manifest["fgsm_adversarial_accuracy"] = float((lr.predict(x + 0.1 * np.sign(grad)) == NAMES["multi"][y]).mean())

# Every protocol the importer reads, and joblib files raw and compressed.
for protocol in (2, 3, 5):
    for name in ("rf", "lr_multi", "mlp"):
        dump(f"{name}.p{protocol}.pkl", FITTED[name], protocol)
        add(name, FITTED[name], MODELS[name][1], f"{name}.p{protocol}.pkl", MODELS[name][2], plugin=MODELS[name][3])
for name in ("rf", "svc_rbf_proba", "pipe_std_lr", "tree"):
    joblib.dump(FITTED[name], os.path.join(OUT, name + ".joblib"))
    add(name, FITTED[name], MODELS[name][1], name + ".joblib", MODELS[name][2], plugin=MODELS[name][3])
for codec in ("zlib", "gzip", "bz2", "xz", "lzma", "lz4"):
    joblib.dump(FITTED["rf"], os.path.join(OUT, f"rf.joblib.{codec}"), compress=(codec, 3))
    add("rf", FITTED["rf"], "multi", f"rf.joblib.{codec}", plugin="random_forest")


# ---- hand-built streams for other versions' layouts ----
class LayoutPickler(pickle.Pickler):
    """Pickles estimators as scikit-learn `version` would: its version string, and for 1.3+
    tree node records with `missing_go_to_left` (and, for 1.4+, class fractions in `values`)."""

    def __init__(self, f, version, protocol=4):
        super().__init__(f, protocol=protocol)
        self.version = version

    def reducer_override(self, obj):
        if isinstance(obj, Tree):
            state = obj.__getstate__()
            minor = int(self.version.split(".")[1])
            nodes = state["nodes"]
            if minor >= 3:
                fields = [(n, nodes.dtype.fields[n][0]) for n in nodes.dtype.names] + [("missing_go_to_left", "u1")]
                dt = np.dtype({"names": [f[0] for f in fields], "formats": [f[1] for f in fields],
                               "offsets": [nodes.dtype.fields[n][1] for n in nodes.dtype.names] + [56],
                               "itemsize": 64})
                new = np.zeros(nodes.shape, dtype=dt)
                for n in nodes.dtype.names:
                    new[n] = nodes[n]
                new["missing_go_to_left"] = 1
                state = dict(state, nodes=new)
            if minor >= 4:
                v = state["values"]
                state = dict(state, values=v / v.sum(axis=2, keepdims=True))
            return (Tree, obj.__reduce__()[1], state)
        if isinstance(obj, sklearn.base.BaseEstimator):
            state = dict(obj.__getstate__(), _sklearn_version=self.version)
            return (copyreg.__newobj__, (type(obj),), state)
        return NotImplemented


def layout(name, model, kind, version, scores="proba", protocol=4, plugin=None):
    buf = io.BytesIO()
    LayoutPickler(buf, version, protocol).dump(model)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


for version in ("1.0.2", "1.3.2", "1.4.2", "1.5.1", "1.6.0"):
    layout(f"rf.v{version}.pkl", FITTED["rf"], "multi", version)
    add("rf", FITTED["rf"], "multi", f"rf.v{version}.pkl", plugin="random_forest")
    layout(f"svc.v{version}.pkl", FITTED["svc_rbf_proba"], "multi", version)
    add("svc_rbf_proba", FITTED["svc_rbf_proba"], "multi", f"svc.v{version}.pkl", plugin="rbf_svm")

# ---- refusals ----
def refused(name, payload, why):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(payload)
    manifest["refused"][name] = why


buf = io.BytesIO()
LayoutPickler(buf, "9.9.0").dump(FITTED["lr_binary"])
refused("lr.v9.9.0.pkl", buf.getvalue(), "9.9.0")
buf = io.BytesIO()
LayoutPickler(buf, "0.24.2").dump(FITTED["lr_binary"])
refused("lr.v0.24.2.pkl", buf.getvalue(), "0.24.2")
# A pickle of a class from another library, as xgboost's scikit-learn wrapper pickles it.
xgb_module = types.ModuleType("xgboost.sklearn")


class XGBClassifier:
    pass


XGBClassifier.__module__ = "xgboost.sklearn"
xgb_module.XGBClassifier = XGBClassifier
sys.modules["xgboost.sklearn"] = xgb_module
sys.modules["xgboost"] = types.ModuleType("xgboost")
sys.modules["xgboost"].sklearn = xgb_module
xgb = XGBClassifier()
xgb.n_estimators = 100
refused("xgb.pkl", pickle.dumps(xgb, protocol=4), "this file is a pickle of `xgboost.sklearn.XGBClassifier`")
gb = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(DATA["binary"][0], DATA["binary"][1])
refused("gb.pkl", pickle.dumps(gb), "GradientBoostingClassifier")
svc_callable = SVC(kernel="poly").fit(DATA["binary"][0], DATA["binary"][1])
svc_callable.kernel = "cosine"  # what a callable kernel's name would be; the state is otherwise valid
refused("svc_cosine.pkl", pickle.dumps(svc_callable), "kernel='cosine'")


class Evil:
    def __reduce__(self):
        return (os.system, ("id",))


refused("evil.pkl", pickle.dumps(Evil(), protocol=4), "the pickle scanner reports")
# A pipeline whose scaler was fitted on 3 features in front of an 8-feature model.
mismatch = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(DATA["binary"][0], DATA["binary"][1])
mismatch.steps[0] = ("standardscaler", StandardScaler().fit(DATA["binary"][0][:, :3]))
refused("pipe_mismatch.pkl", pickle.dumps(mismatch), "scales 3 features, the model reads 8")
for model in ("rf_binary", "mlp_binary"):
    m = make_pipeline(StandardScaler(), FITTED[model])
    m.steps[0] = ("standardscaler", StandardScaler().fit(DATA["binary"][0][:, :3]))
    refused(f"pipe_mismatch_{model}.pkl", pickle.dumps(m), "scales 3 features, the model reads 8")
refused("plain_dict.pkl", pickle.dumps({"weights": [1.0, 2.0]}), "this file is a pickle of a dict, not a supported scikit-learn model")
good = pickle.dumps(FITTED["lr_binary"], protocol=4)
refused("lr.truncated.pkl", good[: len(good) // 2], "truncated")
refused("lr.protocol1.pkl", pickle.dumps(FITTED["lr_binary"], protocol=1), "protocol")


# ---- the workshop's three models, and attacks as ART computes them ----
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "libs", "attack_common"))
import art_reference  # noqa: E402  (NumPy transcription of ART 1.20's FGSM/PGD and SVC loss)

x, y = make_classification(n_samples=2000, n_features=20, n_informative=10, n_redundant=4, n_classes=2,
                           class_sep=1.0, flip_y=0.02, random_state=42)
WX, WY, WXT, WYT = x[:1600], y[:1600], x[1600:], y[1600:]
write_csv(os.path.join(OUT, "workshop_test.csv"), WXT, WYT)
DATA["workshop"] = (WX, WY, WXT, WYT)
NAMES["workshop"] = np.array([0, 1])
WORKSHOP = {
    "random_forest_model": (RandomForestClassifier(n_estimators=100, max_depth=10, random_state=42), "random_forest"),
    "logistic_regression_model": (LogisticRegression(C=1.0, max_iter=200), "logreg"),
    "svm_model": (SVC(kernel="rbf", C=1.0, gamma="scale", probability=True, random_state=42), "rbf_svm"),
}
os.makedirs(os.path.join(OUT, "workshop", "models"), exist_ok=True)
for name, (model, plugin) in WORKSHOP.items():
    model.fit(WX, WY)
    expected(name, model, "workshop")
    dump(os.path.join("workshop", "models", name + ".pkl"), model)
    add(name, model, "workshop", os.path.join("workshop", "models", name + ".pkl"), plugin=plugin)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def art_model(m):
    """The reference model for what the plugin holds: float64 weights for logistic regression
    (two classes as softmax over [0, z], i.e. sigmoid(z)); an SVC's libsvm arrays rounded to
    float32, as ONNX's SVMClassifier stores them."""
    if isinstance(m, LogisticRegression):
        w = np.vstack([np.zeros_like(m.coef_[0]), m.coef_[0]]).T if len(m.classes_) == 2 else m.coef_.T
        b = np.array([0.0, m.intercept_[0]]) if len(m.classes_) == 2 else m.intercept_
        return art_reference.LinearSoftmax(w, b)
    return art_reference.RbfSvm(f32(m.support_vectors_), f32(m._dual_coef_), m._n_support, f32(m._intercept_),
                                float(np.float32(m._gamma)), m.kernel, float(np.float32(m.coef0)), m.degree)


ATTACKS = {"fgsm": {"norm": "inf", "targeted": False, "eps": 0.1, "eps_step": 0.1},
           "pgd": {"norm": "inf", "targeted": False, "eps": 0.3, "eps_step": 0.05, "max_iter": 10}}
manifest["attacked"] = {}
for name, model, kind in (("logistic_regression_model", WORKSHOP["logistic_regression_model"][0], "workshop"),
                          ("svm_model", WORKSHOP["svm_model"][0], "workshop"),
                          ("svc_poly_binary", FITTED["svc_poly_binary"], "binary"),
                          ("svc_sigmoid", FITTED["svc_sigmoid"], "multi")):
    xte, yte = DATA[kind][2][:100], DATA[kind][3][:100]
    ref = art_model(model)
    file_name = os.path.join("workshop", "models", name + ".pkl") if kind == "workshop" else name + ".pkl"
    manifest["attacked"][file_name] = {"data": kind, "rows": len(xte)}
    for attack, cfg in ATTACKS.items():
        adv = (art_reference.pgd if attack == "pgd" else art_reference.fgsm)(ref, xte, yte, cfg)
        with open(os.path.join(OUT, f"{name}.{attack}.csv"), "w") as f:
            for row in adv:
                f.write(",".join(repr(float(v)) for v in row) + "\n")
        manifest["attacked"][file_name][attack] = dict(expected=f"{name}.{attack}.csv",
                                                        params={k: str(v).lower() for k, v in cfg.items()})
        # How the attack does on scikit-learn itself (reported, not asserted: the plugin's own
        # figures are checked against these by the test).
        # (predict_proba's argmax for an SVC with probabilities: what secmlops predicts, see expected()).
        pred = model.classes_[model.predict_proba(adv).argmax(axis=1)] if getattr(model, "probability", False) \
            else model.predict(adv)
        manifest["attacked"][file_name][attack]["sklearn_adversarial_accuracy"] = float((pred == NAMES[kind][yte]).mean())

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1, sort_keys=True)
