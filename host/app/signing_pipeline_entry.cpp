// The entry of the signing and pipeline module (signing_pipeline_module.hpp).
#include "signing_pipeline_module.hpp"

#include "secmlops/app/operations.hpp"
#include "secmlops/app/pipeline.hpp"

extern "C" __attribute__((visibility("default"))) const secmlops::app::SigningPipelineModule*
secmlops_signing_pipeline_module() {
  namespace app = secmlops::app;
  static const app::SigningPipelineModule table{SECMLOPS_VERSION,
                                                sizeof(app::SigningPipelineModule),
                                                &app::sign,
                                                &app::verify,
                                                &app::require_signatures,
                                                &app::validate_pipeline,
                                                &app::run_pipeline,
                                                &app::pipeline_exit_code};
  return &table;
}
