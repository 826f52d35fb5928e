// Helpers shared by the pickle scanner tests.
#pragma once

#include "formats.hpp"
#include "pickle_scan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace pickle_test {

using namespace secmlops::plugins::pickle;

struct Result {
  std::vector<Finding> findings;
  bool complete = false;
  bool limit_hit = false;

  [[nodiscard]] const Finding* find(const std::string& rule, const std::string& global = {}) const {
    for (const auto& f : findings) {
      if (f.rule_id != rule) continue;
      if (global.empty()) return &f;
      for (const auto& [k, v] : f.evidence)
        if (k == "global" && v == global) return &f;
    }
    return nullptr;
  }
  [[nodiscard]] bool has(const std::string& rule, const std::string& global = {}) const {
    return find(rule, global) != nullptr;
  }
  [[nodiscard]] int max_severity() const {
    int m = -1;
    for (const auto& f : findings) m = std::max(m, static_cast<int>(f.severity));
    return m;
  }
  [[nodiscard]] std::string dump() const {
    std::string s;
    for (const auto& f : findings) {
      s += std::string(severity_name(f.severity)) + " " + f.rule_id + " @" +
           std::to_string(f.offset) + " " + f.message + " [" + f.detail + "]";
      for (const auto& [k, v] : f.evidence) s += " " + k + "=" + v;
      s += "\n";
    }
    return s;
  }
};

inline Result scan_bytes(const std::string& bytes, const char* format = nullptr,
                         const Policy& policy = Policy(), Limits limits = {}) {
  MemoryInput in(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  VectorSink sink;
  ScanState state(in, policy, sink, limits);
  const char* f = kFormatPickle;
  if (format != nullptr)
    f = format;
  else
    probe_format(
        {reinterpret_cast<const uint8_t*>(bytes.data()), std::min<size_t>(bytes.size(), 65536)}, f);
  Result r;
  r.complete = scan_format(state, f);
  r.limit_hit = state.limit_hit;
  r.findings = std::move(sink.findings);
  return r;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Generates the fixtures once per process (the script itself is idempotent and locked).
inline std::string fixtures() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    std::string cmd =
        std::string("/usr/bin/python3 ") + PICKLE_FIXTURE_SCRIPT + " " + PICKLE_FIXTURE_DIR;
    ok = std::system(cmd.c_str()) == 0;
  });
  if (!ok) ADD_FAILURE() << "fixture generation failed: " << PICKLE_FIXTURE_SCRIPT;
  return PICKLE_FIXTURE_DIR;
}

inline Result scan_fixture(const std::string& name, const Policy& policy = Policy()) {
  return scan_bytes(read_file(fixtures() + "/" + name), nullptr, policy);
}

// Short opcode builders.
inline std::string s8(const std::string& s) {
  return std::string("\x8c") + static_cast<char>(s.size()) + s;
}
inline std::string glob(const std::string& m, const std::string& n) {
  return "c" + m + "\n" + n + "\n";
}
inline std::string bu(const std::string& s) {
  std::string len(4, '\0');
  uint32_t n = static_cast<uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return "X" + len + s;
}

}  // namespace pickle_test
