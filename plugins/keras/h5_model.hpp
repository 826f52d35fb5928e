// Keras HDF5 files (Keras 2 / tf.keras .h5 models, Keras 3 model.weights.h5) read through
// libhdf5 straight from the mapped bytes: the image is opened read-only in place (core driver
// with file-image callbacks that never copy, as H5LTopen_file_image with DONT_COPY |
// DONT_RELEASE does), so only the metadata pages HDF5 touches are read; tensor data never is.
// libhdf5 is not thread-safe in Debian's serial build: every call into it is serialised behind one
// mutex.
#pragma once

#include "keras_config.hpp"

#include <functional>

namespace secmlops::plugins::keras {

struct H5Limits {
  uint64_t max_links = 200'000;                // links visited in the whole file
  uint64_t max_attribute_bytes = 64ull << 20;  // one string attribute (model_config)
};

struct H5Result {
  Findings findings;
  std::string error;  // set when the file could not be opened or walked completely
  bool cancelled = false;
  uint64_t groups = 0;
  uint64_t datasets = 0;
};

// Confidence (0..100) that `head` starts an HDF5 file (signature at 0 or at a user-block
// boundary 512, 1024, 2048, …).
uint32_t probe_h5(sdk::Bytes head);

// Analyses the HDF5 file held in `image` (never copied, never written).
H5Result analyze_h5(sdk::Bytes image, const WalkLimits& walk = {}, const H5Limits& limits = {},
                    const std::function<bool()>& cancelled = {});

}  // namespace secmlops::plugins::keras
