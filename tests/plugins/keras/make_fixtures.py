#!/usr/bin/python3
"""Writes Keras fixtures (HDF5 models as Keras 2 writes them, Keras 3 .keras members and
archives) into the directory given as argv[1]. No TensorFlow or Keras is needed: attributes,
groups and JSON are laid out by hand. The Lambda payloads are real marshalled Python code
objects that are never executed; they would only run `echo`."""
import base64
import json
import marshal
import os
import sys
import zipfile

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def path(name):
    return os.path.join(OUT, name)


def lambda_code_b64(newlines=True):
    source = "lambda x: __import__('os').system('echo secmlops-fixture-harmless') or x"
    code = compile(source, "<fixture>", "eval").co_consts[0]
    raw = marshal.dumps(code)
    return base64.encodebytes(raw).decode("ascii") if newlines else base64.b64encode(raw).decode("ascii")


def dense(name, units, activation="relu"):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}},
        "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}},
        "bias_constraint": None}}


def input_layer(name="input_1", shape=4):
    return {"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, shape], "dtype": "float32", "sparse": False,
        "ragged": False, "name": name}}


def tf_lambda(name):
    return {"class_name": "Lambda", "config": {
        "name": name, "trainable": True, "dtype": "float32",
        "function": [lambda_code_b64(), None, None], "function_type": "lambda",
        "module": "__main__", "output_shape": None, "output_shape_type": "raw",
        "output_shape_module": None, "arguments": {}}}


def sequential(name, layers):
    return {"class_name": "Sequential", "config": {"name": name, "layers": layers}}


TRAINING = {"loss": "categorical_crossentropy",
            "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
                "name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}]],
            "weighted_metrics": None, "loss_weights": None,
            "optimizer_config": {"class_name": "Adam", "config": {
                "name": "Adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                "epsilon": 1e-07, "amsgrad": False}}}


def write_h5(name, model_config, training=TRAINING, weights=(("dense", (4, 8)), ("dense_1", (8, 3))),
             extra=None):
    with h5py.File(path(name), "w") as f:
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["backend"] = "tensorflow"
        if model_config is not None:
            # Keras 2 stores JSON attributes as bytes (fixed-length strings).
            f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        if training is not None:
            f.attrs["training_config"] = json.dumps(training).encode("utf8")
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [n.encode("utf8") for n, _ in weights]
        mw.attrs["backend"] = "tensorflow"
        mw.attrs["keras_version"] = "2.12.0"
        for layer, shape in weights:
            g = mw.create_group(layer)
            g.attrs["weight_names"] = [f"{layer}/kernel:0".encode(), f"{layer}/bias:0".encode()]
            g.create_dataset(f"{layer}/kernel:0", data=np.full(shape, 0.5, dtype=np.float32))
            g.create_dataset(f"{layer}/bias:0", data=np.zeros(shape[-1], dtype=np.float32))
        if extra:
            extra(f)


benign_model = sequential("sequential", [input_layer(), dense("dense", 8), dense("dense_1", 3, "softmax")])
write_h5("benign.h5", benign_model)
write_h5("lambda.h5", sequential("sequential", [input_layer(), dense("dense", 8), tf_lambda("evil_lambda"),
                                                dense("dense_1", 3, "softmax")]))
custom = sequential("sequential", [input_layer(), dense("dense", 8),
                                   {"class_name": "MyAttentionBlock", "config": {"name": "my_block", "units": 3}}])
write_h5("custom_layer.h5", custom)
# A functional model holding a nested Sequential that holds the Lambda.
inner = sequential("inner", [dense("inner_dense", 8), tf_lambda("nested_lambda")])
functional = {"class_name": "Functional", "config": {
    "name": "model", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                "name": "in"}, "name": "in", "inbound_nodes": []},
        dict(inner, name="inner", inbound_nodes=[[["in", 0, 0, {}]]]),
    ], "input_layers": [["in", 0, 0]], "output_layers": [["inner", 0, 0]]}}
write_h5("nested_lambda.h5", functional)
write_h5("training_custom.h5", benign_model, training=dict(TRAINING, loss="my_secret_loss"))
write_h5("bad_config.h5", None, extra=lambda f: f.attrs.__setitem__("model_config", b"{\"class_name\": \"Seq"))
write_h5("external_link.h5", benign_model,
         extra=lambda f: f.__setitem__("leak", h5py.ExternalLink("/etc/passwd", "/data")))
write_h5("external_storage.h5", benign_model,
         extra=lambda f: f.create_dataset("ext", shape=(16,), dtype="f4",
                                          external=[("/tmp/secmlops-fixture-external.bin", 0, 64)]))
