#!/usr/bin/python3
"""Writes safetensors fixtures (one benign file and one file per anomaly) into argv[1], with
struct + json only. File names say which rule each one must trigger."""
import json
import os
import struct
import sys

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def write(name, header, data, raw_header=None, prefix=None):
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    # Pad the header with spaces to 8 bytes, as the reference writer does.
    if raw_header is None:
        h += b" " * (-len(h) % 8)
    n = len(h) if prefix is None else prefix
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", n) + h + data)


def t(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


META = {"__metadata__": {"format": "pt", "source": "secmlops fixture"}}
benign = dict(META, weight=t("F32", [2, 3], 0, 24), bias=t("F16", [3], 24, 30), step=t("I64", [], 30, 38),
              empty=t("F32", [0, 4], 38, 38))
write("benign.safetensors", benign, bytes(38))
write("trailing_data.safetensors", benign, bytes(38) + b"PK\x03\x04 polyglot payload")
write("gap.safetensors", dict(META, a=t("F32", [2], 0, 8), b=t("F32", [2], 16, 24)), bytes(24))
write("overlap.safetensors", dict(META, a=t("F32", [4], 0, 16), b=t("F32", [2], 8, 16)), bytes(16))
write("size_mismatch.safetensors", dict(META, a=t("F32", [3, 3], 0, 16)), bytes(16))
write("offset_out_of_bounds.safetensors", dict(META, a=t("F32", [4], 0, 16), b=t("U8", [64], 16, 80)), bytes(16))
write("offset_invalid.safetensors", dict(META, a=t("F32", [2], 8, 0)), bytes(8))
write("unknown_dtype.safetensors", dict(META, a=t("Q4_WEIRD", [4], 0, 4)), bytes(4))
write("tensor_malformed.safetensors", dict(META, a={"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}),
      bytes(4))
write("metadata_invalid.safetensors", {"__metadata__": {"n": 1}, "a": t("U8", [4], 0, 4)}, bytes(4))
write("duplicate_key.safetensors", None, bytes(8),
      raw_header=b'{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},'
                 b'"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}')
write("invalid_json.safetensors", None, bytes(4), raw_header=b'{"a": {"dtype": "U8", "shape": [4]')
write("not_object.safetensors", None, b"", raw_header=b'{}  ')  # valid: empty file
write("header_out_of_bounds.safetensors", None, b"", raw_header=b'{"a":1}', prefix=4096)
write("header_too_large.safetensors", None, b"", raw_header=b'{"a":1}', prefix=200_000_000)
write("size_overflow.safetensors", dict(META, a=t("F64", [2**62, 2**62], 0, 0)), b"")
with open(os.path.join(OUT, "truncated.safetensors"), "wb") as f:
    f.write(b"\x10\x00\x00")
