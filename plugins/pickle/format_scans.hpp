// The scans of the formats that wrap pickles (formats.hpp dispatches to them).
#pragma once

#include "pickle_scan.hpp"

#include <cstdint>

namespace secmlops::plugins::pickle {

// A .npy file: the header, then an object array's pickle or the skipped array bytes.
bool scan_numpy(ScanState& s);
// A legacy torch.save file: five pickles, then the raw storages they describe.
bool scan_torch_legacy(ScanState& s);

// acc *= v; false (acc unchanged) when the product overflows.
inline bool checked_mul(uint64_t& acc, uint64_t v) {
  if (v != 0 && acc > UINT64_MAX / v) return false;
  acc *= v;
  return true;
}

}  // namespace secmlops::plugins::pickle
