#pragma once

// A pipeline spec as typed steps: what the YAML says, checked (keys, types, plugins,
// references, cycles) with the file, line and column of every mistake.
#include "secmlops/app/environment.hpp"
#include "secmlops/host/plugin_instance.hpp"
#include "secmlops/v1/pipeline.pb.h"
#include "secmlops/v1/report.pb.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace secmlops::app::pipeline {

struct GenerateSpec {
  uint64_t samples = 1000;
  uint32_t features = 20;
  uint32_t informative = 10;
  uint32_t redundant = 2;
  uint32_t classes = 2;
  double class_sep = 1.0;
  double flip = 0.01;
  uint64_t seed = 0;
};

struct SplitSpec {
  double test_size = 0.2;
  uint64_t seed = 0;
};

struct DatasetStep {
  std::string csv;                       // a CSV file, or
  std::optional<GenerateSpec> generate;  // synthetic data
  std::string label = "label";
  std::optional<SplitSpec> split;  // also publishes <id>.train and <id>.test
  std::string scale;               // "standard" or "minmax", fitted on the training rows
};

struct ModelEntry {
  std::string name, plugin;
  host::KeyValues params, config;
};

struct TrainStep {
  std::string data;  // dataset reference: <step>, <step>.train or <step>.test
  double test_size = 0.25;
  uint64_t seed = 0;
  std::vector<ModelEntry> models;
};

struct ScanStep {
  std::vector<std::string> models;  // train steps whose model files are scanned
  std::vector<std::string> paths;   // further files and directories
  v1::Severity fail_on = v1::HIGH;
  bool allowlist = false;
  host::KeyValues options;
  double timeout = 300;
  v1::Shard shard;  // "K/N": one shard of the files (count 0: all)
};

struct AttackEntry {
  std::string attack;
  host::KeyValues params;
  std::vector<double> eps;  // empty: the step's eps
  // Which models it runs on: "auto" (gradient attacks on models with gradients, the others on
  // models without), "all", "gradient", "no_gradient".
  std::string on = "auto";
  bool needs_gradient = false;
};

struct AttackStep {
  std::vector<std::string> models;  // train steps
  std::string data;                 // dataset reference
  uint64_t rows = 0;                // first N rows only (0 = all)
  std::vector<double> eps;
  std::vector<AttackEntry> attacks;
  bool labels = true;  // the data's labels (else the model's predictions)
  bool empirical_robustness = true;
};

struct SignStep {
  std::vector<std::string> models;  // train steps whose model files are signed
  std::vector<std::string> paths;   // further files or directories
  std::string key;  // private key (PEM); "@generate" = a new P-256 key in <output>/keys
  std::string password_file;
};

struct VerifyStep {
  std::vector<std::string> models;
  std::vector<std::string> paths;
  std::string public_key;  // PEM; "@generated" = the key a sign step generated
};

struct ReportStep {
  // html: the dashboard of the whole run (dashboard.html), written when the pipeline ends.
  std::vector<std::string> formats = {"json", "sarif", "text", "analysis", "html"};
};

struct AdversarialBound {
  double eps = 0;
  double min_accuracy = 0;
  std::string attack;  // empty: every attack
};

struct GateStep {
  std::optional<v1::Severity> max_severity;  // fail when a finding reaches it
  std::optional<double> min_clean_accuracy;  // held-out accuracy of every trained model
  std::vector<AdversarialBound> min_adversarial_accuracy;
  bool fail_on_overfitting = false;
  bool fail_on_personal_data = false;
  bool fail_on_scan_errors = false;
  bool fail_on_unverified = false;  // a verify step's signature did not verify
};

using StepConfig = std::variant<DatasetStep, TrainStep, ScanStep, AttackStep, SignStep, VerifyStep,
                                ReportStep, GateStep>;

struct StepSpec {
  std::string id;
  std::string kind;
  std::string where;               // "file:line:column" of the step
  std::vector<std::string> needs;  // step ids it waits for (references and `needs`)
  StepConfig config;
};

struct Spec {
  std::string file;
  std::string name;
  std::string output;      // output directory from the spec ("" = default)
  std::string experiment;  // MLflow experiment from the spec
  std::vector<StepSpec> steps;
  std::vector<std::string> order;                             // an order that respects `needs`
  std::vector<std::pair<std::string, std::string>> settings;  // --set values applied
};

// Parses and checks the request's spec; every problem found goes to `errors` (the spec is only
// usable when it stays empty).
Spec parse_spec(const Environment& env, const v1::PipelineRequest& request,
                std::vector<std::string>& errors);

// The step id of a dataset reference ("data.train" → "data").
std::string ref_step(const std::string& ref);

}  // namespace secmlops::app::pipeline
