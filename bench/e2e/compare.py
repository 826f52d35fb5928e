#!/usr/bin/python3
"""Runs each job of the end-to-end benchmark as a user runs it — a secmlops command against
sklearn_job.py doing the same — alternately, RUNS times after one warm-up, and prints medians of
whole-process wall times and the ratios taken pair by pair (so a drift of the machine's speed
during the run moves both sides).

usage: compare.py SECMLOPS DIR RUNS [FLOOR [LINKED_FLOOR]]

With FLOOR (the e2e_floor program), each pair is followed by the job's floor — a process that only
reads and parses the job's input CSV and writes an output CSV of the job's shape, on every core —
and each target is judged against both: met, not met, or out of reach (the floor alone is above
the target). LINKED_FLOOR (e2e_floor_linked) is the same program loading at start the shared
libraries this host loads for its messages and logs (libstdc++, protobuf, spdlog): a target above
the static floor but below the linked one is out of reach for a host linked as this one is, and
said so.

The Python side is reported three ways: the whole command; without the interpreter's start-up
(`python3 -c pass`, timed here) and the imports (timed inside the script); and the library call
alone (fit / predict_proba / generate()), which is what the targets compare against."""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


CPU = []  # CPU seconds (user + system) of each command run, in order


def run(cmd, env=None):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return wall, p.stderr.decode()


def phases_of(stderr):
    for line in reversed(stderr.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def main():
    secmlops, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    floor_bin = sys.argv[4] if len(sys.argv) > 4 else None
    linked_bin = sys.argv[5] if len(sys.argv) > 5 else None
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)  # numpy's best kernel, as in bench/models
    env.pop("OPENBLAS_L2_SIZE", None)
    job = os.path.join(HERE, "sklearn_job.py")
    csv = {"train": "train.csv", "predict": "train.csv", "fgsm": "test.csv", "pgd": "test.csv"}
    ours = {
        "train": [secmlops, "train", "--model", "logreg", "--data", f"{d}/train.csv", "--label", "label",
                  "--test-size", "0", "--out", f"{d}/lr.onnx"],
        "predict": [secmlops, "predict", "--model", f"{d}/lr.onnx", "--data", f"{d}/train.csv",
                    "--out", f"{d}/pred.csv"],
        "fgsm": [secmlops, "attack", "--model", f"{d}/lr.onnx", "--data", f"{d}/test.csv",
                 "--attack", "fgsm", "--eps", "0.1", "--no-empirical-robustness",
                 "--out", f"{d}/adv.csv"],
        "pgd": [secmlops, "attack", "--model", f"{d}/lr.onnx", "--data", f"{d}/test.csv",
                "--attack", "pgd", "--eps", "0.1", "--eps-step", "0.01", "--max-iter", "40",
                "--no-empirical-robustness", "--out", f"{d}/adv.csv"],
    }
    key = {"train": "fit", "predict": "predict", "fgsm": "generate", "pgd": "generate"}
    # What every implementation must do with the job's files: train reads train.csv (the model
    # it writes is a few hundred bytes); predict writes a label and two probabilities per row;
    # the attacks write the 20 features and the adversarial prediction.
    floors = {
        "train": [f"{d}/train.csv"],
        "predict": [f"{d}/train.csv", f"{d}/floor-out.csv", "3"],
        "fgsm": [f"{d}/test.csv", f"{d}/floor-out.csv", "21"],
        "pgd": [f"{d}/test.csv", f"{d}/floor-out.csv", "21"],
    }
    # The targets: the whole secmlops command against the Python library call alone (a factor),
    # or against a fixed time.
    targets = {"train": ("call", 1.0), "predict": ("ms", 30.0), "fgsm": ("call", 2.0), "pgd": ("call", 20.0)}
    verdicts = []
    # Models for both sides first (the attack and predict jobs read them).
    run(ours["train"], env)
    run([PY, job, "train", d], env)

    starts = [run([PY, "-c", "pass"], env)[0] for _ in range(runs)]
    start = statistics.median(starts)
    imports = statistics.median(phases_of(run([PY, job, "imports", d], env)[1])["imports"] for _ in range(runs))
    print(f"python3 start-up (python3 -c pass): {start * 1e3:.1f} ms; imports (numpy, pandas, sklearn, "
          f"joblib): {imports * 1e3:.1f} ms  [medians of {runs}]")
    print(f"{'job':<8} {'secmlops':>10} {'python':>10} {'py work':>10} {'py call':>10} "
          f"{'x whole':>8} {'x work':>8} {'x call':>8}   cpu secmlops / python (user + system)")
    batches = {"fgsm": [32, 2000], "pgd": [32, 2000]}
    for name in ("train", "predict", "fgsm", "pgd"):
        for batch in batches.get(name, [None]):
            py = [PY, job, name, d] + ([str(batch)] if batch else [])
            run(ours[name], env)  # warm-up
            run(py, env)
            a, b, work, call, r_whole, r_work, r_call, cpu_a, cpu_b = [], [], [], [], [], [], [], [], []
            fl, fl_linked = [], []
            for _ in range(runs):
                if floor_bin:
                    fl.append(run([floor_bin] + floors[name], env)[0])
                if linked_bin:
                    fl_linked.append(run([linked_bin] + floors[name], env)[0])
                ta, _ = run(ours[name], env)
                cpu_a.append(CPU[-1])
                tb, err = run(py, env)
                cpu_b.append(CPU[-1])
                ph = phases_of(err)
                a.append(ta)
                b.append(tb)
                work.append(ph["total"] - ph["imports"])
                call.append(ph[key[name]])
                r_whole.append(tb / ta)
                r_work.append(work[-1] / ta)
                r_call.append(call[-1] / ta)
            m = statistics.median
            label = name + (f"/b{batch}" if batch else "")
            print(f"{label:<8} {m(a) * 1e3:8.1f}ms {m(b) * 1e3:8.1f}ms {m(work) * 1e3:8.1f}ms {m(call) * 1e3:8.1f}ms "
                  f"{m(r_whole):7.2f}x {m(r_work):7.2f}x {m(r_call):7.2f}x   cpu {m(cpu_a) * 1e3:.1f} / "
                  f"{m(cpu_b) * 1e3:.1f} ms")
            kind, factor = targets[name]
            limit = m(call) / factor if kind == "call" else factor / 1e3
            verdict = ("met" if m(a) <= limit else
                       "out of reach: the floor alone is above it" if fl and m(fl) > limit else
                       "out of reach for a host linked as this one: the linked floor is above it"
                       if fl_linked and m(fl_linked) > limit else "not met")
            verdicts.append(f"{label:<10} target {limit * 1e3:8.2f} ms   secmlops {m(a) * 1e3:7.1f} ms   "
                            f"floor {m(fl) * 1e3 if fl else float('nan'):6.2f} ms   linked floor "
                            f"{m(fl_linked) * 1e3 if fl_linked else float('nan'):6.2f} ms   {verdict}")
    print(f"(inputs {', '.join(sorted(set(csv.values())))} in {d}; x = python / secmlops, medians of per-pair "
          f"ratios; 'py call' is what the targets compare with: fit, predict_proba, generate())")
    print("targets (train: faster than fit; predict: 30 ms; FGSM: 2x faster than generate(); PGD: 20x), "
          "medians of the same run; floor = e2e_floor on the job's files, linked floor = e2e_floor_linked:")
    for v in verdicts:
        print("  " + v)


if __name__ == "__main__":
    main()
