// scikit-learn pickles and joblib files to ONNX bytes a model plugin imports, without running
// them: optional joblib decompression, the allowlist pickle machine, the estimator mapping.
#pragma once

#include "sklearn/estimators.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace secmlops::host::sklearn {

// True when the bytes start like a pickle (PROTO opcode, or a protocol 0/1 stream that ends
// with STOP) or like one of joblib's compressed files (zlib, gzip, bzip2, xz, lzma, lz4).
bool looks_like_pickle(std::span<const uint8_t> bytes);

// What a file that is neither ONNX nor a pickle looks like ("a NumPy .npy array file", …), or
// empty when it is not recognised.
std::string other_format(std::span<const uint8_t> bytes);

// Decompresses when needed, rebuilds the estimator and converts it (jobs as convert_estimator).
// Throws ImportError.
Converted import_pickle(std::span<const uint8_t> bytes, int jobs = 0);

}  // namespace secmlops::host::sklearn
