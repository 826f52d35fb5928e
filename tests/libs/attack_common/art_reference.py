#!/usr/bin/env python3
"""NumPy reference of ART 1.20's FGSM and PGD formulas (no random init), written from the
definitions in docs/attacks.md, independent of the C++ code. It generates a linear model and data,
runs every configuration and writes inputs and expected adversarial examples as JSON; the C++
tests run the same configurations and must match to 1e-6 on every coordinate.

The formulas are those of ART 1.20 (FastGradientMethod._compute_perturbation, _apply_perturbation
and _compute; ProjectedGradientDescentNumpy.generate; art.utils.projection with its default
suboptimal=True), re-implemented here because ART is not a dependency:
- the L2 direction is g / ||g||_2 and the L1/L2 projection factor min(1, eps / ||delta||), both
  without the 1e-7 tolerance of ART <= 1.17 (0 when the norm is 0);
- momentum (PGD's `decay`): m <- decay * m + g / ||g||_1 after the targeted sign, NaN and mask
  handling, m reset to 0 for every restart, and the direction taken from m.
Part of the generated data are points far from the decision boundary, whose gradients are
tiny (||g|| ~ 1e-7 and below): there the tolerance of older versions shortens the L2 step.

Three losses: the cross-entropy of a linear softmax model (ART's gradient for logistic
regression), ART's linear-SVM loss (ScikitlearnSVC.loss_gradient, LinearSVC branch, ART 1.20) and
ART's kernel-SVM loss (the same method's SVC branch: RBF, linear and polynomial kernels as ART 1.20
differentiates them; the sigmoid kernel, which ART does not differentiate, exactly) with
scikit-learn's vote-based predict (an SVC without Platt parameters, whose labels ART takes from
predict).

usage: art_reference.py OUT.json [--model softmax|svm|rbf] [--weights W.json] [--data D.json]
       (weights read from a file let the real model plugins be checked: softmax {"W": d x k,
       "b": k}; svm {"coef": rows x d, "intercept": rows} in scikit-learn's layout, one row
       for two classes; rbf {"support_vectors": n_sv x d, "dual_coef": (k-1) x n_sv in libsvm's
       sign, "n_support": k, "intercept": one per class pair (decision = sum coef K + intercept,
       positive for the pair's first class), "gamma", and optionally "kernel" (rbf, linear, poly,
       sigmoid), "coef0", "degree"})"""
import argparse
import json

