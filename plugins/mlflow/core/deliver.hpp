#pragma once

#include "core/rest_store.hpp"
#include "core/spool.hpp"

#include <string>
#include <vector>

namespace secmlops::plugins::mlflow {

// The tag every delivered run carries: the client-generated idempotency key of the run, by
// which a replay finds a run whose creation was answered too late.
inline constexpr const char* kRunKeyTag = "secmlops.run_key";

struct Delivery {
  RunRef run;
  std::string run_page;
  std::vector<std::string> warnings;  // problems no retry can fix (unsupported artifact URI, …)
};

// Sends one run to the server step by step, recording progress after each confirmed step so
// that a replay (`mlflow sync`) resumes without duplicating anything: the run is found again by
// its idempotency key, completed batches are skipped, and points of a batch that may have been
// stored are checked against the metric history before they are re-sent.
// Throws MlflowError; transient() tells whether spooling for a later sync makes sense.
Delivery deliver(RestStore& store, const RunPlan& plan, const std::string& run_key,
                 Progress& progress, const Settings& settings);

}  // namespace secmlops::plugins::mlflow
