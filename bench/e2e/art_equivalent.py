"""What ART 1.20's generate() does for FGSM and PGD (L-inf, untargeted, y=None) on a scikit-learn
LogisticRegression wrapped as ScikitlearnLogisticRegression, re-created call by call because ART
cannot be installed here (no PyPI). The per-coordinate formulas are those of
tests/libs/attack_common/art_reference.py (checked against the fgsm/pgd plugins to 1e-6); this module
adds ART's structure around them, so that its cost can be timed:

- labels: the estimator's predictions (ART's y=None), one-hot;
- batches of `batch_size` rows (ART's default 32), each: the estimator's loss_gradient (ART 1.20's
  vectorised ScikitlearnLogisticRegression.loss_gradient: predict_proba, errors = p - y,
  gradients = errors @ [-coef; coef] / n_classes), NaN guard, sign, step, projection onto the
  eps ball (art.utils.projection), no clipping (clip_values=None);
- PGD: max_iter such steps per batch, each on a fresh copy of the batch as ART's _compute makes;
- the success rate ART logs at the end of generate() (compute_success: two more predictions).

Left out, so that this emulation is if anything faster than ART: input standardisation with the
default preprocessing (0, 1), label format checks, tqdm progress bars, logging calls."""
import numpy as np

ART_NUMPY_DTYPE = np.float32  # ART casts inputs of generate() to float32


class ArtSklearnLogisticRegression:
    def __init__(self, model):
        self.model = model
        self.nb_classes = len(model.classes_)

    def predict(self, x):
        return self.model.predict_proba(x)

    def loss_gradient(self, x, y):
        y_index = np.argmax(y, axis=1)  # noqa: F841  (ART computes it for class weights)
        class_weight = np.ones(self.nb_classes)
        y_pred = self.predict(x)
        errors = class_weight * (y_pred - y)
        weights = self.model.coef_
        if weights.shape[0] == 1:
            weights = np.append(-weights, weights, axis=0)
        return (errors @ weights) / self.model.classes_.size


def _labels(estimator, x):
    p = estimator.predict(x)
    y = np.zeros_like(p)
    y[np.arange(len(p)), np.argmax(p, axis=1)] = 1
    return y / np.sum(y, axis=1, keepdims=True)


def _projection(values, eps):
    return np.sign(values) * np.minimum(np.abs(values), eps)


def _compute(estimator, x, x_init, y, eps, eps_step, batch_size):
    x_adv = x.astype(ART_NUMPY_DTYPE)
    for start in range(0, x.shape[0], batch_size):
        end = start + batch_size
        batch, labels = x_adv[start:end], y[start:end]
        grad = estimator.loss_gradient(batch, labels)
        grad = np.where(np.isnan(grad), 0.0, grad)
        step = eps_step * np.sign(grad)
        step[np.isnan(step)] = 0
        x_adv[start:end] = batch + step
        x_adv[start:end] = x_init[start:end] + _projection(x_adv[start:end] - x_init[start:end], eps)
    return x_adv


def _success_rate(estimator, x, x_adv):
    adv_preds = np.argmax(estimator.predict(x_adv), axis=1)
    preds = np.argmax(estimator.predict(x), axis=1)
    return float(np.mean(adv_preds != preds))


def fgsm_generate(estimator, x, eps, batch_size=32):
    y = _labels(estimator, x)
    x_adv = _compute(estimator, x, x, y, eps, eps, batch_size)
    _success_rate(estimator, x, x_adv)
    return x_adv


def pgd_generate(estimator, x, eps, eps_step, max_iter, batch_size=32):
    y = _labels(estimator, x)
    adv_x = x.astype(ART_NUMPY_DTYPE)
    for start in range(0, x.shape[0], batch_size):
        end = start + batch_size
        batch = x[start:end]
        for _ in range(max_iter):
            batch = _compute(estimator, batch, x[start:end], y[start:end], eps, eps_step, batch_size)
        adv_x[start:end] = batch
    _success_rate(estimator, x, adv_x)
    return adv_x
