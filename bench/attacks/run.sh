#!/usr/bin/env bash
# Builds the release preset and times the attacks and the NumPy reference side by side.
#   bash bench/attacks/run.sh [repeats]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release >/dev/null
cmake --build --preset release --target secmlops_attack_bench secmlops_plugin_fgsm secmlops_plugin_pgd \
  secmlops_plugin_hsj secmlops_plugin_transfer secmlops_plugin_logreg secmlops_plugin_linear_svm \
  secmlops_plugin_rbf_svm secmlops_plugin_random_forest >/dev/null
repeat=${1:-15}
build/release/bin/secmlops_attack_bench "$repeat" | tee /tmp/secmlops_attack_bench.txt
/usr/bin/python3 bench/attacks/numpy_reference_bench.py "$repeat" | tee /tmp/secmlops_numpy_bench.txt
python3 - <<'PY'
import re
def rate(path, key):
    for line in open(path):
        if line.startswith(key):
            return float(re.search(r"([0-9.e+]+) samples/s", line).group(1))
for ours_key, ref_key in [("fgsm/logreg", "numpy-fgsm/linear"), ("pgd40/logreg", "numpy-pgd40/linear"),
                          ("fgsm/linear_svm", "numpy-fgsm/svm"), ("pgd40/linear_svm", "numpy-pgd40/svm")]:
    ours = rate("/tmp/secmlops_attack_bench.txt", ours_key)
    ref = rate("/tmp/secmlops_numpy_bench.txt", ref_key)
    if ours and ref: print(f"ratio {ours_key} secmlops/numpy: {ours / ref:.1f}x")
PY
