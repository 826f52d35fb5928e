// The scikit-learn import on arbitrary bytes: decompression, the allowlist pickle machine and the
// estimator mapping. ImportError is the only allowed failure; memory stays within the machine's
// limits (lowered here so that libFuzzer's RSS limit catches any allocation the limits miss).
#include "sklearn/estimators.hpp"
#include "sklearn/pickle_vm.hpp"
#include "sklearn/sklearn_import.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

using namespace secmlops::host::sklearn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  VmLimits limits;
  limits.max_values = 200000;
  limits.max_bytes = 64ull << 20;
  limits.max_stack = 1u << 16;
  limits.max_memo = 1u << 16;
  try {
    Arena arena;
    Unpickled u = run_pickle(arena, bytes, 0, limits);
    (void)convert_estimator(*u.root);
  } catch (const ImportError&) {
  }
  // The full path, joblib decompression included, with the default limits.
  if (size < (1u << 16)) {
    try {
      (void)import_pickle(bytes);
    } catch (const ImportError&) {
    }
  }
  return 0;
}
