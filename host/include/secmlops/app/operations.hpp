#pragma once

// One function per use case. Each takes the request message and returns the result message that
// every door (CLI --format json, gRPC, pipeline step) hands out unchanged. Errors: AppError for
// requests to fix, host::DataError for bad data (file, line, column), host::PluginError from
// plugins.
#include "secmlops/app/environment.hpp"
#include "secmlops/host/stream.hpp"
#include "secmlops/v1/attack_service.pb.h"
#include "secmlops/v1/model_service.pb.h"
#include "secmlops/v1/report.pb.h"
#include "secmlops/v1/scan_service.pb.h"
#include "secmlops/v1/signing.pb.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace secmlops::app {

// A trained model a door may keep (the server's registry keeps it under an id).
struct TrainedModel {
  std::unique_ptr<host::ModelSession> session;
  std::vector<std::string> classes;
  std::vector<std::string> features;
  std::map<std::string, std::string> metadata;  // what the ONNX file records
};

v1::TrainResponse train(const Environment& env, const v1::TrainRequest& request,
                        TrainedModel* keep = nullptr);
v1::PredictResponse predict(const Environment& env, const v1::PredictRequest& request);
v1::DescribeResponse describe(const Environment& env, const v1::ModelRef& request);
v1::AttackResult attack(const Environment& env, const v1::AttackRequest& request);
// Files and directories (recursively); `on_file` sees each file's report as soon as it is done.
v1::ScanReport scan(const Environment& env, const v1::ScanRequest& request,
                    const std::function<void(const v1::FileReport&)>& on_file = {});

// Sign and verify (host::sign / host::verify) recorded as a run when request.mlflow asks: the
// signature as the artifact signature/model.sig, its tags on the run and on the registered model
// version. Paths are used as given: the door resolves them first. A failed verification is a
// finished run that says so; unusable input ends the run FAILED. Bad model, key or signature
// input is the result's status, never an exception (a bad `mlflow` setting is an AppError).
v1::SignResult sign(const Environment& env, const v1::SignRequest& request);
v1::VerifyResult verify(const Environment& env, const v1::VerifyRequest& request);
// `scan --require-signature` (host::require_signatures): every scanned model's signature
// checked with the public key, a finding added to the report where it fails.
void require_signatures(v1::ScanReport& report, const std::vector<std::filesystem::path>& models,
                        const std::filesystem::path& public_key);

// Bytes that do not live on disk (an upload), called `name` in the report, with the same
// options and limits as a scan of files.
v1::FileReport scan_stream(const Environment& env, std::shared_ptr<const host::Stream> stream,
                           const std::string& name, const v1::ScanOptions& options);

// A model's summary without the door's id and time (n_features, classes, gradients, memory
// estimate: 8 bytes per reported parameter, else per feature × class, plus 4 KiB).
v1::ModelSummary summarise_model(const host::ModelSession& session, const std::string& name);

// The model a request names: an id of env.models, or a model file through env.files.
ModelUse use_model(const Environment& env, const std::string& model_id,
                   const std::string& model_path);

// Looks a plugin up by kind and name; AppError(not_found) lists the names that exist.
host::Plugin find_plugin(const host::Registry& registry, secmlops_kind kind,
                         const std::string& name);

// The verdict of a scan against a threshold: "fail" findings at or above it, "error" a file not
// scanned completely (and nothing reached it), "pass".
std::string scan_verdict(const v1::ScanReport& report, v1::Severity threshold);

}  // namespace secmlops::app
