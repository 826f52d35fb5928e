#pragma once

#include "settings.hpp"

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace secmlops::plugins::mlflow {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  std::optional<double> retry_after_s;  // from a Retry-After header (seconds or HTTP date)
};

// A failed MLflow call. `transient` means the server may accept it later (network errors,
// 429/5xx after the retries ran out): the caller spools instead of giving up.
class MlflowError : public std::runtime_error {
 public:
  MlflowError(const std::string& message, long http_status, std::string error_code, bool transient)
      : std::runtime_error(message),
        http_status_(http_status),
        error_code_(std::move(error_code)),
        transient_(transient) {}
  [[nodiscard]] long http_status() const { return http_status_; }  // 0: no HTTP answer
  [[nodiscard]] const std::string& error_code() const { return error_code_; }
  [[nodiscard]] bool transient() const { return transient_; }

 private:
  long http_status_;
  std::string error_code_;
  bool transient_;
};

// One libcurl easy handle with the auth, TLS and timeout settings applied. Throws MlflowError
// (status 0, transient) when no HTTP answer arrived.
class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse request(const std::string& method, const std::string& url, const std::string& body,
                       const std::string& content_type);
  // PUT of a file's bytes, streamed from disk.
  HttpResponse put_file(const std::string& url, const std::string& path);

 private:
  HttpResponse perform(const std::string& method, const std::string& url, const std::string* body,
                       const std::string* file, const std::string& content_type);
  HttpSettings settings_;
  void* curl_ = nullptr;
};

// How an answer is classified for retrying.
enum class RetryClass { None, Normal, Server500 };
RetryClass retry_class(long http_status);

// Waits before retry `attempt` (0-based): exponential backoff with jitter, at least Retry-After,
// at most policy.backoff_max_s.
double backoff_seconds(const RetryPolicy& policy, int attempt, std::optional<double> retry_after);

// A one-line message for a non-2xx answer: MLflow's {"error_code","message"} when the body is
// JSON, otherwise the status with the first words of an HTML/text page.
std::string describe_error(const std::string& what, const HttpResponse& r);
// The error_code of an MLflow JSON error body, or "".
std::string error_code_of(const HttpResponse& r);

// What one delivery may still spend on retries, shared by all of its requests (see
// RetryPolicy). Once spent, every later failure of the delivery is final.
class RetryBudget {
 public:
  explicit RetryBudget(const RetryPolicy& policy) : policy_(policy) {}
  // Whether a failure of class `rc` that took `failed_s` seconds may be retried; if so, the retry
  // and its delay are charged and the delay to wait is returned.
  std::optional<double> charge(RetryClass rc, double failed_s, std::optional<double> retry_after);
  [[nodiscard]] int retries() const { return retries_; }
  [[nodiscard]] double seconds() const { return seconds_; }
  [[nodiscard]] bool exhausted() const { return exhausted_; }
  [[nodiscard]] const RetryPolicy& policy() const { return policy_; }

 private:
  RetryPolicy policy_;
  int retries_ = 0, retries_500_ = 0;
  double seconds_ = 0;
  bool exhausted_ = false;
};

// Runs `attempt` until it returns a response that is not retryable or the budget is spent.
// `attempt(n)` gets the attempt number (0-based) so that callers can make re-sends safe.
// `sleep` is injectable for tests. Returns the last response (any status); throws MlflowError
// when the network stays down.
HttpResponse with_retries(RetryBudget& budget, const std::function<HttpResponse(int)>& attempt,
                          const std::function<void(double)>& sleep, const std::string& what,
                          const std::function<void(const std::string&)>& log);

// Percent-encodes one URL query value or path segment ('/' kept when keep_slash).
std::string url_encode(const std::string& s, bool keep_slash = false);

}  // namespace secmlops::plugins::mlflow
