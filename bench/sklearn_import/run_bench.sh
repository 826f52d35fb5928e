#!/bin/sh
# The scikit-learn import benchmark, side by side with Python in one run.
#   bench/sklearn_import/run_bench.sh BUILD_DIR DATA_DIR [REPEATS]
set -eu
build=$1
data=$2
repeats=${3:-15}
here=$(dirname "$0")
[ -f "$data/rf100.pkl" ] || /usr/bin/python3 "$here/make_forest.py" "$data"
"$build/bin/sklearn_import_bench" "$data/rf100.pkl" "$build/bin/plugins" "$repeats"
# The same import on one thread: the CPU the import costs without a second core.
"$build/bin/sklearn_import_bench" "$data/rf100.pkl" "$build/bin/plugins" "$repeats" import 1
"$build/bin/sklearn_import_bench" "$data/rf100.joblib" "$build/bin/plugins" "$repeats"
/usr/bin/python3 "$here/pickle_load_baseline.py" "$data" "$repeats"
