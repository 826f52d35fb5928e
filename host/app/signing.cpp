#include "secmlops/host/signing.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/app/run_scope.hpp"
#include "secmlops/host/signing_ops.hpp"

#include <spdlog/spdlog.h>

namespace secmlops::app {
namespace {

std::string run_name(const char* operation, const std::string& model_path) {
  return std::string(operation) + " " + host::signing::model_name(model_path);
}

const char* run_status(v1::SigningStatus s) {
  return s == v1::SIGNING_UNUSABLE_INPUT ? "FAILED" : "FINISHED";
}

// The signature is made (or checked) by now: a recording that fails is reported, and the
// operation's result still stands.
template <class Record>
void record(const Environment& env, RunScope& run, v1::SigningStatus status, Record&& what) {
  try {
    what();
  } catch (const std::exception& e) {
    spdlog::error("mlflow: {}", e.what());
    if (env.notice) env.notice(std::string("mlflow: ") + e.what());
  }
  run.finish(run_status(status));
}

}  // namespace

v1::SignResult sign(const Environment& env, const v1::SignRequest& request) {
  RunScope run(env, request.mlflow(), "sign", run_name("sign", request.model_path()));
  auto result = host::sign(request);
  if (run) record(env, run, result.status(), [&] { host::record_signing(*run, result); });
  return result;
}

v1::VerifyResult verify(const Environment& env, const v1::VerifyRequest& request) {
  RunScope run(env, request.mlflow(), "verify", run_name("verify", request.model_path()));
  std::string bundle;
  auto result = host::verify(request, run ? &bundle : nullptr);
  if (run)
    record(env, run, result.status(), [&] { host::record_verification(*run, result, bundle); });
  return result;
}

void require_signatures(v1::ScanReport& report, const std::vector<std::filesystem::path>& models,
                        const std::filesystem::path& public_key) {
  host::require_signatures(report, models, public_key);
}

}  // namespace secmlops::app
