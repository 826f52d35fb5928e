#!/usr/bin/python3
"""The benchmark's model: a 100-tree RandomForestClassifier (max_depth=None) fitted on 8,000
rows of make_classification, written as OUT/rf100.pkl (pickle protocol 4) and OUT/rf100.joblib."""
import os
import pickle
import sys

import joblib
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
x, y = make_classification(n_samples=8000, n_features=20, n_informative=10, n_classes=3, random_state=0)
rf = RandomForestClassifier(n_estimators=100, max_depth=None, random_state=0, n_jobs=2).fit(x, y)
with open(os.path.join(out, "rf100.pkl"), "wb") as f:
    pickle.dump(rf, f, protocol=4)
joblib.dump(rf, os.path.join(out, "rf100.joblib"))
print(sum(t.tree_.node_count for t in rf.estimators_), "nodes in 100 trees")