# Keras 3 model.weights.h5: no model config, layers/<name>/vars/<i>.
with h5py.File(path("model.weights.h5"), "w") as f:
    for layer, shape in (("dense", (4, 8)), ("dense_1", (8, 3))):
        v = f.create_group(f"layers/{layer}/vars")
        v.create_dataset("0", data=np.full(shape, 0.25, dtype=np.float32))
        v.create_dataset("1", data=np.zeros(shape[-1], dtype=np.float32))
    f.create_group("optimizer/vars")
with open(path("benign.h5"), "rb") as src:
    head = src.read(1200)
with open(path("truncated.h5"), "wb") as dst:
    dst.write(head)

# ---- Keras 3 (.keras) members ----
def k3(module, class_name, config, registered=None, **extra):
    return dict({"module": module, "class_name": class_name, "config": config, "registered_name": registered},
                **extra)


policy = k3("keras", "DTypePolicy", {"name": "float32"})


def k3_dense(name, units):
    return k3("keras.layers", "Dense", {
        "name": name, "trainable": True, "dtype": policy, "units": units,
        "activation": "relu", "use_bias": True,
        "kernel_initializer": k3("keras.initializers", "GlorotUniform", {"seed": None}),
        "bias_initializer": k3("keras.initializers", "Zeros", {})}, build_config={"input_shape": [None, 4]})


def k3_model(layers, compile_config=None):
    cfg = k3("keras", "Sequential", {"name": "sequential", "trainable": True, "dtype": policy,
                                     "layers": [k3("keras.layers", "InputLayer", {
                                         "batch_shape": [None, 4], "dtype": "float32", "sparse": False,
                                         "name": "input_layer"})] + layers},
             build_config={"input_shape": [None, 4]})
    cfg["compile_config"] = compile_config or {
        "optimizer": k3("keras.optimizers", "Adam", {"name": "adam", "learning_rate": 0.001}),
        "loss": "mse", "loss_weights": None, "metrics": ["mae"], "weighted_metrics": None,
        "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    return cfg


k3_lambda = k3("keras.layers", "Lambda", {
    "name": "evil_lambda", "trainable": True, "dtype": policy,
    "function": {"class_name": "__lambda__", "config": {"code": lambda_code_b64(False), "defaults": None,
                                                        "closure": None}},
    "arguments": {}})
configs = {
    "config_benign.json": k3_model([k3_dense("dense", 8), k3_dense("dense_1", 3)]),
    "config_lambda.json": k3_model([k3_dense("dense", 8), k3_lambda]),
    "config_os_system.json": k3_model([k3_dense("dense", 8), k3("keras.layers", "Activation", {
        "name": "act", "activation": k3("os", "function", "system", "system")})]),
    "config_external_module.json": k3_model([k3("my_company.layers", "FancyDense", {"name": "fancy"},
                                                "my_company>FancyDense")]),
    "config_get_file.json": k3_model([k3_dense("dense", 8), k3("keras.layers", "Activation", {
        "name": "act", "activation": k3("keras.utils", "function", "get_file", "get_file")})]),
    # CVE-2025-9906 shape: a Lambda calling keras.models.load_model with safe_mode off.
    "config_lambda_load_model.json": k3_model([k3("keras.layers", "Lambda", {
        "name": "unsafe_deserialization",
        "function": k3("keras.models", "function", "load_model", "function"),
        "arguments": {"safe_mode": False}})]),
    "config_lambda_named.json": k3_model([k3("keras.layers", "Lambda", {
        "name": "helper", "function": k3("my_utils", "function", "scale", "function"), "arguments": {}})]),
    "config_registered.json": k3_model([k3("keras.layers", "Dense", {"name": "d"}, "MyPkg>Dense")]),
    "config_custom_loss.json": k3_model([k3_dense("dense", 8)], {"optimizer": "adam", "loss": "my_loss",
                                                                  "metrics": ["accuracy"]}),
}
for name, cfg in configs.items():
    with open(path(name), "w") as f:
        json.dump(cfg, f)
with open(path("config_invalid.json"), "w") as f:
    f.write('{"module": "keras", "class_name": "Sequential", "config": {"layers": [ }')
with open(path("config_deep.json"), "w") as f:
    f.write('{"class_name": "Sequential", "config": ' + '{"a": ' * 5000 + '1' + '}' * 5000 + '}')
with open(path("plain.json"), "w") as f:
    json.dump({"name": "not a keras config", "values": [1, 2, 3]}, f)
metadata = {"keras_version": "3.3.3", "date_saved": "2024-05-01@12:00:00"}
with open(path("metadata.json"), "w") as f:
    json.dump(metadata, f)


def write_keras(name, cfg):
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("config.json", json.dumps(cfg))
        with open(path("model.weights.h5"), "rb") as w:
            z.writestr("model.weights.h5", w.read())


write_keras("benign.keras", configs["config_benign.json"])
write_keras("lambda.keras", configs["config_lambda.json"])
