// Instruction-set variants of the hot model kernels. Kernel translation units are compiled once
// per Isa (cmake/SecmlopsIsaVariants.cmake), each into its own namespace isa_<name>; callers
// name the three copies and `dispatch` picks the one for this process:
//   the best the processor supports (__builtin_cpu_supports), lowered — never raised — by the
//   environment variable SECMLOPS_CPU=portable|avx2|avx512 (unset or "auto": no limit).
// The choice is made once, on first use; tests can override it (set_isa).
#pragma once

#include <optional>
#include <string_view>

namespace secmlops::models {

enum class Isa { portable = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);
// The best variant this processor can run.
Isa best_supported_isa();
// The variant in use: best_supported_isa() capped by SECMLOPS_CPU, or the last set_isa().
Isa active_isa();
// Uses `isa` from now on (capped at best_supported_isa()); returns the previous choice. For
// tests and benchmarks that compare variants in one process; not thread-safe against running
// kernels.
Isa set_isa(Isa isa);

template <class F>
F pick(Isa isa, F portable, F avx2, F avx512) {
  switch (isa) {
    case Isa::avx512:
      return avx512;
    case Isa::avx2:
      return avx2;
    case Isa::portable:
      break;
  }
  return portable;
}

}  // namespace secmlops::models

// Declares the same function (or functions) in the three variant namespaces, and
// SECMLOPS_DISPATCH(name) is the copy active_isa() selects: the caller's namespace must be the
// one that holds isa_portable, isa_avx2 and isa_avx512.
#define SECMLOPS_ISA_DECLARE(...) \
  namespace isa_portable {        \
  __VA_ARGS__;                    \
  }                               \
  namespace isa_avx2 {            \
  __VA_ARGS__;                    \
  }                               \
  namespace isa_avx512 {          \
  __VA_ARGS__;                    \
  }
#define SECMLOPS_DISPATCH(name)                                                    \
  (::secmlops::models::pick(::secmlops::models::active_isa(), &isa_portable::name, \
                            &isa_avx2::name, &isa_avx512::name))