import numpy as np


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class LinearSoftmax:
    """Multinomial logistic regression: p = softmax(x W + b); loss = cross-entropy."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def predict(self, x):
        return np.argmax(softmax(x @ self.w + self.b), axis=1)

    def loss_gradient(self, x, y):
        p = softmax(x @ self.w + self.b)
        p[np.arange(len(y)), y] -= 1.0
        return p @ self.w.T


class LinearSvm:
    """A linear SVM in scikit-learn's LinearSVC layout: decision f = x coef^T + intercept, one
    row for two classes (class 1 when f > 0), one-vs-rest rows otherwise (argmax).

    ART 1.20 ScikitlearnSVC.loss_gradient, LinearSVC branch: for two classes the gradient of
    row i is +coef_[0] when its label is 0 and -coef_[0] when it is 1; for more classes it is
    -coef_[label]. That is the gradient of L(x, y) = -s_y(x) with scores [-f, f] (binary) or
    the one-vs-rest decision values; it does not depend on x."""

    def __init__(self, coef, intercept):
        self.coef, self.intercept = coef, intercept

    def predict(self, x):
        f = x @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:
            return (f[:, 0] > 0).astype(int)
        return np.argmax(f, axis=1)

    def loss_gradient(self, x, y):
        if self.coef.shape[0] == 1:
            sign = np.where(y == 0, 1.0, -1.0)
            return sign[:, None] * self.coef[0][None, :]
        return -self.coef[y]


class RbfSvm:
    """An RBF C-SVC in libsvm's layout (one-vs-one).

    predict: libsvm's votes (scikit-learn's SVC.predict): pair (i, j) votes for i when its
    decision value is > 0, else for j; the first class with the most votes wins.

    loss_gradient: ART 1.20 ScikitlearnSVC.loss_gradient, SVC branch (RBF kernel here; others below), over
    scikit-learn's public dual_coef_ (libsvm's sign, negated for two classes): for label l and
    every other class o, sign * m * dual_coef_[r, s] * grad K(x, sv_s) summed over the support
    vectors s of classes l and o, with r = o if o < l else o - 1, m = -1 if o < l else +1,
    sign = +1 for two classes and -1 otherwise, grad K(x, s) = -2 gamma K(x, s) (x - s).

    Other kernels (ART's _get_kernel_gradient_sv): linear grad K = s; poly
    grad K = degree (gamma <x, s> + coef0)^(degree - 1) s (ART leaves out the factor gamma);
    sigmoid (ART raises NotImplementedError) the exact gamma (1 - tanh^2(gamma <x, s> + coef0)) s."""

    def __init__(self, sv, dual, n_support, intercept, gamma, kernel="rbf", coef0=0.0, degree=3):
        self.sv, self.gamma, self.intercept = sv, gamma, intercept
        self.kind, self.coef0, self.degree = kernel, coef0, int(degree)
        self.k = len(n_support)
        self.start = np.concatenate([[0], np.cumsum(n_support)]).astype(int)
        self.dual = dual
        self.public = -dual if self.k == 2 else dual

    def kernel(self, x):
        t = x @ self.sv.T
        if self.kind == "linear":
            return t
        if self.kind == "poly":
            return (self.gamma * t + self.coef0) ** self.degree
        if self.kind == "sigmoid":
            return np.tanh(self.gamma * t + self.coef0)
        return np.exp(-self.gamma * ((x[:, None, :] - self.sv[None, :, :]) ** 2).sum(axis=2))

    def kernel_slope(self, x):
        """d K / d <x, s> for the kernels that are functions of the dot product."""
        t = x @ self.sv.T
        if self.kind == "linear":
            return np.ones_like(t)
        if self.kind == "poly":
            return self.degree * (self.gamma * t + self.coef0) ** (self.degree - 1)
        return self.gamma * (1 - np.tanh(self.gamma * t + self.coef0) ** 2)

    def decision(self, x):
        kern, st, out, p = self.kernel(x), self.start, [], 0
        for i in range(self.k):
            for j in range(i + 1, self.k):
                si, sj = slice(st[i], st[i + 1]), slice(st[j], st[j + 1])
                out.append(kern[:, si] @ self.dual[j - 1, si] + kern[:, sj] @ self.dual[i, sj] + self.intercept[p])
                p += 1
        return np.stack(out, axis=1)

    def predict(self, x):
        dec, votes, p = self.decision(x), np.zeros((len(x), self.k), dtype=int), 0
        for i in range(self.k):
            for j in range(i + 1, self.k):
                votes[np.arange(len(x)), np.where(dec[:, p] > 0, i, j)] += 1
                p += 1
        return np.argmax(votes, axis=1)

    def loss_gradient(self, x, y):
        st = self.start
        kern = self.kernel(x) if self.kind == "rbf" else self.kernel_slope(x)
        sign = 1.0 if self.k == 2 else -1.0
        g = np.zeros_like(x)
        for n, label in enumerate(y):
            for other in range(self.k):
                if other == label:
                    continue
                row = other if other < label else other - 1
                mult = -1.0 if other < label else 1.0
                for cls in (label, other):
                    s = slice(st[cls], st[cls + 1])
                    w = self.public[row, s] * kern[n, s]
                    if self.kind == "rbf":
                        g[n] += sign * mult * -2 * self.gamma * (w.sum() * x[n] - w @ self.sv[s])
                    else:
                        g[n] += sign * mult * (w @ self.sv[s])
        return g


def prepare(g, mask):
    g = np.where(np.isnan(g), 0.0, g)
    if mask is not None:
        g = np.where(mask == 0.0, 0.0, g)
    return g


def normalise(g, norm):
    if norm == "inf":
        return np.sign(g)
    if norm == "2":
        n = np.sqrt(np.sum(g * g, axis=1, keepdims=True))
        return np.abs(g) / np.where(n, n, np.inf) * np.sign(g)
    # L1: one-hot step at the first argmax of |g|, with the sign of g there.
    out = np.zeros_like(g)
    j = np.argmax(np.abs(g), axis=1)
    out[np.arange(len(g)), j] = np.sign(g[np.arange(len(g)), j])
    return out


def direction(g, norm, mask, momentum=None, decay=None):
    g = prepare(g, mask)
    if momentum is not None:
        n1 = np.sum(np.abs(g), axis=1, keepdims=True)
        momentum *= decay
        momentum += g / np.where(n1, n1, np.inf)
        g = momentum
    return normalise(g, norm)


def clip(x, lo, hi):
    if lo is not None:
        x = np.maximum(x, lo)
    if hi is not None:
        x = np.minimum(x, hi)
    return x


def project(x, x0, eps, norm):
    d = x - x0
    if norm == "inf":
        d = np.sign(d) * np.minimum(np.abs(d), eps)
    else:
        n = np.sqrt(np.sum(d * d, axis=1)) if norm == "2" else np.sum(np.abs(d), axis=1)
        n = n[:, None]
        d = d * np.where(n, np.minimum(1.0, eps[None, :] / np.where(n, n, 1.0)), 0.0)
    return x0 + d


def step(model, x, x0, y, eps, eps_step, cfg, momentum=None):
    g = model.loss_gradient(x, y) * (1 - 2 * int(cfg["targeted"]))
    dirn = direction(g, cfg["norm"], cfg.get("mask"), momentum, cfg.get("decay"))
    s = eps_step * dirn
    s[np.isnan(s)] = 0
    x = clip(x + s, cfg.get("lo"), cfg.get("hi"))
    return project(x, x0, eps, cfg["norm"])


def fgsm(model, x, y, cfg):
    d = x.shape[1]
    scale = cfg.get("eps_scale", np.ones(d))
    eps, eps_step = cfg["eps"] * scale, cfg["eps_step"] * scale
    if cfg.get("minimal"):
        g = model.loss_gradient(x, y) * (1 - 2 * int(cfg["targeted"]))
        dirn = direction(g, cfg["norm"], cfg.get("mask"))
        adv = x.copy()
        active = np.arange(len(x))
        cur = eps_step.copy()
        while active.size > 0 and np.all(cur <= eps):
            trial = clip(x + cur * dirn, cfg.get("lo"), cfg.get("hi"))
            adv[active] = trial[active]
            pred = model.predict(adv)
            if cfg["targeted"]:
                active = np.where(pred != y)[0]
            else:
                active = np.where(pred == y)[0]
            cur = cur + eps_step
        return adv
    return step(model, x.copy(), x, y, eps, eps, cfg)


def pgd(model, x, y, cfg):
    d = x.shape[1]
    scale = cfg.get("eps_scale", np.ones(d))
    eps, eps_step = cfg["eps"] * scale, cfg["eps_step"] * scale
    adv = x.copy()
    momentum = np.zeros_like(x) if cfg.get("decay") is not None else None
    for _ in range(cfg["max_iter"]):
        adv = step(model, adv, x, y, eps, eps_step, cfg, momentum)
    return adv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--model", choices=("softmax", "svm", "rbf"), default="softmax")
    ap.add_argument("--weights", help="JSON with the model's weights (see usage)")
    ap.add_argument("--data", help="JSON with x (n x d) and y (n)")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    wj = json.load(open(args.weights)) if args.weights else None
    if args.model == "rbf":
        model = RbfSvm(np.array(wj["support_vectors"], dtype=float), np.array(wj["dual_coef"], dtype=float),
                       wj["n_support"], np.array(wj["intercept"], dtype=float), float(wj["gamma"]),
                       wj.get("kernel", "rbf"), float(wj.get("coef0", 0.0)), int(wj.get("degree", 3)))
        d, k = model.sv.shape[1], model.k
        w, b = model.sv, model.intercept
    elif args.model == "svm":
        if wj:
            coef, intercept = np.array(wj["coef"], dtype=float), np.array(wj["intercept"], dtype=float)
        else:
            coef, intercept = rng.normal(size=(3, 6)), rng.normal(size=3) * 0.1
        model = LinearSvm(coef, intercept)
        d, k = coef.shape[1], max(2, coef.shape[0])
        w, b = coef, intercept
    else:
        if wj:
            w, b = np.array(wj["W"], dtype=float), np.array(wj["b"], dtype=float)
        else:
            w, b = rng.normal(size=(6, 3)), rng.normal(size=3) * 0.1
        model = LinearSoftmax(w, b)
        d, k = w.shape
    if args.data:
        dj = json.load(open(args.data))
        x, y = np.array(dj["x"], dtype=float), np.array(dj["y"], dtype=int)
    else:
        x = rng.uniform(0, 1, size=(40, d))
        y = rng.integers(0, k, size=40)
        # Far from the boundary, labelled as predicted: confident, with gradients down to ~1e-7
        # and below.
        far = rng.uniform(0, 1, size=(8, d)) * np.linspace(6, 24, 8)[:, None]
        x, y = np.vstack([x, far]), np.concatenate([y, model.predict(far)])
    targets = (model.predict(x) + 1) % k
    cases = []
    for attack in ("fgsm", "fgsm-minimal", "pgd", "pgd-momentum"):
        for norm in ("inf", "2", "1"):
            for targeted in (False, True):
                for variant in ("plain", "bounded", "tabular"):
                    cfg = {"norm": norm, "targeted": targeted, "eps": 0.3, "eps_step": 0.05, "max_iter": 10}
                    params = {"norm": norm, "eps": "0.3", "eps_step": "0.05",
                              "targeted": "true" if targeted else "false"}
                    if attack.startswith("pgd"):
                        params["max_iter"] = "10"
                    if attack == "pgd-momentum":
                        cfg["decay"] = 0.9
                        params["decay"] = "0.9"
                    if attack == "fgsm-minimal":
                        cfg["minimal"] = True
                        params["minimal"] = "true"
                    if variant in ("bounded", "tabular"):
                        cfg["lo"], cfg["hi"] = 0.0, 1.0
                        params["clip_min"], params["clip_max"] = "0", "1"
                    if variant == "tabular":
                        scale = np.linspace(0.5, 1.5, d)
                        mask = np.ones(d)
                        mask[1] = 0
                        cfg["eps_scale"], cfg["mask"] = scale, mask
                        params["eps_scale"] = ",".join(repr(float(v)) for v in scale)
                        params["immutable"] = "1"
                    labels = targets if targeted else y
                    run = pgd if attack.startswith("pgd") else fgsm
                    adv = run(model, x, labels, cfg)
                    cases.append({"attack": "pgd" if attack.startswith("pgd") else "fgsm", "params": params,
                                  "labels": labels.tolist(), "expected": adv.tolist()})
    # art.metrics.empirical_robustness(classifier, x, "fgsm", {"eps": 0.3, "eps_step": 0.05,
    # "norm": norm}): a minimal FGSM on the model's own predictions, then the mean of
    # ||x_adv - x|| / ||x|| in the crafter's norm over the samples whose prediction changed.
    robustness = {}
    clean = model.predict(x)
    for norm in ("inf", "2", "1"):
        cfg = {"norm": norm, "targeted": False, "eps": 0.3, "eps_step": 0.05, "minimal": True}
        adv = fgsm(model, x, clean, cfg)
        flipped = model.predict(adv) != clean
        order = {"inf": np.inf, "2": 2, "1": 1}[norm]
        ratio = np.linalg.norm(adv - x, ord=order, axis=1) / np.linalg.norm(x, ord=order, axis=1)
        robustness[norm] = float(np.mean(ratio[flipped])) if flipped.any() else 0.0
    json.dump({"W": w.tolist(), "b": b.tolist(), "x": x.tolist(), "y": y.tolist(), "cases": cases,
               "empirical_robustness": robustness}, open(args.out, "w"))


if __name__ == "__main__":
    main()
