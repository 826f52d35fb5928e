#!/usr/bin/python3
"""The Python side of bench/e2e: one job as a scikit-learn (+ ART) user runs it, as one process.

usage: sklearn_job.py JOB DIR [BATCH]
  train    read DIR/train.csv (pandas), LogisticRegression().fit, joblib.dump to DIR/lr.joblib
  predict  read DIR/train.csv, load the model, predict_proba, write DIR/py_pred.csv
  fgsm     read DIR/test.csv, load the model, ART-equivalent FastGradientMethod(eps=0.1).generate,
           write DIR/py_adv.csv
  pgd      the same with ProjectedGradientDescentNumpy(eps=0.1, eps_step=0.01, max_iter=40)
  imports  the imports only
BATCH is the attack's batch_size (ART's default 32).

Prints one JSON line on stderr: seconds spent in each phase, measured inside the process from the
first statement on (interpreter start-up is what the whole-command time adds to "total")."""
import time

T0 = time.perf_counter()
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import art_equivalent as art  # noqa: E402

phases = {"imports": time.perf_counter() - T0}


def phase(name, fn):
    t = time.perf_counter()
    out = fn()
    phases[name] = time.perf_counter() - t
    return out


def read(path):
    df = pd.read_csv(path)
    return df.drop(columns=["label"]).to_numpy(), df["label"].to_numpy()


def main():
    job, d = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    if job == "train":
        x, y = phase("read", lambda: read(os.path.join(d, "train.csv")))
        model = phase("fit", lambda: LogisticRegression().fit(x, y))
        phase("write", lambda: joblib.dump(model, os.path.join(d, "lr.joblib")))
    elif job == "predict":
        x, _ = phase("read", lambda: read(os.path.join(d, "train.csv")))
        model = phase("load_model", lambda: joblib.load(os.path.join(d, "lr.joblib")))
        p = phase("predict", lambda: model.predict_proba(x))
        out = pd.DataFrame(p, columns=[f"p_{c}" for c in model.classes_])
        out.insert(0, "prediction", model.classes_[np.argmax(p, axis=1)])
        phase("write", lambda: out.to_csv(os.path.join(d, "py_pred.csv"), index=False))
    elif job in ("fgsm", "pgd"):
        x, _ = phase("read", lambda: read(os.path.join(d, "test.csv")))
        model = phase("load_model", lambda: joblib.load(os.path.join(d, "lr.joblib")))
        est = art.ArtSklearnLogisticRegression(model)
        if job == "fgsm":
            adv = phase("generate", lambda: art.fgsm_generate(est, x, eps=0.1, batch_size=batch))
        else:
            adv = phase("generate", lambda: art.pgd_generate(est, x, eps=0.1, eps_step=0.01, max_iter=40,
                                                             batch_size=batch))
        phase("write", lambda: pd.DataFrame(adv).to_csv(os.path.join(d, "py_adv.csv"), index=False))
    elif job != "imports":
        sys.exit(f"unknown job {job}")
    phases["total"] = time.perf_counter() - T0
    print(json.dumps(phases), file=sys.stderr)


if __name__ == "__main__":
    main()
