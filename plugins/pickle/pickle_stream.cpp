// A stream of pickles: every pickle stacked after another is parsed too (a loader that calls
// pickle.load repeatedly runs each), and whatever follows the last one is described.
#include "pickle_scan.hpp"

#include <algorithm>
#include <cstring>

namespace secmlops::plugins::pickle {
namespace {

// What a run of bytes looks like, for trailing-data findings.
struct Shape {
  const char* what;
  secmlops_severity severity;
};
Shape describe(const uint8_t* p, uint64_t n, bool all_zero) {
  auto starts = [&](const char* magic, size_t len) {
    return n >= len && std::memcmp(p, magic, len) == 0;
  };
  if (all_zero) return {"zero padding", SECMLOPS_SEVERITY_INFO};
  if (starts("PK\x03\x04", 4) || starts("PK\x05\x06", 4))
    return {"a zip archive (polyglot file: zip loaders read it)", SECMLOPS_SEVERITY_MEDIUM};
  if (starts("\x1f\x8b", 2)) return {"gzip data", SECMLOPS_SEVERITY_MEDIUM};
  if (starts("\x93NUMPY", 6)) return {"a NumPy .npy array", SECMLOPS_SEVERITY_MEDIUM};
  if (starts("\x7f"
             "ELF",
             4))
    return {"an ELF executable", SECMLOPS_SEVERITY_HIGH};
  if (starts("MZ", 2)) return {"a Windows executable", SECMLOPS_SEVERITY_HIGH};
  if (starts("#!", 2)) return {"a script", SECMLOPS_SEVERITY_HIGH};
  bool text = true;
  for (uint64_t i = 0; i < n && i < 4096; ++i)
    if (p[i] < 0x09 || (p[i] > 0x0d && p[i] < 0x20) || p[i] == 0x7f) {
      text = false;
      break;
    }
  if (text) return {"text", SECMLOPS_SEVERITY_MEDIUM};
  return {"unrecognised binary data", SECMLOPS_SEVERITY_MEDIUM};
}

bool plausible_pickle_start(const uint8_t* p, uint64_t n) {
  if (n >= 2 && p[0] == 0x80 && p[1] <= 5) return true;
  // Protocol 0/1 pickles start with a container, a constant or an import.
  return n >= 2 && std::strchr("(]})cNIKJXUTSVFLGi", p[0]) != nullptr && p[0] != 0;
}

}  // namespace

bool inspect_trailing(ScanState& state, uint64_t pos, uint64_t end,
                      const std::string& what_precedes, const std::string& context) {
  uint64_t n = std::min<uint64_t>(end - pos, 1u << 20);
  const uint8_t* p = state.cursor.try_at(pos, n);
  if (p == nullptr) return false;
  bool all_zero = true;
  for (uint64_t i = 0; i < n; ++i)
    if (p[i] != 0) {
      all_zero = false;
      break;
    }
  if (all_zero && n < end - pos) all_zero = false;  // only the first MiB was checked
  Shape s = describe(p, n, all_zero);
  std::string detail =
      context.empty() ? "after " + what_precedes : context + ", after " + what_precedes;
  emit(state, "PICKLE-TRAILING-DATA", s.severity,
       std::to_string(end - pos) + " bytes after " + what_precedes + " hold " + s.what +
           "; loaders ignore them but other tools may not",
       pos, detail, {{"bytes", std::to_string(end - pos)}});
  return true;
}

bool scan_pickle_stream(ScanState& state, uint64_t start, uint64_t end, const std::string& context,
                        bool stacked_is_expected) {
  uint64_t pos = start;
  uint64_t count = 0;
  while (pos < end) {
    if (count >= state.limits.max_pickles) {
      emit(state, "PICKLE-LIMIT", SECMLOPS_SEVERITY_MEDIUM,
           "more than " + std::to_string(state.limits.max_pickles) +
               " stacked pickles; the rest was not analysed",
           pos, context);
      state.limit_hit = true;
      return false;
    }
    PickleResult r;
    if (count == 0) {
      r = parse_pickle(state, pos, end, context);
    } else {
      // Something follows a STOP. A pickle is analysed (its findings count); anything else is
      // described. A protocol-0 guess that fails is not a pickle after all.
      const uint8_t* p = state.cursor.try_at(pos, std::min<uint64_t>(end - pos, 2));
      if (p == nullptr || !plausible_pickle_start(p, std::min<uint64_t>(end - pos, 2))) break;
      VectorSink tentative;
      Sink* real = state.sink;
      state.sink = &tentative;
      uint32_t started = state.pickles_started;
      try {
        r = parse_pickle(state, pos, end, context);
      } catch (...) {
        state.sink = real;
        throw;
      }
      state.sink = real;
      bool is_pickle = r.complete || p[0] == 0x80;
      if (!is_pickle) {
        state.pickles_started = started;
        break;
      }
      for (auto& f : tentative.findings) real->emit(std::move(f));
    }
    ++count;
    if (!r.complete) return false;
    pos = r.end;
  }
  if (count > 1 && !stacked_is_expected)
    emit(state, "PICKLE-STACKED", SECMLOPS_SEVERITY_LOW,
         std::to_string(count) +
             " pickles follow each other in one stream; loaders that call pickle.load repeatedly "
             "run every one (all were analysed)",
         start, context, {{"pickles", std::to_string(count)}});
  if (pos < end)
    inspect_trailing(state, pos, end, count > 1 ? "the last pickle" : "the pickle", context);
  return true;
}

}  // namespace secmlops::plugins::pickle
