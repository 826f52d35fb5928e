#!/usr/bin/python3
"""Writes the 1 GiB benchmark inputs into argv[1] (skips files that already exist):
  weights_1g.h5          Keras 2 HDF5 model: model_config with 64 Dense layers, 128 datasets
                         holding 1 GiB of real (written, not sparse) float32 data
  weights_1g.safetensors 64 tensors, 1 GiB of real data
  weights_1g.gguf        64 F32 tensors, 1 GiB of real data
Data is written in 16 MiB blocks so generation needs little memory."""
import json
import os
import struct
import sys

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
LAYERS = 64
ROWS, COLS = 2048, 2048  # 16 MiB of float32 per kernel; 64 kernels = 1 GiB
block = np.full((ROWS, COLS), 0.5, dtype=np.float32)

h5_path = os.path.join(OUT, "weights_1g.h5")
if not os.path.exists(h5_path):
    layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, COLS], "dtype": "float32",
                                                      "name": "input_1"}}]
    layers += [{"class_name": "Dense", "config": {
        "name": f"dense_{i}", "trainable": True, "dtype": "float32", "units": COLS, "activation": "relu",
        "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}}} for i in range(LAYERS)]
    with h5py.File(h5_path + ".tmp", "w") as f:
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential",
                                              "config": {"name": "big", "layers": layers}}).encode()
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [f"dense_{i}".encode() for i in range(LAYERS)]
        for i in range(LAYERS):
            g = mw.create_group(f"dense_{i}")
            g.attrs["weight_names"] = [f"dense_{i}/kernel:0".encode(), f"dense_{i}/bias:0".encode()]
            g.create_dataset(f"dense_{i}/kernel:0", data=block)
            g.create_dataset(f"dense_{i}/bias:0", data=np.zeros(COLS, dtype=np.float32))
    os.rename(h5_path + ".tmp", h5_path)

st_path = os.path.join(OUT, "weights_1g.safetensors")
if not os.path.exists(st_path):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for i in range(LAYERS):
        header[f"layers.{i}.weight"] = {"dtype": "F32", "shape": [ROWS, COLS],
                                        "data_offsets": [offset, offset + block.nbytes]}
        offset += block.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(st_path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for _ in range(LAYERS):
            f.write(block.tobytes())
    os.rename(st_path + ".tmp", st_path)

gg_path = os.path.join(OUT, "weights_1g.gguf")
if not os.path.exists(gg_path):
    def s(t):
        b = t.encode()
        return struct.pack("<Q", len(b)) + b
    kv = [s("general.architecture") + struct.pack("<I", 8) + s("llama"),
          s("general.alignment") + struct.pack("<II", 4, 32)]
    tensors = [s(f"blk.{i}.ffn.weight") + struct.pack("<IQQIQ", 2, COLS, ROWS, 0, i * block.nbytes)
               for i in range(LAYERS)]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv) + b"".join(tensors)
    head += b"\0" * (-len(head) % 32)
    with open(gg_path + ".tmp", "wb") as f:
        f.write(head)
        for _ in range(LAYERS):
            f.write(block.tobytes())
    os.rename(gg_path + ".tmp", gg_path)
