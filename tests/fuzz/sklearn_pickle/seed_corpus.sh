#!/bin/sh
# Seeds for fuzz_sklearn_pickle: the scikit-learn import fixtures (pickles, joblib files raw and
# compressed, hand-built layouts and refusals), those below 200 kB.
# Usage: seed_corpus.sh FIXTURE_DIR OUT_DIR   (FIXTURE_DIR: build/dev/tests/host/sklearn/fixtures)
set -eu
mkdir -p "$2"
find "$1" -maxdepth 1 -type f \( -name '*.pkl' -o -name '*.joblib*' \) -size -200k -exec cp {} "$2"/ \;
