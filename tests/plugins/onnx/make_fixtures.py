#!/usr/bin/python3
"""Writes benign and malicious ONNX fixtures into the directory given as argv[1].

Every payload is inert text: nothing here is ever executed. Models are built with onnx.helper
(without onnx.checker: several are deliberately invalid) plus a few hand-made byte strings.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)

STD = [helper.make_opsetid("", 17)]
ML = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]


def save(model, name):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def model(nodes, inputs, outputs, initializers=(), opsets=STD, functions=(), doc="", name="g", **kw):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    m = helper.make_model(graph, opset_imports=opsets, producer_name="secmlops-fixtures",
                          producer_version="1.0", functions=list(functions), **kw)
    m.ir_version = 8
    if doc:
        m.doc_string = doc
    return m


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


X = vi("X", [1, 4])
Y = vi("Y", [1, 3])

# ---------------- benign ----------------
w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "W")
b = numpy_helper.from_array(np.zeros(3, dtype=np.float32), "B")
save(model([helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Z"]),
            helper.make_node("Relu", ["Z"], ["Y"])], [X], [Y], [w, b]), "benign/mlp.onnx")

save(model([helper.make_node("LinearClassifier", ["X"], ["label", "prob"], domain="ai.onnx.ml",
                             coefficients=[0.1] * 12, intercepts=[0.0] * 3, classlabels_ints=[0, 1, 2],
                             post_transform="SOFTMAX")],
           [X], [vi("label", [1], TensorProto.INT64), vi("prob", [1, 3])], opsets=ML), "benign/linear_classifier.onnx")

save(model([helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "prob"], domain="ai.onnx.ml",
                             classlabels_int64s=[0, 1], nodes_treeids=[0, 0, 0], nodes_nodeids=[0, 1, 2],
                             nodes_featureids=[0, 0, 0], nodes_values=[0.5, 0.0, 0.0],
                             nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"], nodes_truenodeids=[1, 0, 0],
                             nodes_falsenodeids=[2, 0, 0], nodes_hitrates=[1.0, 1.0, 1.0],
                             nodes_missing_value_tracks_true=[0, 0, 0], class_treeids=[0, 0],
                             class_nodeids=[1, 2], class_ids=[0, 1], class_weights=[1.0, 1.0],
                             post_transform="NONE")],
           [X], [vi("label", [1], TensorProto.INT64), vi("prob", [1, 2])], opsets=ML), "benign/tree_ensemble.onnx")


def branch(name, value):
    c = helper.make_node("Constant", [], [name + "_out"], value=numpy_helper.from_array(np.array([value], dtype=np.float32)))
    return helper.make_graph([c], name, [], [vi(name + "_out", [1])])


cond = vi("cond", [], TensorProto.BOOL)
save(model([helper.make_node("If", ["cond"], ["Y"], then_branch=branch("then", 1.0), else_branch=branch("else", 0.0))],
           [cond], [vi("Y", [1])]), "benign/if_subgraphs.onnx")

# A model-local function in its own domain: nodes calling it expand to standard ops.
fn = helper.make_function("local.fn", "Double", ["x"], ["y"], [helper.make_node("Add", ["x", "x"], ["y"])],
                          [helper.make_opsetid("", 17)])
save(model([helper.make_node("Double", ["X"], ["Y"], domain="local.fn")], [X], [vi("Y", [1, 4])],
           opsets=STD + [helper.make_opsetid("local.fn", 1)], functions=[fn]), "benign/local_function.onnx")

save(model([helper.make_node("FusedMatMul", ["X", "W"], ["Y"], domain="com.microsoft")], [X], [Y], [w],
           opsets=STD + [helper.make_opsetid("com.microsoft", 1)]), "benign/contrib_op.onnx")


def external_tensor(name, dims, location, offset=None, length=None):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return t


def ext_model(location, offset=None, length=None, dims=(4, 3)):
    t = external_tensor("W", list(dims), location, offset, length)
    return model([helper.make_node("MatMul", ["X", "W"], ["Y"])], [X], [Y], [t])


os.makedirs(os.path.join(OUT, "benign_external"), exist_ok=True)
with open(os.path.join(OUT, "benign_external", "weights.bin"), "wb") as f:
    f.write(np.arange(12, dtype=np.float32).tobytes())
save(ext_model("weights.bin", 0, 48), "benign_external/model.onnx")

# ---------------- malicious ----------------
save(model([helper.make_node("Backdoor", ["X"], ["Y"], domain="evil.ops")], [X], [Y],
           opsets=STD + [helper.make_opsetid("evil.ops", 1)]), "malicious/custom_domain.onnx")
save(model([helper.make_node("PyOp", ["X"], ["Y"], domain="ai.onnx.contrib"),
            helper.make_node("PythonOp", ["X"], ["Z"], domain="com.microsoft", func_name="evil.Function")],
           [X], [Y], opsets=STD + [helper.make_opsetid("ai.onnx.contrib", 1), helper.make_opsetid("com.microsoft", 1)]),
     "malicious/python_op.onnx")
# The same operator behind a doc string longer than the probe window (the graph comes after it).
save(model([helper.make_node("PyOp", ["X"], ["Y"], domain="ai.onnx.contrib")], [X], [Y],
           opsets=STD + [helper.make_opsetid("ai.onnx.contrib", 1)], doc="padding " * 20000),
     "malicious/padded_doc_python_op.onnx")
save(model([helper.make_node("Eval", ["X"], ["Y"], domain="my.interp", script="import os; os.system('id')")],
           [X], [Y], opsets=STD + [helper.make_opsetid("my.interp", 1)]), "malicious/code_attribute.onnx")

save(ext_model("/etc/passwd"), "malicious/ext_absolute.onnx")
save(ext_model("../../../../etc/passwd"), "malicious/ext_dotdot.onnx")
save(ext_model("sub/../../secret.bin"), "malicious/ext_dotdot_nested.onnx")
save(ext_model("nope.bin", 0, 48), "malicious/ext_missing.onnx")
os.makedirs(os.path.join(OUT, "ext_range"), exist_ok=True)
with open(os.path.join(OUT, "ext_range", "data.bin"), "wb") as f:
    f.write(b"\0" * 16)
save(ext_model("data.bin", 4096, 48), "ext_range/model.onnx")
# A symlink inside the model's directory that leads outside it.
with open(os.path.join(OUT, "outside_secret.bin"), "wb") as f:
    f.write(b"\0" * 48)
os.makedirs(os.path.join(OUT, "ext_symlink"), exist_ok=True)
link = os.path.join(OUT, "ext_symlink", "weights.bin")
if os.path.lexists(link):
    os.remove(link)
os.symlink("../outside_secret.bin", link)
save(ext_model("weights.bin", 0, 48), "ext_symlink/model.onnx")

# A custom op hidden three subgraph levels down (Loop body > If branch > If branch).
inner = helper.make_graph([helper.make_node("Backdoor", [], ["o"], domain="evil.ops")], "inner", [], [vi("o", [1])])
mid = helper.make_graph([helper.make_node("If", ["c"], ["o"], then_branch=inner, else_branch=branch("e2", 0.0))],
                        "mid", [], [vi("o", [1])])
outer = helper.make_graph([helper.make_node("If", ["c"], ["o"], then_branch=mid, else_branch=branch("e1", 0.0))],
                          "outer", [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL)], [vi("c", [], TensorProto.BOOL), vi("o", [1])])
save(model([helper.make_node("Loop", ["M", "cond"], ["Y"], body=outer)],
           [vi("M", [], TensorProto.INT64), cond], [vi("Y", [1])], opsets=STD + [helper.make_opsetid("evil.ops", 1)]),
     "malicious/nested_custom_op.onnx")

g = branch("leaf", 1.0)
for level in range(40):
    g = helper.make_graph([helper.make_node("If", ["cond"], ["o%d" % level], then_branch=g, else_branch=branch("e", 0.0))],
                          "level%d" % level, [], [vi("o%d" % level, [1])])
save(model(list(g.node), [cond], [vi("o39", [1])]), "malicious/deep_nesting.onnx")

bad = TensorProto()
bad.name, bad.data_type = "W", TensorProto.FLOAT
bad.dims.extend([10, 10])
bad.raw_data = b"\0" * 16
save(model([helper.make_node("MatMul", ["X", "W"], ["Y"])], [X], [Y], [bad]), "malicious/size_mismatch.onnx")

many = []
for i in range(60):
    t = TensorProto()
    t.name, t.data_type = "m%d" % i, TensorProto.FLOAT
    t.dims.extend([4])
    t.raw_data = b"\0" * 4
    many.append(t)
save(model([helper.make_node("Relu", ["X"], ["Y"])], [X], [vi("Y", [1, 4])], many), "malicious/many_mismatches.onnx")

huge = TensorProto()
huge.name, huge.data_type = "W", TensorProto.FLOAT
huge.dims.extend([2 ** 31, 2 ** 31, 2 ** 31])
save(model([helper.make_node("MatMul", ["X", "W"], ["Y"])], [X], [Y], [huge]), "malicious/absurd_dims.onnx")

save(model([helper.make_node("Relu", ["X"], ["Y"])], [X], [vi("Y", [1, 4])],
           doc="See https://example.invalid/payload and run: import os; os.system('true')"), "info/doc_signals.onnx")

# The same custom op with the ModelProto fields in reverse order (graph first): protobuf parsers
# accept any order, so routing must too.
def raw_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | 0x80 if v else b)
        if not v:
            return bytes(out)


def raw_len(n, payload):
    return raw_varint((n << 3) | 2) + raw_varint(len(payload)) + payload


cm = onnx.load_from_string(open(os.path.join(OUT, "malicious/custom_domain.onnx"), "rb").read())
reordered = raw_len(7, cm.graph.SerializeToString())
for o in cm.opset_import:
    reordered += raw_len(8, o.SerializeToString())
reordered += raw_varint(1 << 3) + raw_varint(cm.ir_version)
with open(os.path.join(OUT, "malicious/reordered_fields.onnx"), "wb") as f:
    f.write(reordered)

# ---------------- malformed ----------------
good = open(os.path.join(OUT, "benign/mlp.onnx"), "rb").read()
os.makedirs(os.path.join(OUT, "malformed"), exist_ok=True)
with open(os.path.join(OUT, "malformed/truncated.onnx"), "wb") as f:
    f.write(good[: len(good) * 2 // 3])
# ir_version, producer, then a graph field claiming far more bytes than exist.
with open(os.path.join(OUT, "malformed/bad_length.onnx"), "wb") as f:
    f.write(bytes([0x08, 0x08, 0x12, 0x02]) + b"ab" + bytes([0x3a, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x00]))
with open(os.path.join(OUT, "malformed/random.bin"), "wb") as f:
    f.write(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())

open(os.path.join(OUT, ".stamp"), "w").write("ok\n")
