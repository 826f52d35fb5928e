#pragma once

#include "secmlops/v1/pipeline.pb.h"

#include <functional>

namespace secmlops::cli {

// Progress on stderr. On a terminal one status line is redrawn in place (step, item, eps,
// count, rate, time left); otherwise only step boundaries are printed, as plain lines, when
// `plain_steps` is set (pipelines), and nothing for single commands.
std::function<void(const v1::ProgressEvent&)> progress_printer(bool plain_steps);

}  // namespace secmlops::cli
