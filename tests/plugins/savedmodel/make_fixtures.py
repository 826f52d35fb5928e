#!/usr/bin/python3
"""Writes hand-built TensorFlow SavedModel protobufs (no TensorFlow needed) into argv[1].

Each case is <case>/saved_model.pb. Field numbers follow TensorFlow's saved_model.proto,
meta_graph.proto, graph.proto, node_def.proto, function.proto, attr_value.proto, tensor.proto.
The payloads are inert: nothing is ever executed.
"""
import os
import sys

OUT = sys.argv[1]


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(number, wire):
    return varint((number << 3) | wire)


def vfield(number, value):
    return tag(number, 0) + varint(value)


def lfield(number, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(number, 2) + varint(len(payload)) + payload


def attr_entry(key, attr_value):
    return lfield(5, lfield(1, key) + lfield(2, attr_value))


def attr_s(text):
    return lfield(2, text)  # AttrValue.s


def attr_type(dt):
    return vfield(6, dt)  # AttrValue.type


def string_tensor(text):
    # TensorProto: dtype=1 (DT_STRING=7), tensor_shape=2 (scalar: empty), string_val=8
    return vfield(1, 7) + lfield(2, b"") + lfield(8, text)


def node(name, op, inputs=(), attrs=()):
    out = lfield(1, name) + lfield(2, op)
    for i in inputs:
        out += lfield(3, i)
    for k, v in attrs:
        out += attr_entry(k, v)
    return out


def const_string(name, text):
    return node(name, "Const", attrs=[("dtype", attr_type(7)), ("value", lfield(8, string_tensor(text)))])


def function(name, nodes):
    sig = lfield(1, name)  # OpDef.name
    return lfield(1, lfield(1, sig) + b"".join(lfield(3, n) for n in nodes))  # FunctionDefLibrary.function


def graph(nodes, library=b""):
    g = b"".join(lfield(1, n) for n in nodes)
    if library:
        g += lfield(2, library)
    return g


def saved_model(graph_def, assets=(), tags=("serve",), tf_version="2.15.0"):
    info = b"".join(lfield(4, t) for t in tags) + lfield(5, tf_version) + lfield(6, "v2.15.0-0-g0")
    mg = lfield(1, info) + lfield(2, graph_def)
    for a in assets:
        mg += lfield(6, lfield(2, a))  # AssetFileDef.filename
    return vfield(1, 1) + lfield(2, mg)


def write(case, data):
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "saved_model.pb"), "wb") as f:
        f.write(data)


# A TF2-style serving graph: variables restored from the loader's path (a placeholder).
benign_nodes = [
    node("x", "Placeholder", attrs=[("dtype", attr_type(1))]),
    node("w", "VarHandleOp", attrs=[("dtype", attr_type(1)), ("shared_name", attr_s("w"))]),
    node("read", "ReadVariableOp", ["w"]),
    node("y", "MatMul", ["x", "read"]),
    node("saver_filename", "Placeholder", attrs=[("dtype", attr_type(7))]),
    const_string("save/tensor_names", "w"),
    const_string("save/shape_and_slices", ""),
    node("save/SaveV2", "SaveV2", ["saver_filename", "save/tensor_names", "save/shape_and_slices", "read"]),
    node("save/RestoreV2", "RestoreV2", ["saver_filename", "save/tensor_names", "save/shape_and_slices"]),
    node("call", "StatefulPartitionedCall", ["x"], attrs=[("f", lfield(10, lfield(1, "__inference_serve_1")))]),
]
benign_lib = function("__inference_serve_1", [node("relu", "Relu", ["x"]), node("id", "Identity", ["relu"])])
write("benign", saved_model(graph(benign_nodes, benign_lib), assets=["vocab.txt"]))

write("pyfunc", saved_model(graph(benign_nodes + [
    node("py", "PyFunc", ["x"], attrs=[("token", attr_s("pyfunc_0"))])], benign_lib)))

write("readfile", saved_model(graph(benign_nodes + [
    const_string("path", "/etc/passwd"), node("leak", "ReadFile", ["path"])], benign_lib)))

write("writefile_in_function", saved_model(graph(benign_nodes, benign_lib + function("__inference_drop_2", [
    node("p", "Const", attrs=[("value", lfield(8, string_tensor("/tmp/owned")))]),
    node("w", "WriteFile", ["p", "x"])]))))

write("checkpoint_path", saved_model(graph(benign_nodes + [
    const_string("evil/prefix", "../../../home/user/.ssh/authorized_keys"),
    node("evil/ident", "Identity", ["evil/prefix"]),
    node("evil/SaveV2", "SaveV2", ["evil/ident:0", "save/tensor_names", "save/shape_and_slices", "read"])], benign_lib)))

write("asset_traversal", saved_model(graph(benign_nodes, benign_lib), assets=["../../etc/shadow"]))

good = saved_model(graph(benign_nodes, benign_lib))
write("truncated", good[: len(good) // 2])

open(os.path.join(OUT, ".stamp"), "w").write("ok\n")
