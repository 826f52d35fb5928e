#include "settings.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace secmlops::plugins::mlflow {
namespace {

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

double to_double(const std::string& key, const std::string& v) {
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used != v.size() || d < 0) throw std::invalid_argument("bad");
    return d;
  } catch (const std::exception&) {
    throw std::invalid_argument("mlflow: '" + key + "' must be a non-negative number, got '" + v +
                                "'");
  }
}

int to_int(const std::string& key, const std::string& v) {
  double d = to_double(key, v);
  if (d != static_cast<double>(static_cast<int>(d)) || d > 100)
    throw std::invalid_argument("mlflow: '" + key + "' must be an integer in [0, 100], got '" + v +
                                "'");
  return static_cast<int>(d);
}

bool to_bool(const std::string& key, const std::string& v) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return false;
  throw std::invalid_argument("mlflow: '" + key + "' must be true or false, got '" + v + "'");
}

}  // namespace

bool Settings::is_file_store() const {
  return tracking_uri.empty() || starts_with(tracking_uri, "file:") ||
         (!starts_with(tracking_uri, "http://") && !starts_with(tracking_uri, "https://"));
}

std::filesystem::path Settings::file_store_root() const {
  if (tracking_uri.empty()) return std::filesystem::absolute("mlruns");
  std::string p = tracking_uri;
  if (starts_with(p, "file://"))
    p = p.substr(7);
  else if (starts_with(p, "file:"))
    p = p.substr(5);
  if (p.empty()) p = "mlruns";
  return std::filesystem::absolute(p).lexically_normal();
}

std::string Settings::rest_base() const {
  std::string b = tracking_uri;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

std::string default_user() {
  for (const char* var : {"LOGNAME", "USER", "LNAME", "USERNAME"})
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(static_cast<size_t>(size > 0 ? size : 16384));
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr)
    return found->pw_name;
  return "";
}

std::filesystem::path default_spool_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0')
    return std::filesystem::path(x) / "secmlops" / "mlflow-spool";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return std::filesystem::path(h) / ".cache" / "secmlops" / "mlflow-spool";
  return std::filesystem::absolute(".secmlops-mlflow-spool");
}

Settings parse_settings(const KeyValues& config) {
  Settings s;
  s.spool_dir = default_spool_dir();
  for (const auto& [k, v] : config) {
    if (k == "tracking_uri")
      s.tracking_uri = v;
    else if (k == "experiment") {
      if (!v.empty()) s.experiment = v;
    } else if (k == "spool_dir") {
      if (!v.empty()) s.spool_dir = v;
    } else if (k == "mode") {
      if (v != "report" && v != "sync")
        throw std::invalid_argument("mlflow: 'mode' must be report or sync, got '" + v + "'");
      s.mode = v;
    } else if (k == "model_name")
      s.model_name = v;
    else if (k == "model_version")
      s.model_version = v;
    else if (k == "user")
      s.user = v;
    else if (k == "username")
      s.http.username = v;
    else if (k == "password")
      s.http.password = v;
    else if (k == "token")
      s.http.token = v;
    else if (k == "insecure_tls")
      s.http.insecure_tls = to_bool(k, v);
    else if (k == "ca_bundle")
      s.http.ca_bundle = v;
    else if (k == "connect_timeout")
      s.http.connect_timeout_s = to_double(k, v);
    else if (k == "timeout")
      s.http.timeout_s = to_double(k, v);
    else if (k == "max_retries")
      s.retry.max_retries = to_int(k, v);
    else if (k == "max_retries_500")
      s.retry.max_retries_500 = to_int(k, v);
    else if (k == "backoff_base")
      s.retry.backoff_base_s = to_double(k, v);
    else if (k == "backoff_max")
      s.retry.backoff_max_s = to_double(k, v);
    else if (k == "retry_time")
      s.retry.max_retry_time_s = to_double(k, v);
    else if (k == "batch_interval")
      s.batch_interval_s = to_double(k, v);
    else if (k == "max_param_value")
      s.limits.param_value = static_cast<size_t>(to_double(k, v));
    else if (k == "max_tag_value")
      s.limits.tag_value = static_cast<size_t>(to_double(k, v));
    else if (k == "long_values") {
      if (v != "truncate" && v != "refuse")
        throw std::invalid_argument("mlflow: 'long_values' must be truncate or refuse, got '" + v +
                                    "'");
      s.limits.refuse_long_values = v == "refuse";
    } else {
      throw std::invalid_argument("mlflow: unknown configuration key '" + k + "'");
    }
  }
  if (s.user.empty()) s.user = default_user();
  if (s.experiment.size() > 500)
    throw std::invalid_argument("mlflow: experiment names are limited to 500 characters");
  if (s.model_name.empty() != s.model_version.empty())
    throw std::invalid_argument("mlflow: model_name and model_version go together");
  return s;
}

}  // namespace secmlops::plugins::mlflow
