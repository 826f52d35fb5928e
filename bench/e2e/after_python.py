#!/usr/bin/python3
"""What running right after a Python process costs a command on this machine: rounds of the
static floor, the linked floor and `secmlops predict` twice in a row on train.csv, once without
and once with sklearn_job.py's predict job run first in each round (as compare.py runs every
command after a Python job). Medians of the wall times, in ms.

usage: after_python.py BUILD_BIN_DIR DATA_DIR [ROUNDS]
(DATA_DIR as made by make_data.py, with lr.onnx trained by `secmlops train` in it)"""
import os
import statistics
import sys

from compare import HERE, PY, run  # the same timing as the end-to-end comparison


def wall_ms(cmd):
    return run(cmd)[0] * 1e3


def main():
    bin_dir, d = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    floor_args = [f"{d}/train.csv", f"{d}/floor-out.csv", "3"]
    commands = {
        "floor": [f"{bin_dir}/e2e_floor"] + floor_args,
        "linked floor": [f"{bin_dir}/e2e_floor_linked"] + floor_args,
        "predict": [f"{bin_dir}/secmlops", "predict", "--model", f"{d}/lr.onnx", "--data",
                    f"{d}/train.csv", "--out", f"{d}/pred.csv"],
    }
    python_job = [PY, os.path.join(HERE, "sklearn_job.py"), "predict", d]
    for after_python in (False, True):
        times = {"floor": [], "linked floor": [], "predict": [], "predict again": []}
        for _ in range(rounds):
            if after_python:
                wall_ms(python_job)
            times["floor"].append(wall_ms(commands["floor"]))
            times["linked floor"].append(wall_ms(commands["linked floor"]))
            times["predict"].append(wall_ms(commands["predict"]))
            times["predict again"].append(wall_ms(commands["predict"]))
        label = "after the Python job" if after_python else "without it"
        print(f"{label:>22}: " + ", ".join(f"{k} {statistics.median(v):.1f} ms" for k, v in times.items()))


if __name__ == "__main__":
    main()
