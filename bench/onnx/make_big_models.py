#!/usr/bin/python3
"""Writes huge ONNX models for the scan benchmark into argv[1], as sparse files (seconds, no disk).

  external/model.onnx + external/weights.bin   1 GiB of weights in an external-data file
  inline/model.onnx                            1 GiB of raw_data inside the ModelProto
  inline3g/model.onnx                          3 GiB inline: beyond protobuf's 2 GiB message limit

The protobuf framing is written by hand so the payload bytes are never materialised.
"""
import os
import sys

from onnx import TensorProto, helper

OUT = sys.argv[1]
GIB = 1 << 30
TENSORS = 16


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | 0x80 if v else b)
        if not v:
            return bytes(out)


def lfield(n, payload):
    return varint((n << 3) | 2) + varint(len(payload)) + payload


def external_model(total):
    per = total // TENSORS
    inits = []
    for i in range(TENSORS):
        t = TensorProto()
        t.name, t.data_type = "w%d" % i, TensorProto.FLOAT
        t.dims.extend([per // 4])
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "weights.bin"), ("offset", i * per), ("length", per)):
            e = t.external_data.add()
            e.key, e.value = k, str(v)
        inits.append(t)
    nodes = [helper.make_node("Identity", ["w%d" % i], ["y%d" % i]) for i in range(TENSORS)]
    outs = [helper.make_tensor_value_info("y%d" % i, TensorProto.FLOAT, [per // 4]) for i in range(TENSORS)]
    g = helper.make_graph(nodes, "big", [], outs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench")
    m.ir_version = 8
    d = os.path.join(OUT, "external")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    with open(os.path.join(d, "weights.bin"), "wb") as f:
        f.truncate(total)


def inline_model(name, total):
    per = total // TENSORS
    # TensorProto head: dims, data_type=FLOAT, name, then the raw_data tag and length.
    heads = []
    for i in range(TENSORS):
        head = varint(1 << 3) + varint(per // 4) + varint(2 << 3) + varint(1) + lfield(8, b"w%d" % i)
        head += varint((9 << 3) | 2) + varint(per)
        heads.append(head)
    nodes = b"".join(lfield(1, helper.make_node("Identity", ["w%d" % i], ["y%d" % i]).SerializeToString())
                     for i in range(TENSORS))
    graph_len = len(nodes) + sum(len(varint(5 << 3 | 2)) + len(varint(len(h) + per)) + len(h) + per for h in heads)
    opset = lfield(8, helper.make_opsetid("", 17).SerializeToString())
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(varint(1 << 3) + varint(8) + lfield(2, b"bench") + varint((7 << 3) | 2) + varint(graph_len))
        f.write(nodes)
        for h in heads:
            f.write(varint((5 << 3) | 2) + varint(len(h) + per) + h)
            f.seek(per, os.SEEK_CUR)  # the payload: a hole in a sparse file
        f.write(opset)


external_model(GIB)
inline_model("inline", GIB)
inline_model("inline3g", 3 * GIB)
