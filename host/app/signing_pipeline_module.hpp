#pragma once

// Signing, verification and pipelines live in a module of their own, opened on first use
// (signing_pipeline_loader.cpp), so that a command which never signs, verifies or runs a
// pipeline does not map libcrypto and yaml-cpp at start-up (docs/architecture.md, "The signing
// and pipeline module"). The module is built from the same tree as the program that opens it; it
// hands over this table of the operations it holds, and takes everything else (the rest of the
// application layer, the host, the proto messages) from the program.
#include "secmlops/app/environment.hpp"
#include "secmlops/v1/pipeline.pb.h"
#include "secmlops/v1/report.pb.h"
#include "secmlops/v1/signing.pb.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <vector>

namespace secmlops::app {

struct SigningPipelineModule {
  const char* version;  // SECMLOPS_VERSION of the build; the program refuses another
  std::size_t size;     // sizeof(SigningPipelineModule) in that build
  v1::SignResult (*sign)(const Environment&, const v1::SignRequest&);
  v1::VerifyResult (*verify)(const Environment&, const v1::VerifyRequest&);
  void (*require_signatures)(v1::ScanReport&, const std::vector<std::filesystem::path>&,
                             const std::filesystem::path&);
  v1::PipelineValidation (*validate_pipeline)(const Environment&, const v1::PipelineRequest&);
  v1::PipelineReport (*run_pipeline)(const Environment&, const v1::PipelineRequest&,
                                     const std::function<void(const v1::StepResult&)>&);
  int (*pipeline_exit_code)(const v1::PipelineReport&);
};

// The module's file name, and its one exported symbol.
inline constexpr const char* kSigningPipelineModuleFile = "secmlops-signing-pipelines.so";
inline constexpr const char* kSigningPipelineModuleEntry = "secmlops_signing_pipeline_module";

}  // namespace secmlops::app

extern "C" const secmlops::app::SigningPipelineModule* secmlops_signing_pipeline_module();
