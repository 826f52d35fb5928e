// A data-only pickle machine: it rebuilds lists, tuples, dicts, scalars, NumPy arrays and dtypes,
// and records objects of the classes an allowlist names (scikit-learn estimators, tree state,
// joblib's array wrapper) as (class, arguments, state) — it never imports or calls anything.
// Every other global, and every opcode a model's state does not need (persistent ids, extension
// registry, out-of-band buffers, sets, protocol 0/1 object creation), refuses the stream.
#pragma once

#include "sklearn/pickle_value.hpp"

#include <cstdint>
#include <span>

namespace secmlops::host::sklearn {

struct VmLimits {
  uint64_t max_values = 2'000'000;  // values built, all nested pickles together (~150 bytes each)
  uint64_t max_stack = 1u << 20;    // stack entries, marks included
  uint64_t max_memo = 1u << 22;     // memo entries
  uint64_t max_bytes =
      2ull << 30;           // bytes copied (strings, call results), object lists, record fields
  uint32_t max_dims = 32;   // array dimensions (NumPy's own limit)
  uint32_t max_nested = 2;  // pickles inside pickles (joblib object arrays)
};

struct Unpickled {
  const Value* root = nullptr;
  int protocol = 0;
  uint64_t end = 0;  // offset just after STOP
};

// Rebuilds the pickle that starts at `start` in `bytes` (joblib array data that follow the
// stream's BUILD opcodes are read from the same bytes). Bytes values and array data are views
// into `bytes`, which must outlive the arena's use. Throws ImportError with the offset of the
// opcode at fault.
Unpickled run_pickle(Arena& arena, std::span<const uint8_t> bytes, uint64_t start,
                     const VmLimits& limits = {});

// The classes an estimator import may meet, for messages ("supported: …").
const char* supported_estimators();

}  // namespace secmlops::host::sklearn
