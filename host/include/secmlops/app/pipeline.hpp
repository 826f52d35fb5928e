#pragma once

// Security pipelines: a YAML spec of steps that form a graph by their inputs; independent steps
// run in parallel and every step calls the same operations as the CLI and the gRPC API.
// docs/pipelines.md documents the spec.
#include "secmlops/app/environment.hpp"
#include "secmlops/v1/pipeline.pb.h"

#include <functional>

namespace secmlops::app {

// Parses and checks a spec without running anything: YAML errors, unknown step kinds, keys,
// plugins and references, cycles — every message "file:line:column: what to fix".
v1::PipelineValidation validate_pipeline(const Environment& env,
                                         const v1::PipelineRequest& request);

// Runs the pipeline. A failing step stops only the steps that depend on it (SKIPPED); the others
// run and are reported. `on_step` sees each step's result as it ends. Throws AppError
// (invalid_argument) for a spec that does not validate; cancellation ends the running steps
// (CANCELLED) and their MLflow runs (KILLED) and returns the report so far.
v1::PipelineReport run_pipeline(const Environment& env, const v1::PipelineRequest& request,
                                const std::function<void(const v1::StepResult&)>& on_step = {});

// The exit status a door gives a pipeline: 0 every gate passed, 1 a gate failed, 2 a step failed.
int pipeline_exit_code(const v1::PipelineReport& report);

}  // namespace secmlops::app
