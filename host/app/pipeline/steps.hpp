#pragma once

// What each kind of step does. A step sees the results of the steps it needs and writes files
// only into the pipeline's output directory.
#include "spec.hpp"

#include "secmlops/app/operations.hpp"

#include "secmlops/v1/pipeline.pb.h"

#include <filesystem>
#include <map>
#include <string>

namespace secmlops::app::pipeline {

// The models a pipeline trained, kept in memory under "<step>/<name>": later steps use them
// without reading their files back, and models whose plugin cannot export ONNX take part too.
class PipelineModels final : public ModelRegistry {
 public:
  void add(const std::string& id, TrainedModel model, const std::string& name);
  ModelUse use(const std::string& id) override;

 private:
  struct Kept {
    std::mutex mu;
    TrainedModel model;
    std::string name;
  };
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Kept>> models_;
};

struct StepContext {
  const Environment& env;  // the step's own (progress carries the step id)
  const Spec& spec;
  const StepSpec& step;
  std::filesystem::path out_dir;
  v1::RunRecording recording;  // children of the pipeline's run; disabled without MLflow
  std::map<std::string, v1::StepResult> inputs;  // the results of `step.needs`
  std::string started_at;
  PipelineModels* models = nullptr;
};

void run_dataset(const StepContext& c, const DatasetStep& s, v1::StepResult& r);
void run_train(const StepContext& c, const TrainStep& s, v1::StepResult& r);
void run_scan(const StepContext& c, const ScanStep& s, v1::StepResult& r);
void run_attack(const StepContext& c, const AttackStep& s, v1::StepResult& r);
void run_sign(const StepContext& c, const SignStep& s, v1::StepResult& r);
void run_verify(const StepContext& c, const VerifyStep& s, v1::StepResult& r);
void run_report(const StepContext& c, const ReportStep& s, v1::StepResult& r);
void run_gate(const StepContext& c, const GateStep& s, v1::StepResult& r);

// Per-model security analyses from the train, scan and attack results among `steps`.
std::vector<v1::ModelAnalysis> analyse_models(const std::map<std::string, v1::StepResult>& steps);

// Writes a file of the pipeline's output; a failure names the file.
void write_text(const std::filesystem::path& path, const std::string& text);

// A recording for one operation of a step: a child run named "<step> <item>".
v1::RunRecording child_run(const StepContext& c, const std::string& item);

}  // namespace secmlops::app::pipeline
