#pragma once
// A reporter Sink that keeps what the reporter said, for tests.
#include "reporter.hpp"

#include <string>
#include <utility>
#include <vector>

namespace secmlops::test {

struct RecordedSink {
  std::vector<std::pair<std::string, std::string>> props;
  std::vector<std::string> logs;
  plugins::mlflow::Sink sink() {
    return {[this](int, const std::string& m) { logs.push_back(m); },
            [this](const std::string& k, const std::string& v) { props.emplace_back(k, v); }};
  }
  [[nodiscard]] std::string prop(const std::string& k) const {
    for (const auto& [pk, v] : props)
      if (pk == k) return v;
    return "";
  }
};

}  // namespace secmlops::test
