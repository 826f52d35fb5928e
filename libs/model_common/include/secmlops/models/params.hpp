// Typed, range-checked access to model parameters (k=v strings), failing with messages that
// name the parameter, the value and what is allowed.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace secmlops::models {

class Params {
 public:
  // `known` lists every parameter the model understands: an unknown key is an error, so a typo
  // never silently trains with a default.
  Params(const sdk::Config& config, std::initializer_list<const char*> known);

  // A number > 0 (or >= 0 when allow_zero).
  double positive(const char* key, double fallback, bool allow_zero = false) const;
  // An integer in [lo, hi].
  int64_t integer(const char* key, int64_t fallback, int64_t lo, int64_t hi) const;
  bool flag(const char* key, bool fallback) const { return config_.get_bool(key, fallback); }
  // One of `choices`.
  std::string choice(const char* key, const std::string& fallback,
                     std::initializer_list<const char*> choices) const;
  // Comma-separated positive integers, e.g. "100,50".
  std::vector<int64_t> int_list(const char* key, const std::vector<int64_t>& fallback, int64_t lo,
                                int64_t hi) const;

 private:
  const sdk::Config& config_;
};

// Labels must be 0..k-1 with every class present; returns k. Throws INVALID_ARGUMENT naming the
// missing class otherwise.
uint32_t count_classes(std::span<const int32_t> y, uint32_t max_classes = 10000);

// Throws INVALID_ARGUMENT when any value is NaN or infinite (names the row and column).
void check_finite(const sdk::Matrix& x, const char* what);

}  // namespace secmlops::models
