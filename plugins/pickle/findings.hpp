// Where the analysis sends what it found. The core never talks to the host directly.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <vector>

namespace secmlops::plugins::pickle {

using Finding = secmlops::sdk::Finding;

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void emit(Finding finding) = 0;
};

class VectorSink final : public Sink {
 public:
  void emit(Finding finding) override { findings.push_back(std::move(finding)); }
  std::vector<Finding> findings;
};

const char* severity_name(secmlops_severity s);

}  // namespace secmlops::plugins::pickle
