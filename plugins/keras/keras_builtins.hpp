// Names Keras itself defines: anything else in a model config is a custom object whose code
// lives outside the file (and must be supplied — or imported — when the model loads).
#pragma once

#include <string_view>

namespace secmlops::plugins::keras {

// A class name Keras 2 (tf.keras) or Keras 3 ships: layers, models, initializers, regularizers,
// constraints, optimizers, learning-rate schedules, losses, metrics, dtype policies and the
// Keras 3 serialization markers (__tuple__, __numpy__, …). Lambda is included: it is handled by
// its own rule.
bool is_builtin_class(std::string_view class_name);

// A loss or metric Keras resolves from a plain string (training_config / compile_config).
bool is_builtin_loss_or_metric(std::string_view name);

// An optimizer class name (tf.keras 2.11-2.12 wrote built-in optimizers as "Custom>Adam").
bool is_builtin_optimizer(std::string_view class_name);

// A Python module from which importing a callable gives code execution or file/network access
// (os, subprocess, builtins, …): a config pointing there is an attack, not a custom layer.
bool is_dangerous_module(std::string_view module);

// A module that belongs to Keras (keras, keras.*, tf_keras, tensorflow.keras, …).
bool is_keras_module(std::string_view module);

// Keras functions that are dangerous although Keras ships them (download files, turn off safe
// mode): reachable through {"module": "keras.utils", "class_name": "function", "config": …}.
bool is_dangerous_keras_function(std::string_view name);

}  // namespace secmlops::plugins::keras
