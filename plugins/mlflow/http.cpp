#include "http.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <locale>
#include <mutex>
#include <random>
#include <sstream>

namespace secmlops::plugins::mlflow {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t write_body(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  // A tracking server never needs to send us more than this; a proxy page might.
  if (out->size() > 16u * 1024 * 1024) return 0;
  out->append(data, size * n);
  return size * n;
}

struct Headers {
  std::string content_type;
  std::optional<double> retry_after;
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

std::optional<double> parse_retry_after(const std::string& v) {
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
    try {
      return std::stod(v);  // delta-seconds (a fraction tolerated)
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  // HTTP date, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  std::istringstream in(v);
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (!in.fail()) return std::max(0.0, std::difftime(timegm(&tm), std::time(nullptr)));
  return std::nullopt;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* h = static_cast<Headers*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = trim(line.substr(colon + 1));
    if (name == "content-type") h->content_type = value;
    if (name == "retry-after") h->retry_after = parse_retry_after(value);
  }
  return size * n;
}

std::string first_words(const std::string& body) {
  // Strip tags and collapse whitespace: an HTML error page becomes one readable line.
  std::string text;
  bool in_tag = false;
  for (char c : body) {
    if (c == '<')
      in_tag = true;
    else if (c == '>') {
      in_tag = false;
      text += ' ';
    } else if (!in_tag)
      text += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  std::string out;
  for (char c : text)
    if (!(c == ' ' && (out.empty() || out.back() == ' '))) out += c;
  out = trim(out);
  if (out.size() > 160) out = out.substr(0, 160) + "…";
  return out;
}

}  // namespace

HttpClient::HttpClient(HttpSettings settings) : settings_(std::move(settings)) {
  global_init();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw MlflowError("mlflow: curl_easy_init failed", 0, "", false);
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResponse HttpClient::request(const std::string& method, const std::string& url,
                                 const std::string& body, const std::string& content_type) {
  return perform(method, url, method == "GET" ? nullptr : &body, nullptr, content_type);
}

HttpResponse HttpClient::put_file(const std::string& url, const std::string& path) {
  return perform("PUT", url, nullptr, &path, "application/octet-stream");
}

HttpResponse HttpClient::perform(const std::string& method, const std::string& url,
                                 const std::string* body, const std::string* file,
                                 const std::string& content_type) {
  auto* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  HttpResponse r;
  Headers h;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  // libcurl silently re-sends a request whose reused connection died, even when the server had
  // already stored it: a log-batch would then duplicate metric points. Retrying is our job.
  curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings_.connect_timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "secmlops-mlflow/1.0");
  if (settings_.insecure_tls) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!settings_.ca_bundle.empty())
    curl_easy_setopt(c, CURLOPT_CAINFO, settings_.ca_bundle.c_str());
  // MLflow's own client: basic when a username is set, otherwise a bearer token.
  if (!settings_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  struct curl_slist* headers = nullptr;
  std::string auth;
  if (settings_.username.empty() && !settings_.token.empty()) {
    auth = "Authorization: Bearer " + settings_.token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  std::string ct = "Content-Type: " + content_type;
  FILE* upload = nullptr;
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (file != nullptr) {
    upload = std::fopen(file->c_str(), "rb");
    if (upload == nullptr) {
      curl_slist_free_all(headers);
      throw MlflowError("mlflow: cannot open artifact '" + *file + "'", 0, "", false);
    }
    std::fseek(upload, 0, SEEK_END);
    long size = std::ftell(upload);
    std::fseek(upload, 0, SEEK_SET);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READDATA, upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    headers = curl_slist_append(headers, ct.c_str());
    headers = curl_slist_append(headers, "Expect:");
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    headers = curl_slist_append(headers, ct.c_str());
    headers = curl_slist_append(headers, "Expect:");
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  if (upload != nullptr) std::fclose(upload);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    // Unreachable, reset, timed out: may work later. A certificate that does not verify or a
    // malformed URL will not: retrying and spooling would only hide the problem.
    bool transient = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                     rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_OPERATION_TIMEDOUT ||
                     rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
                     rc == CURLE_PARTIAL_FILE || rc == CURLE_SSL_CONNECT_ERROR;
    std::string hint;
    if (rc == CURLE_PEER_FAILED_VERIFICATION)
      hint =
          " (set MLFLOW_TRACKING_SERVER_CERT_PATH to the server's CA bundle, or "
          "MLFLOW_TRACKING_INSECURE_TLS=true to skip verification)";
    throw MlflowError("mlflow: " + method + " " + url + ": " + curl_easy_strerror(rc) + hint, 0, "",
                      transient);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  r.content_type = h.content_type;
  r.retry_after_s = h.retry_after;
  return r;
}

RetryClass retry_class(long s) {
  if (s == 429 || s == 502 || s == 503 || s == 504) return RetryClass::Normal;
  if (s == 500) return RetryClass::Server500;
  return RetryClass::None;
}

double backoff_seconds(const RetryPolicy& p, int attempt, std::optional<double> retry_after) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.0, p.backoff_base_s);
  double d = p.backoff_base_s * std::pow(2.0, attempt) + jitter(rng);
  if (retry_after) d = std::max(d, *retry_after);
  return std::min(d, p.backoff_max_s);
}

std::string error_code_of(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error_code") && j["error_code"].is_string())
    return j["error_code"].get<std::string>();
  return "";
}

std::string describe_error(const std::string& what, const HttpResponse& r) {
  std::string out = "mlflow: " + what + " failed: HTTP " + std::to_string(r.status);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error_code")) {
    out += " " + j["error_code"].get<std::string>();
    if (j.contains("message") && j["message"].is_string()) {
      std::string m = j["message"].get<std::string>();
      if (m.size() > 300) m = m.substr(0, 300) + "…";
      out += ": " + m;
    }
    return out;
  }
  std::string text = first_words(r.body);
  if (r.status == 401)
    out += " (not authenticated: set MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)";
  else if (r.status == 403)
    out += " (permission denied)";
  else if (r.status == 404)
    out += " (no such endpoint: is this an MLflow >= 2.0 tracking server?)";
  if (!text.empty()) out += ": " + text;
  return out;
}

std::optional<double> RetryBudget::charge(RetryClass rc, double failed_s,
                                          std::optional<double> retry_after) {
  seconds_ += failed_s;
  if (exhausted_) return std::nullopt;
  bool allowed = rc != RetryClass::None && retries_ < policy_.max_retries &&
                 (rc != RetryClass::Server500 || retries_500_ < policy_.max_retries_500);
  double delay = allowed ? backoff_seconds(policy_, retries_, retry_after) : 0;
  if (!allowed || seconds_ + delay > policy_.max_retry_time_s) {
    exhausted_ = true;
    return std::nullopt;
  }
  ++retries_;
  if (rc == RetryClass::Server500) ++retries_500_;
  seconds_ += delay;
  return delay;
}

HttpResponse with_retries(RetryBudget& budget, const std::function<HttpResponse(int)>& attempt,
                          const std::function<void(double)>& sleep, const std::string& what,
                          const std::function<void(const std::string&)>& log) {
  using clock = std::chrono::steady_clock;
  for (int n = 0;; ++n) {
    auto started = clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - started).count(); };
    std::optional<double> delay;
    try {
      HttpResponse r = attempt(n);
      RetryClass rc = retry_class(r.status);
      if (rc == RetryClass::None) return r;
      delay = budget.charge(rc, elapsed(), r.retry_after_s);
      if (!delay) return r;
      if (log) log("mlflow: " + what + ": HTTP " + std::to_string(r.status) + ", retrying");
    } catch (const MlflowError& e) {
      if (!e.transient()) throw;
      delay = budget.charge(RetryClass::Normal, elapsed(), std::nullopt);
      if (!delay) throw;
      if (log) log(std::string(e.what()) + ", retrying");
    }
    sleep(*delay);
  }
}

std::string url_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace secmlops::plugins::mlflow
