#!/usr/bin/python3
"""A LOWER BOUND of what picklescan (and ModelScan's pickle scanner) cost per file.

picklescan and ModelScan are not installable here. Their core, per file, is: open and read the
file, walk its opcodes with Python's pickletools.genops, collect the globals that GLOBAL, INST
and STACK_GLOBAL import (STACK_GLOBAL's operands are the strings pushed before it, followed
through the memo), and look each (module, name) up in a table of dangerous globals. This script
does exactly that and nothing more: no zip/NumPy/PyTorch format detection, no per-file result
objects, no report formatting, no ModelScan settings or plugin set-up. Real tools do at least
this much per file, so their files/s can only be lower.

  picklescan_baseline.py DIR        walks DIR recursively, sorted, like `secmlops scan DIR`
Prints one line per file with a dangerous global, then a summary with the in-script time
(interpreter start and imports excluded; time the whole process to include them).
"""
import os
import pickletools
import sys
import time

# The shape of picklescan's table: module -> names ("*" = every name).
DANGEROUS = {
    "builtins": {"eval", "exec", "compile", "open", "getattr", "apply", "__import__"},
    "__builtin__": {"eval", "exec", "compile", "open", "getattr", "apply", "__import__"},
    "os": "*", "nt": "*", "posix": "*", "subprocess": "*", "sys": "*", "socket": "*",
    "shutil": "*", "runpy": "*", "webbrowser": "*", "pty": "*", "operator": {"attrgetter"},
    "pickle": "*", "_pickle": "*", "bdb": "*", "pdb": "*", "asyncio": "*", "requests": "*",
    "aiohttp": "*", "httplib": "*", "torch.storage": {"_load_from_bytes"},
}


def globals_of(data):
    found = []
    memo = {}
    strings = []  # the last strings pushed, for STACK_GLOBAL
    for op, arg, _pos in pickletools.genops(data):
        name = op.name
        if name in ("GLOBAL", "INST"):
            module, _, attr = arg.partition(" ")
            found.append((module, attr))
        elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
                      "BINSTRING", "SHORT_BINSTRING"):
            strings.append(arg)
        elif name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
            if strings:
                memo[len(memo) if name == "MEMOIZE" else arg] = strings[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if arg in memo:
                strings.append(memo[arg])
        elif name == "STACK_GLOBAL":
            if len(strings) >= 2:
                found.append((strings[-2], strings[-1]))
            else:
                found.append(("unknown", "unknown"))
    return found


def dangerous(module, attr):
    names = DANGEROUS.get(module)
    return names == "*" or (names is not None and attr in names)


def main():
    root = sys.argv[1]
    t0 = time.perf_counter()
    files = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        files.extend(os.path.join(d, n) for n in sorted(names))
    hits = errors = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                data = f.read()
            bad = [g for g in globals_of(data) if dangerous(*g)]
        except Exception as e:  # picklescan reports a parse error and goes on
            errors += 1
            continue
        if bad:
            hits += 1
            print(f"{path}: dangerous import {bad[0][0]}.{bad[0][1]}")
    dt = time.perf_counter() - t0
    print(f"summary: {len(files)} files, {hits} with dangerous globals, {errors} errors, "
          f"{dt:.3f} s in-script, {len(files) / dt:.0f} files/s", file=sys.stderr)


if __name__ == "__main__":
    main()
