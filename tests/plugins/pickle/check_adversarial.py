#!/usr/bin/python3
"""Checks that every adversarial fixture works against the real loader: each file is loaded in
a throwaway process inside an empty temporary directory, and its harmless marker effect (a file
named secmlops-marker*) must appear there; "resolves" fixtures must have every global they
import resolve in this interpreter. A technique that no longer works would otherwise inflate the
scanner's detection figures.

Usage: check_adversarial.py FIXTURE_DIR      (exit 0 when every fixture does what it says)
"""
import importlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adversarial  # noqa: E402

LOAD = """
import pickle, sys, warnings
warnings.simplefilter("ignore")
data = open(sys.argv[1], "rb").read()
try:
    {loader}(data)
except BaseException as e:
    print("load raised", type(e).__name__, e, file=sys.stderr)
"""


def resolves(module, name):
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def globals_of(value, found):
    if isinstance(value, adversarial.G):
        found.append((value.module, value.name))
    elif isinstance(value, adversarial.Call):
        globals_of(value.fn, found)
        for a in value.args:
            globals_of(a, found)
    elif isinstance(value, (tuple, list)):
        for a in value:
            globals_of(a, found)
    return found


def main():
    fixture_dir = os.path.abspath(sys.argv[1])
    failures = 0
    for name, _, check, loader in adversarial.corpus():
        path = os.path.join(fixture_dir, name)
        if check == "resolves":
            # The module names in the file, read back by pickletools: STACK_GLOBAL operands are
            # the two strings before it, GLOBAL carries "module name".
            import pickletools
            strings, pairs = [], []
            for op, arg, _ in pickletools.genops(open(path, "rb").read()):
                if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
                    strings.append(arg)
                elif op.name == "STACK_GLOBAL":
                    pairs.append((strings[-2], strings[-1]))
                elif op.name in ("GLOBAL", "INST"):
                    pairs.append(tuple(arg.split(" ", 1)))
            import _compat_pickle
            ok = True
            for module, attr in pairs:
                module, attr = _compat_pickle.NAME_MAPPING.get((module, attr), (module, attr))
                module = _compat_pickle.IMPORT_MAPPING.get(module, module)
                try:
                    resolves(module, attr)
                except Exception as e:  # noqa: BLE001
                    ok = False
                    print(f"FAIL {name}: {module}.{attr} does not resolve ({type(e).__name__}: {e})")
            failures += not ok
            if ok:
                print(f"ok   {name}: {len(pairs)} globals resolve")
            continue
        with tempfile.TemporaryDirectory(prefix="secmlops-adv-") as tmp:
            proc = subprocess.run([sys.executable, "-c", LOAD.format(loader=loader), path], cwd=tmp,
                                  capture_output=True, text=True, timeout=120)
            made = [f for f in os.listdir(tmp) if f.startswith(adversarial.MARKER)]
            if made:
                print(f"ok   {name}: {loader} created {made[0]}")
            else:
                failures += 1
                print(f"FAIL {name}: {loader} left no marker; {proc.stderr.strip()[-300:]}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
