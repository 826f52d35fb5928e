#!/usr/bin/python3
"""Detection figures of a secmlops build on the pickle fixtures, in default and allowlist mode.

Corpora (file-name prefixes written by make_fixtures.py):
  earlier malicious   every file of the original generator not named benign_* (techniques the
                      scanner was built against: REDUCE of os.system in every protocol, memo and
                      STACK_GLOBAL tricks, re-exports, indirect callers, bypass families …)
  earlier benign      benign_* except benign_real_*
  new malicious       adv_*  (adversarial.py: techniques chosen to avoid every list)
  new benign          benign_real_*  (real_models.py: models written by sklearn, joblib, torch, numpy)

A malicious file is caught when the scan reports a finding at MEDIUM or above. A benign file is
flagged when it gets such a finding, and counted as incomplete when the scan does not end
SCANNED (exit 2 at the default --fail-on).

The same counting applies to tests/cli/formats_corpus.py's directory (ONNX, Keras, HDF5, GGUF,
tokenizer configs, chat templates, 7z), where a sub-directory is one model.

Usage: detection.py SECMLOPS_BINARY FIXTURE_DIR [--json | --check]
  --check: exit 1 unless default mode catches every malicious file and flags no benign one
"""
import json
import os
import subprocess
import sys

RANK = {"INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


def corpus_of(name):
    if name.startswith("adv_"):
        return "new malicious"
    if name.startswith("benign_real_"):
        return "new benign"
    if name.startswith("benign_"):
        return "earlier benign"
    return "earlier malicious"


def scan(binary, paths, allowlist):
    cmd = [binary, "scan", "--format", "json", "--fail-on", "critical"]
    if allowlist:
        cmd.append("--allowlist")
    out = subprocess.run(cmd + paths, capture_output=True, text=True).stdout
    # A directory is one model: its files' findings and statuses count together.
    reports = {}
    for f in json.loads(out)["files"]:
        parts = os.path.relpath(f["path"], os.path.dirname(paths[0])).split(os.sep)
        r = reports.setdefault(parts[0], {"findings": [], "status": "SCANNED"})
        r["findings"] += f.get("findings", [])
        # Files of a model directory that no scanner claims (generation_config.json, a README)
        # are skipped by design; a single file skipped is a model left unscanned.
        if f.get("status") != "SCANNED" and not (len(parts) > 1 and f.get("status") == "UNSUPPORTED"):
            r["status"] = f.get("status")
    return reports


def main():
    binary, fixture_dir = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(fixture_dir) if not n.startswith("."))
    paths = [os.path.join(fixture_dir, n) for n in names]
    table = {}
    for mode in ("default", "allowlist"):
        reports = scan(binary, paths, mode == "allowlist")
        counts = {}
        for n in names:
            rep = reports[n]
            worst = max((RANK[f["severity"]] for f in rep.get("findings", [])), default=-1)
            c = counts.setdefault(corpus_of(n), {"files": 0, "flagged": 0, "incomplete": 0, "missed": []})
            c["files"] += 1
            flagged = worst >= RANK["MEDIUM"]
            c["flagged"] += flagged
            c["incomplete"] += rep.get("status") != "SCANNED"
            if "malicious" in corpus_of(n) and not flagged:
                c["missed"].append(n)
            if "benign" in corpus_of(n) and (flagged or rep.get("status") != "SCANNED"):
                c["missed"].append(f"{n} ({rep.get('status')}, worst {worst})")
        table[mode] = counts
    if "--json" in sys.argv:
        print(json.dumps(table, indent=1))
        return 0
    if "--check" in sys.argv:
        bad = [m for c in table["default"].values() for m in c["missed"]]
        for m in bad:
            print("default mode:", m)
        return 1 if bad else 0
    for mode, counts in table.items():
        print(f"{mode}:")
        for corpus in ("earlier malicious", "earlier benign", "new malicious", "new benign"):
            c = counts.get(corpus)
            if not c:
                continue
            verb = "caught" if "malicious" in corpus else "flagged"
            print(f"  {corpus:18} {c['flagged']:3}/{c['files']:<3} {verb}, {c['incomplete']} incomplete")
            for m in c["missed"]:
                print(f"      {'missed' if 'malicious' in corpus else 'false alarm'}: {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
