#pragma once

#include "rest_store.hpp"
#include "run_plan.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace secmlops::plugins::mlflow {

// 32 random hex digits: a run's idempotency key (and MLflow-style run ids in the file store).
std::string random_hex32();

// The write-ahead log of one run: <dir>/<key>.jsonl, a header line then one JSON event per
// line. Each event is written (so it survives a crash of the process) before it is
// acknowledged, and fsync'd in groups: at RUN_START, RUN_END and artifacts always, otherwise
// when 200 ms passed since the last fsync (one fsync per metric point would cost ~7 ms each on
// ordinary disks), and before delivery (sync()). Artifact files are copied
// next to it (<key>.files/) so that a later sync does not depend on temporary files. The file is
// flock'ed while the run is being produced, so a concurrent `mlflow sync` leaves it alone.
class SpoolWriter {
 public:
  SpoolWriter(const std::filesystem::path& dir, const std::string& key,
              const nlohmann::json& header);
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Appends the event (ARTIFACT events point at the spooled copy afterwards). Returns it as stored.
  Event append(Event e);
  // Makes everything appended so far durable.
  void sync();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] const std::string& key() const { return key_; }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  void write_line(const std::string& line, bool durable);
  std::filesystem::path dir_, path_;
  std::string key_;
  int fd_ = -1;
  int artifacts_ = 0;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_sync_{};
};

// Its implicit moves move a path, a string, a JSON value and a vector, none of which throws;
// clang-tidy 14 cannot see through nlohmann::json.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct SpooledRun {
  std::filesystem::path file;
  std::string key;
  nlohmann::json header;
  std::vector<Event> events;
};

// Reads a spool file; a torn last line (a crash mid-append) is ignored.
SpooledRun read_spool(const std::filesystem::path& file);
// Spool files in `dir`, oldest first.
std::vector<std::filesystem::path> list_spool(const std::filesystem::path& dir);
// Removes a delivered run's spool file, progress markers and artifact copies.
void remove_spooled(const std::filesystem::path& file);

// Append-only, fsync'd markers of what of a run the server already holds (<key>.progress):
// the server's run id, whether its creation was attempted, and how many of the run's events
// were attempted and confirmed. A replay skips confirmed events and treats attempted but
// unconfirmed ones as possibly stored.
class Progress {
 public:
  explicit Progress(std::filesystem::path file);
  [[nodiscard]] std::optional<RunRef> run() const { return run_; }
  void set_run(const RunRef& run);
  [[nodiscard]] bool done(const std::string& step) const { return done_.count(step) != 0; }
  [[nodiscard]] bool attempted(const std::string& step) const {
    return attempted_.count(step) != 0;
  }
  void mark_attempt(const std::string& step);
  void mark_done(const std::string& step);
  // Events [0, n) of the spool file: sent (perhaps stored) / confirmed by the server.
  [[nodiscard]] size_t attempted_upto() const { return attempted_upto_; }
  [[nodiscard]] size_t done_upto() const { return done_upto_; }
  void mark_attempt_upto(size_t n);
  void mark_done_upto(size_t n);

 private:
  void append(const nlohmann::json& j);
  std::filesystem::path file_;
  std::optional<RunRef> run_;
  std::set<std::string> done_, attempted_;
  size_t attempted_upto_ = 0, done_upto_ = 0;
};

// Takes an exclusive, non-blocking lock on a file; returns the fd (>= 0) or -1 when another
// process holds it. close() releases it.
int try_lock(const std::filesystem::path& file);

}  // namespace secmlops::plugins::mlflow
