// The program's side of the signing and pipeline module (signing_pipeline_module.hpp): the
// operations it holds, forwarded to the module, which is opened on the first call.
#include "signing_pipeline_module.hpp"

#include "secmlops/app/operations.hpp"
#include "secmlops/app/pipeline.hpp"
#include "secmlops/host/program_directory.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace secmlops::app {
namespace {

struct Opened {
  const SigningPipelineModule* table = nullptr;
  std::string error;  // why the module cannot be used; empty when it can
};

// Installed and in the build tree alike, the module is in ../lib/secmlops beside the program's
// folder (the plugins are in ../lib/secmlops/plugins).
Opened open_module() {
  Opened o;
  const auto dir = host::program_directory();
  if (dir.empty()) {
    o.error =
        fmt::format("cannot locate the running program to find {}", kSigningPipelineModuleFile);
    return o;
  }
  const auto path =
      (dir / ".." / "lib" / "secmlops" / kSigningPipelineModuleFile).lexically_normal();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    o.error = why != nullptr ? why : fmt::format("{}: cannot be opened", path.string());
    return o;
  }
  using Entry = const SigningPipelineModule* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, kSigningPipelineModuleEntry));
  if (entry == nullptr) {
    o.error = fmt::format("{}: has no {}", path.string(), kSigningPipelineModuleEntry);
    return o;
  }
  const SigningPipelineModule* table = entry();
  if (table == nullptr || table->size != sizeof(SigningPipelineModule) ||
      std::string_view(table->version) != SECMLOPS_VERSION) {
    o.error = fmt::format("{}: built for secmlops {}, not for this program ({})", path.string(),
                          table != nullptr ? table->version : "(none)", SECMLOPS_VERSION);
    return o;
  }
  spdlog::debug("opened {}", path.string());
  o.table = table;
  return o;  // the handle stays open for the process's lifetime
}

const SigningPipelineModule& module(std::string_view operation) {
  static const Opened opened = open_module();
  if (opened.table == nullptr)
    throw AppError(AppError::Code::failed_precondition,
                   fmt::format("cannot {}: {}", operation, opened.error));
  return *opened.table;
}

}  // namespace

v1::SignResult sign(const Environment& env, const v1::SignRequest& request) {
  return module("sign").sign(env, request);
}

v1::VerifyResult verify(const Environment& env, const v1::VerifyRequest& request) {
  return module("verify").verify(env, request);
}

void require_signatures(v1::ScanReport& report, const std::vector<std::filesystem::path>& models,
                        const std::filesystem::path& public_key) {
  module("check signatures").require_signatures(report, models, public_key);
}

v1::PipelineValidation validate_pipeline(const Environment& env,
                                         const v1::PipelineRequest& request) {
  return module("validate the pipeline").validate_pipeline(env, request);
}

v1::PipelineReport run_pipeline(const Environment& env, const v1::PipelineRequest& request,
                                const std::function<void(const v1::StepResult&)>& on_step) {
  return module("run the pipeline").run_pipeline(env, request, on_step);
}

int pipeline_exit_code(const v1::PipelineReport& report) {
  return module("run the pipeline").pipeline_exit_code(report);
}

}  // namespace secmlops::app
