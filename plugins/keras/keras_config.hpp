// The Keras model-config walker: JSON (an H5 file's model_config / training_config attributes,
// or a .keras archive's config.json) in, findings out. Shared by the H5 and .keras paths.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::keras {

using Findings = std::vector<sdk::Finding>;

struct WalkLimits {
  uint64_t max_json_bytes = 64ull << 20;  // one config document
  int max_parse_depth = 512;              // JSON nesting accepted by the parser
  int max_walk_depth = 160;               // nesting the walker descends (≈25 nested models)
  uint64_t max_nodes = 4'000'000;         // JSON values visited per document
};

// Parses `text` with bounded nesting. On failure returns false and sets `error` (with the byte
// offset inside `text`, 0-based, in `error_at`).
bool parse_json(std::string_view text, const WalkLimits& limits, nlohmann::json& out,
                std::string& error, uint64_t& error_at);

// Walks a model config (Keras 2 model_config or Keras 3 config.json). `origin` names the
// document in finding details ("model_config", "config.json"); `offset` is where the document
// sits in the scanned stream (or SECMLOPS_NO_OFFSET).
void walk_model_config(const nlohmann::json& config, std::string_view origin, uint64_t offset,
                       const WalkLimits& limits, Findings& out);

// Walks a Keras 2 training_config (or a Keras 3 compile_config): custom losses, metrics and
// optimizers besides everything walk_model_config flags.
void walk_training_config(const nlohmann::json& config, std::string_view origin, uint64_t offset,
                          const WalkLimits& limits, Findings& out);

// A whole config.json stream: parse errors come back in `error` (with `error_at`).
struct DocumentResult {
  Findings findings;
  std::string error;
  uint64_t error_at = 0;
};
DocumentResult analyze_config_json(std::string_view text, const WalkLimits& limits = {});
// metadata.json of a .keras archive: surfaced as INFO.
DocumentResult analyze_metadata_json(std::string_view text, const WalkLimits& limits = {});

// Probes for the JSON members of a .keras archive. Sets format to "keras-config" or
// "keras-metadata"; 0 for any other content (arbitrary JSON is not claimed).
uint32_t probe_json(sdk::Bytes head, std::string_view name, const char*& format);

}  // namespace secmlops::plugins::keras
