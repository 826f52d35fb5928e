#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::plugins::mlflow {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// When to retry and how long to wait (MLflow's own clients retry 429 and 5xx with backoff).
// The counts and the time are one budget for a whole delivery (every request of a run, or of
// one spooled run in a sync), not per request: a server dying mid-delivery costs at most
// max_retries retries and max_retry_time_s seconds before the run is left to the spool.
struct RetryPolicy {
  int max_retries = 5;           // 429, 502, 503, 504 and network errors (500s included)
  int max_retries_500 = 2;       // 500 is also MLflow's answer to malformed input: only a few
  double backoff_base_s = 0.5;   // delay before retry n: base * 2^n plus up to `base` of jitter
  double backoff_max_s = 30;     // cap of one delay (Retry-After included)
  double max_retry_time_s = 60;  // failed attempts plus backoff delays, in total
};

struct HttpSettings {
  std::string username, password;  // basic auth
  std::string token;               // bearer auth (used only without username/password)
  bool insecure_tls = false;
  std::string ca_bundle;  // PEM file of trusted CAs
  double connect_timeout_s = 10;
  double timeout_s = 120;  // whole request
};

// What a run is allowed to hold; the defaults are the limits of MLflow >= 2.17 (param 6000,
// tag 8000 chars). Older servers: params 500 (< 2.8), tags 5000 (< 2.17).
struct ValueLimits {
  size_t param_value = 6000;
  size_t tag_value = 8000;
  size_t model_version_tag_value = 5000;
  bool refuse_long_values = false;  // false: shorten and record; true: refuse the event
};

// Everything the reporter is configured with (config keys in parentheses, see docs/mlflow.md).
struct Settings {
  std::string tracking_uri;               // (tracking_uri) "" or file:... or a path → file store
  std::string experiment = "Default";     // (experiment)
  std::filesystem::path spool_dir;        // (spool_dir)
  std::string mode = "report";            // (mode) "report" or "sync"
  std::string model_name, model_version;  // (model_name, model_version) verdict tags target
  std::string user;                       // (user) mlflow.user tag and user_id; default_user()
  double batch_interval_s = 0.5;  // (batch_interval) REST: how long events gather before a send
  HttpSettings http;
  RetryPolicy retry;
  ValueLimits limits;

  [[nodiscard]] bool is_file_store() const;
  // The mlruns directory of a file-store URI ("" → ./mlruns).
  [[nodiscard]] std::filesystem::path file_store_root() const;
  // The REST base URL without a trailing slash.
  [[nodiscard]] std::string rest_base() const;
};

// Parses the plugin configuration; throws std::invalid_argument naming the key on bad values.
Settings parse_settings(const KeyValues& config);

// Who runs the process, as MLflow's client finds it (getpass.getuser): $LOGNAME, $USER,
// $LNAME, $USERNAME, else the login name of the uid; "" when none is known.
std::string default_user();

// The default spool directory: $XDG_CACHE_HOME/secmlops/mlflow-spool or ~/.cache/…, else
// ./.secmlops-mlflow-spool.
std::filesystem::path default_spool_dir();

}  // namespace secmlops::plugins::mlflow
