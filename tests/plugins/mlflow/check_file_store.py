#!/usr/bin/python3
"""Validates an mlruns/ directory the way MLflow's FileStore (mlflow/store/tracking/file_store.py)
reads it: experiment and run meta.yaml keys and types, metric lines "timestamp value step",
params/tags files, dataset inputs with their md5 ids, and key syntax.

Usage: check_file_store.py MLRUNS_DIR   → prints a JSON summary, exits 1 with a message on error.
"""
import hashlib
import json
import os
import posixpath
import re
import sys

import yaml

KEY_RE = re.compile(r"^[/\w.\- :]*$")
RESERVED = {"tags", "datasets", "traces"}
RUN_INFO_REQUIRED = {"run_uuid", "experiment_id", "user_id", "status", "start_time", "end_time",
                     "lifecycle_stage"}


class Bad(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Bad(msg)


def read_yaml(path):
    check(os.path.isfile(path), f"missing {path}")
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    check(isinstance(data, dict), f"{path}: not a mapping")
    return data


def check_key(path, key):
    check(len(key) <= 250, f"{path}: key longer than 250")
    check(KEY_RE.match(key), f"{path}: key '{key}' has characters MLflow refuses")
    norm = posixpath.normpath(key)
    check(norm == key and not norm.startswith("..") and not norm.startswith("/"),
          f"{path}: key '{key}' normalises to another path")


def walk_keys(folder):
    """Files below folder as MLflow keys ('a/b' for nested files)."""
    out = {}
    if not os.path.isdir(folder):
        return out
    for root, _, files in os.walk(folder):
        for name in files:
            full = os.path.join(root, name)
            key = os.path.relpath(full, folder).replace(os.sep, "/")
            check_key(full, key)
            out[key] = full
    return out


def md5(a, b):
    h = hashlib.md5(a.encode())
    h.update(b.encode())
    return h.hexdigest()


def check_run(exp_id, exp_dir, run_dir):
    meta = read_yaml(os.path.join(run_dir, "meta.yaml"))
    missing = RUN_INFO_REQUIRED - set(meta)
    check(not missing, f"{run_dir}/meta.yaml: missing {sorted(missing)}")
    run_id = os.path.basename(run_dir)
    check(meta["run_uuid"] == run_id and meta.get("run_id", run_id) == run_id, f"{run_dir}: run id mismatch")
    check(str(meta["experiment_id"]) == exp_id, f"{run_dir}: experiment id mismatch")
    check(isinstance(meta["status"], int) and 1 <= meta["status"] <= 5, f"{run_dir}: status must be RunStatus int")
    check(isinstance(meta["start_time"], int), f"{run_dir}: start_time must be int")
    check(meta["end_time"] is None or isinstance(meta["end_time"], int), f"{run_dir}: end_time must be int or null")
    check(meta["lifecycle_stage"] in ("active", "deleted"), f"{run_dir}: lifecycle_stage")
    check(meta.get("tags") == [], f"{run_dir}: meta.yaml tags must be [] (tags live in tags/)")
    check(str(meta.get("artifact_uri", "")).startswith("file://"), f"{run_dir}: artifact_uri")
    metrics = {}
    for key, path in walk_keys(os.path.join(run_dir, "metrics")).items():
        points = []
        with open(path) as f:
            for n, line in enumerate(f, 1):
                parts = line.strip().split(" ")
                check(len(parts) in (2, 3), f"{path}:{n}: expected 'timestamp value step'")
                ts, val = int(parts[0]), float(parts[1])
                step = int(parts[2]) if len(parts) == 3 else 0
                points.append([ts, val, step])
        metrics[key] = points
    params = {}
    # As MLflow's read_file (codecs.open): UTF-8, line endings kept as written.
    for key, path in walk_keys(os.path.join(run_dir, "params")).items():
        with open(path, encoding="utf-8", newline="") as f:
            params[key] = f.read()
    tags = {}
    for key, path in walk_keys(os.path.join(run_dir, "tags")).items():
        with open(path, encoding="utf-8", newline="") as f:
            tags[key] = f.read()
    check(tags.get("mlflow.runName") == meta.get("run_name"), f"{run_dir}: mlflow.runName tag != run_name")
    inputs = []
    inputs_dir = os.path.join(run_dir, "inputs")
    if os.path.isdir(inputs_dir):
        for input_id in os.listdir(inputs_dir):
            im = read_yaml(os.path.join(inputs_dir, input_id, "meta.yaml"))
            check(im["source_type"] == "DATASET" and im["destination_type"] == "RUN",
                  f"{input_id}: InputVertexType names expected")
            check(isinstance(im["tags"], dict), f"{input_id}: tags must be a mapping")
            check(input_id == md5(im["source_id"], run_id), f"{input_id}: input id is not md5(dataset_id+run_id)")
            dm = read_yaml(os.path.join(exp_dir, "datasets", im["source_id"], "meta.yaml"))
            for k in ("name", "digest", "source_type", "source"):
                check(k in dm, f"dataset {im['source_id']}: missing {k}")
            check(im["source_id"] == md5(dm["name"], dm["digest"]), "dataset id is not md5(name+digest)")
            check(len(dm["digest"]) <= 36, "dataset digest longer than 36")
            for k in ("schema", "profile"):  # JSON text or null, as MLflow's Dataset holds them
                check(dm.get(k) is None or isinstance(json.loads(dm[k]), dict), f"dataset {im['source_id']}: {k}")
            inputs.append({"name": dm["name"], "digest": dm["digest"], "source": dm["source"], "tags": im["tags"],
                           "schema": dm.get("schema"), "profile": dm.get("profile")})
    artifacts = []
    art = os.path.join(run_dir, "artifacts")
    for root, _, files in os.walk(art):
        artifacts += [os.path.relpath(os.path.join(root, f), art) for f in files]
    return {"run_id": run_id, "run_name": meta["run_name"], "status": meta["status"], "metrics": metrics,
            "params": params, "tags": tags, "inputs": inputs, "artifacts": sorted(artifacts)}


def main(root):
    check(os.path.isdir(root), f"{root} is not a directory")
    experiments = []
    for exp_id in sorted(os.listdir(root)):
        exp_dir = os.path.join(root, exp_id)
        if exp_id.startswith(".") or not os.path.isdir(exp_dir) or exp_id == "models":
            continue
        meta = read_yaml(os.path.join(exp_dir, "meta.yaml"))
        for k in ("experiment_id", "name", "artifact_location", "lifecycle_stage", "creation_time"):
            check(k in meta, f"{exp_dir}/meta.yaml: missing {k}")
        check(isinstance(meta["experiment_id"], str) and meta["experiment_id"] == exp_id,
              f"{exp_dir}: experiment_id must be the folder name as a string")
        runs = []
        for name in sorted(os.listdir(exp_dir)):
            d = os.path.join(exp_dir, name)
            if name in RESERVED or not os.path.isdir(d):
                continue
            runs.append(check_run(exp_id, exp_dir, d))
        experiments.append({"id": exp_id, "name": meta["name"], "runs": runs})
    check(any(e["id"] == "0" for e in experiments), "the Default experiment 0 is missing")
    print(json.dumps({"experiments": experiments}))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except (Bad, KeyError, ValueError) as e:
        print(f"invalid mlruns layout: {e}", file=sys.stderr)
        sys.exit(1)
