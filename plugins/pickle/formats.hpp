// The file formats the pickle scanner handles, recognised by content, and their scans.
#pragma once

#include "pickle_scan.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::pickle {

inline constexpr const char* kFormatPickle = "pickle";
inline constexpr const char* kFormatNumpy = "numpy";
inline constexpr const char* kFormatTorchLegacy = "torch-legacy";

// Confidence 0–100 that `head` starts a stream of one of our formats; sets `format`.
// `name` (the file or member name, may be empty) only vetoes: a PyTorch storage member
// (`…/data/<n>`) is claimed only when its head holds a complete pickle.
uint32_t probe_format(std::span<const uint8_t> head, const char*& format,
                      std::string_view name = {});

// A parsed .npy header.
struct NpyHeader {
  uint32_t major = 0, minor = 0;
  uint64_t data_offset = 0;
  std::string descr;  // as written (a type string, or "<structured>")
  bool fortran_order = false;
  std::vector<uint64_t> shape;
  uint64_t itemsize = 0;
  bool has_object = false;
};
// Parses the header at the start of `data` (which holds at least the whole header). Returns an
// error message, or nullopt on success.
std::optional<std::string> parse_npy_header(const uint8_t* data, uint64_t size, NpyHeader& out);

// Scans [0, size) of the state's input as `format`. Returns false when the analysis could not
// reach the end (a limit, a malformed structure): the findings say why.
bool scan_format(ScanState& state, std::string_view format);

}  // namespace secmlops::plugins::pickle
