#!/usr/bin/env bash
# The main job: sets up what is missing, builds the release preset, then runs secmlops end to end
# on generated samples — scan model files (text + SARIF), train a model, measure its robustness
# with FGSM and PGD over an eps curve, and record every run in ./mlruns (MLflow's file store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
bin=build/release/bin
work=build/release/demo
rm -rf "$work" && mkdir -p "$work/models"

# Sample model files: harmless payloads (they would only run `echo`), never executed here.
/usr/bin/python3 - "$work" <<'PY'
import io, os, pickle, struct, sys, zipfile
work = sys.argv[1]
class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))
with open(f"{work}/models/malicious.pkl", "wb") as f:
    pickle.dump({"weights": [0.1, 0.2], "hook": Payload()}, f, protocol=4)
with open(f"{work}/models/benign.pkl", "wb") as f:
    pickle.dump({"weights": [0.1, 0.2], "bias": 0.5}, f, protocol=4)
# A PyTorch-style zip checkpoint whose data.pkl carries the payload.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", pickle.dumps(Payload(), protocol=2))
    z.writestr("archive/version", "3\n")
open(f"{work}/models/checkpoint.pt", "wb").write(buf.getvalue())
# A safetensors file whose header lies about its tensor's size.
header = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}}'
open(f"{work}/models/weights.safetensors", "wb").write(struct.pack("<Q", len(header)) + header + b"\0" * 16)
# A tabular data set for training and attacking.
from sklearn.datasets import make_classification
x, y = make_classification(n_samples=2000, n_features=10, n_informative=6, random_state=0)
with open(f"{work}/credit.csv", "w") as f:
    f.write(",".join(f"f{i}" for i in range(10)) + ",label\n")
    for row, label in zip(x, y):
        f.write(",".join(f"{v:.6f}" for v in row) + f",{'fraud' if label else 'ok'}\n")
PY

export MLFLOW_TRACKING_URI="file:$PWD/mlruns"
echo "== plugins"
"$bin/secmlops" plugins
echo
echo "== scan $work/models (exit 1 = findings at or above HIGH)"
set +e
"$bin/secmlops" scan "$work/models" --mlflow
"$bin/secmlops" scan "$work/models" --format sarif > "$work/scan.sarif"
set -e
echo "(SARIF for code scanning: $work/scan.sarif)"
echo
echo "== train a logistic regression, with an overfitting report"
"$bin/secmlops" train --model logreg --data "$work/credit.csv" --label label --out "$work/model.onnx" --mlflow
echo
echo "== FGSM and PGD robustness curves"
"$bin/secmlops" attack --model "$work/model.onnx" --attack fgsm --eps 0.05,0.1,0.2,0.4 --data "$work/credit.csv" \
  --label label --mlflow
"$bin/secmlops" attack --model "$work/model.onnx" --attack pgd --eps 0.05,0.1,0.2,0.4 --eps-step 0.02 \
  --max-iter 40 --data "$work/credit.csv" --label label --out "$work/adversarial.csv" --mlflow
echo
echo "Runs are in ./mlruns (open with: mlflow ui --backend-store-uri ./mlruns)."
