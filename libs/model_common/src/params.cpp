#include "secmlops/models/params.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace secmlops::models {

namespace {
[[noreturn]] void bad(const std::string& message) {
  throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, message);
}
}  // namespace

Params::Params(const sdk::Config& config, std::span<const secmlops_option> declared)
    : config_(config) {
  for (const auto& [key, value] : config.entries()) {
    bool ok = false;
    for (const auto& k : declared) ok = ok || key == k.name;
    if (!ok) {
      std::string list;
      for (const auto& k : declared) list += (list.empty() ? "" : ", ") + std::string(k.name);
      bad("unknown parameter '" + key + "' (known: " + list + ")");
    }
  }
}

double Params::positive(const char* key, double fallback, bool allow_zero) const {
  double v = config_.get_double(key, fallback);
  if (!std::isfinite(v) || v < 0 || (!allow_zero && v == 0))
    bad(std::string("parameter '") + key + "' must be " + (allow_zero ? ">= 0" : "> 0") + ", got " +
        std::to_string(v));
  return v;
}

int64_t Params::integer(const char* key, int64_t fallback, int64_t lo, int64_t hi) const {
  int64_t v = config_.get_int(key, fallback);
  if (v < lo || v > hi)
    bad(std::string("parameter '") + key + "' must be in [" + std::to_string(lo) + ", " +
        std::to_string(hi) + "], got " + std::to_string(v));
  return v;
}

std::string Params::choice(const char* key, const std::string& fallback,
                           std::initializer_list<const char*> choices) const {
  std::string v = config_.get_string(key, fallback);
  std::string list;
  for (const char* c : choices) {
    if (v == c) return v;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  bad(std::string("parameter '") + key + "' must be one of " + list + ", got '" + v + "'");
}

std::vector<int64_t> Params::int_list(const char* key, const std::vector<int64_t>& fallback,
                                      int64_t lo, int64_t hi) const {
  auto raw = config_.get(key);
  if (!raw) return fallback;
  std::vector<int64_t> out;
  std::stringstream ss(*raw);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < lo || v > hi)
      bad(std::string("parameter '") + key + "' must be a comma-separated list of integers in [" +
          std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + *raw + "'");
    out.push_back(v);
    if (out.size() > 64) bad(std::string("parameter '") + key + "' has more than 64 entries");
  }
  if (out.empty()) bad(std::string("parameter '") + key + "' is empty");
  return out;
}

uint32_t count_classes(std::span<const int32_t> y, uint32_t max_classes) {
  int32_t top = -1;
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] < 0 || static_cast<uint32_t>(y[i]) >= max_classes)
      bad("label of row " + std::to_string(i) + " is " + std::to_string(y[i]) + ", outside 0.." +
          std::to_string(max_classes - 1));
    top = std::max(top, y[i]);
  }
  uint32_t k = static_cast<uint32_t>(top + 1);
  std::vector<uint8_t> seen(k, 0);
  for (int32_t v : y) seen[static_cast<size_t>(v)] = 1;
  for (uint32_t c = 0; c < k; ++c)
    if (!seen[c])
      bad("class " + std::to_string(c) + " has no training row (labels must be 0..k-1)");
  if (k < 2) bad("training data has a single class; a classifier needs at least two");
  return k;
}

void check_finite(const sdk::Matrix& x, const char* what) {
  const double* d = x.data();
  uint64_t n = x.rows() * x.cols();
  for (uint64_t i = 0; i < n; ++i)
    if (!std::isfinite(d[i]))
      bad(std::string(what) + ": value at row " + std::to_string(i / x.cols()) + ", column " +
          std::to_string(i % x.cols()) + " is not finite");
}

template <typename T>
std::optional<T> parse_whole(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || stop != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_integer(std::string_view text) { return parse_whole<int64_t>(text); }
std::optional<double> parse_number(std::string_view text) { return parse_whole<double>(text); }

}  // namespace secmlops::models
