#include <secmlops/models/isa.hpp>

#include <atomic>
#include <cstdlib>

namespace secmlops::models {
namespace {

Isa detect() {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512bw");
  return avx512 ? Isa::avx512 : avx2 ? Isa::avx2 : Isa::portable;
}

Isa cap(Isa wanted) {
  return static_cast<int>(wanted) < static_cast<int>(best_supported_isa()) ? wanted
                                                                           : best_supported_isa();
}

Isa from_environment() {
  const char* env = std::getenv("SECMLOPS_CPU");
  if (env == nullptr) return best_supported_isa();
  // An unknown value does not limit anything: the variable can only lower the choice.
  return cap(parse_isa(env).value_or(Isa::avx512));
}

std::atomic<int>& chosen() {
  static std::atomic<int> isa{static_cast<int>(from_environment())};
  return isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::portable:
      return "portable";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  if (name == "portable") return Isa::portable;
  if (name == "avx2") return Isa::avx2;
  if (name == "avx512") return Isa::avx512;
  return std::nullopt;
}

Isa best_supported_isa() {
  static const Isa best = detect();
  return best;
}

Isa active_isa() { return static_cast<Isa>(chosen().load(std::memory_order_relaxed)); }

Isa set_isa(Isa isa) { return static_cast<Isa>(chosen().exchange(static_cast<int>(cap(isa)))); }

}  // namespace secmlops::models
