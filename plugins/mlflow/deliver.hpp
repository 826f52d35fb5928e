#pragma once

#include "rest_store.hpp"
#include "spool.hpp"

#include <span>
#include <string>
#include <vector>

namespace secmlops::plugins::mlflow {

// The tag every delivered run carries: the client-generated idempotency key of the run, by
// which a replay finds a run whose creation was answered too late.
inline constexpr const char* kRunKeyTag = "secmlops.run_key";

// Sends one run's events to the server in order, in chunks of one log-batch request each (plus
// their dataset inputs and artifact uploads, and the run's end), recording after each confirmed
// chunk how many events the server holds. The same code delivers a run live, as its events are
// produced, and replays a spool file (`mlflow sync`): a replay finds the run again by its
// idempotency key, skips the events already confirmed, and re-sends an attempted but
// unconfirmed chunk only with the metric points the metric history does not already hold.
// Every call throws MlflowError; transient() tells whether spooling for a later sync makes sense.
class RunDelivery {
 public:
  RunDelivery(RestStore& store, Progress& progress, const Settings& settings, std::string run_key,
              const ValueLimits& limits);

  // Finds or creates the run of `run_start` (the run's first event). `experiment` stands in for
  // a RUN_START without one.
  const RunRef& open(const Event& run_start, const std::string& experiment);
  // Delivers the events that follow those already passed (RUN_START excluded).
  void deliver(std::span<const Event> events);
  // A spooled run whose producer died before RUN_END: ends it KILLED.
  void end_unfinished();

  [[nodiscard]] const RunRef& run() const { return run_; }
  [[nodiscard]] std::string run_page() const;
  [[nodiscard]] bool ended() const { return builder_.plan().ended; }
  // Problems no retry can fix (unsupported artifact URI, vanished file), once each.
  std::vector<std::string> take_warnings();

 private:
  void send_chunk(size_t first, size_t end);
  void finish_run(const RunPlan& delta);

  RestStore& store_;
  Progress& progress_;
  const Settings& settings_;
  std::string run_key_;
  PlanBuilder builder_;
  RunRef run_;
  size_t position_ = 0;  // events passed so far, RUN_START included
  std::vector<std::string> warnings_;
};

}  // namespace secmlops::plugins::mlflow
