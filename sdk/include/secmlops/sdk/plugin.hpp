// secmlops C++ plugin layer (header-only).
//
// A plugin author writes an ordinary C++ class per plugin and exports the library with one
// macro; this header generates the extern-"C" glue of abi.h and converts every exception into a
// status code plus last_error at the boundary.
//
//   class MyScanner : public secmlops::sdk::Scanner {
//    public:
//     static constexpr const char* name = "my-scanner";
//     static constexpr const char* version = "1.0.0";
//     static constexpr const char* description = "Flags …";
//     static constexpr const char* formats[] = {"my-format", nullptr};
//     static uint32_t probe(secmlops::sdk::Bytes head, std::string_view name, const char*& format);
//     explicit MyScanner(const secmlops::sdk::Config& config);
//     void scan(secmlops::sdk::ScanJob& job);
//   };
//   SECMLOPS_EXPORT_PLUGINS(MyScanner)
//
// Optional members are detected at compile time and become capabilities: a model without a
// `loss_gradient` member is exported with a NULL pointer and without SECMLOPS_CAP_GRADIENT.
// A class may define `static void library_init()`; it runs in the library's init and a throw
// there refuses the library.
//
// Declared options (ABI 1.3, defaults and every kind since 1.4): a class that lists the
// configuration keys it reads — its constructor's config, a model's fit params, an attack's
// generate params — with their types and defaults
//     static constexpr secmlops_option options[] = {
//         secmlops::sdk::option(SECMLOPS_OPTION_STRING, "mode", "default or allowlist", "default"),
//         secmlops::sdk::option(SECMLOPS_OPTION_INT, "my.limit", "at most this many …", "100")};
// (or `static constexpr secmlops::sdk::NoOptions options{};` when it reads none) lets the host
// refuse misspelt or mistyped options with the list of valid ones, and list them for users.
// Without the member nothing is declared and every key is passed through.
#pragma once

#include <secmlops/sdk/abi.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secmlops::sdk {

using Bytes = std::span<const uint8_t>;

// One declared option (see the header comment); `default_value` is the text of the value used
// when the key is absent, nullptr when there is no single one.
constexpr secmlops_option option(secmlops_option_type type, const char* name,
                                 const char* help = nullptr, const char* default_value = nullptr) {
  return secmlops_option{sizeof(secmlops_option), static_cast<uint32_t>(type), name, help,
                         default_value};
}
// The declaration of a plugin that reads no option at all.
struct NoOptions {
  static constexpr size_t size() { return 0; }
  static constexpr const secmlops_option* data() { return nullptr; }
};

// An exception that carries the status it turns into at the boundary.
class Error : public std::runtime_error {
 public:
  Error(secmlops_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  [[nodiscard]] secmlops_status status() const noexcept { return status_; }

 private:
  secmlops_status status_;
};

namespace detail {
inline const secmlops_host_services*& services_slot() {
  static const secmlops_host_services* services = nullptr;
  return services;
}
inline std::string& thread_error() {
  thread_local std::string error;
  return error;
}
}  // namespace detail

// The host services table, or nullptr before init.
inline const secmlops_host_services* services() { return detail::services_slot(); }

// True when the host's services table contains the field at `offset` (ABI growth check).
inline bool host_has(size_t field_end) {
  const auto* s = services();
  return s != nullptr && s->struct_size >= field_end;
}

// Key/value configuration or parameters with typed accessors that fail with clear messages.
class Config {
 public:
  Config() = default;
  Config(const secmlops_kv* kv, uint32_t count) {
    for (uint32_t i = 0; i < count; ++i) {
      if (kv[i].key != nullptr) entries_.emplace_back(kv[i].key, kv[i].value ? kv[i].value : "");
    }
  }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& entries() const {
    return entries_;
  }
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
      if (it->first == key) return it->second;
    return std::nullopt;
  }
  [[nodiscard]] bool has(std::string_view key) const { return get(key).has_value(); }
  [[nodiscard]] std::string get_string(std::string_view key, std::string fallback) const {
    auto v = get(key);
    return v ? *v : std::move(fallback);
  }
  [[nodiscard]] double get_double(std::string_view key, double fallback) const {
    auto v = get(key);
    if (!v) return fallback;
    try {
      size_t used = 0;
      double d = std::stod(*v, &used);
      if (used != v->size()) throw std::invalid_argument("trailing characters");
      return d;
    } catch (const std::exception&) {
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                  "parameter '" + std::string(key) + "' must be a number, got '" + *v + "'");
    }
  }
  [[nodiscard]] int64_t get_int(std::string_view key, int64_t fallback) const {
    auto v = get(key);
    if (!v) return fallback;
    try {
      size_t used = 0;
      long long i = std::stoll(*v, &used);
      if (used != v->size()) throw std::invalid_argument("trailing characters");
      return i;
    } catch (const std::exception&) {
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                  "parameter '" + std::string(key) + "' must be an integer, got '" + *v + "'");
    }
  }
  [[nodiscard]] bool get_bool(std::string_view key, bool fallback) const {
    auto v = get(key);
    if (!v) return fallback;
    if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") return true;
    if (*v == "0" || *v == "false" || *v == "no" || *v == "off") return false;
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                "parameter '" + std::string(key) + "' must be true or false, got '" + *v + "'");
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// A row-major double matrix view; float input is converted once into owned storage.
class Matrix {
 public:
  explicit Matrix(const secmlops_matrix* m) {
    if (m == nullptr) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "matrix is NULL");
    rows_ = m->rows;
    cols_ = m->cols;
    if (rows_ != 0 && cols_ != 0 && m->data == nullptr)
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "matrix data is NULL");
    if (m->dtype == SECMLOPS_DTYPE_F64) {
      data_ = static_cast<const double*>(m->data);
    } else if (m->dtype == SECMLOPS_DTYPE_F32) {
      const auto* f = static_cast<const float*>(m->data);
      owned_.assign(f, f + rows_ * cols_);
      data_ = owned_.data();
    } else {
      throw Error(SECMLOPS_ERR_UNSUPPORTED, "unsupported matrix dtype " + std::to_string(m->dtype));
    }
  }
  Matrix(const double* data, uint64_t rows, uint64_t cols)
      : data_(data), rows_(rows), cols_(cols) {}
  [[nodiscard]] const double* data() const { return data_; }
  [[nodiscard]] uint64_t rows() const { return rows_; }
  [[nodiscard]] uint64_t cols() const { return cols_; }
  [[nodiscard]] const double* row(uint64_t r) const { return data_ + r * cols_; }
  [[nodiscard]] secmlops_matrix raw() const {
    return secmlops_matrix{sizeof(secmlops_matrix), SECMLOPS_DTYPE_F64, rows_, cols_, data_};
  }

 private:
  const double* data_ = nullptr;
  uint64_t rows_ = 0;
  uint64_t cols_ = 0;
  std::vector<double> owned_;
};

// Services common to every job. log, cancelled and check_cancelled may be called from threads
// the plugin starts during the call (joined before it returns); every other member only from
// the thread that made the call (abi.h, LIFETIME AND THREADS).
class Job {
 public:
  explicit Job(secmlops_job* job) : job_(job) {}
  [[nodiscard]] secmlops_job* raw() const { return job_; }

  void log(secmlops_log_level level, const std::string& message) const {
    if (const auto* s = services(); s != nullptr && s->log != nullptr)
      s->log(job_, level, message.c_str());
  }
  void progress(double fraction) const {
    if (const auto* s = services(); s != nullptr && s->progress != nullptr)
      s->progress(job_, fraction);
  }
  [[nodiscard]] bool cancelled() const {
    const auto* s = services();
    return s != nullptr && s->is_cancelled != nullptr && s->is_cancelled(job_) != 0;
  }
  // Throws Error(CANCELLED) when the host asked to stop.
  void check_cancelled() const {
    if (cancelled()) throw Error(SECMLOPS_ERR_CANCELLED, "cancelled by the host");
  }
  void metric(const std::string& key, double value, int64_t step = 0) const {
    check(services()->emit_metric(job_, key.c_str(), value, step), "emit_metric");
  }
  void property(const std::string& key, const std::string& value) const {
    check(services()->emit_property(job_, key.c_str(), value.c_str()), "emit_property");
  }

 protected:
  static void check(secmlops_status status, const char* what) {
    if (status != SECMLOPS_OK) throw Error(status, std::string("host service ") + what + " failed");
  }

 private:
  secmlops_job* job_;
};

struct Finding {
  secmlops_severity severity = SECMLOPS_SEVERITY_INFO;
  std::string rule_id;
  std::string message;
  uint64_t offset = SECMLOPS_NO_OFFSET;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> evidence;
};

// A scan job: the input stream plus finding emission.
class ScanJob : public Job {
 public:
  ScanJob(secmlops_job* job, const secmlops_scan_request* request) : Job(job), request_(request) {}

  [[nodiscard]] std::string_view path() const { return str(request_->path); }
  [[nodiscard]] std::string_view member() const { return str(request_->member); }
  [[nodiscard]] std::string_view format() const { return str(request_->format); }
  [[nodiscard]] uint64_t size() const { return services()->size(raw()); }
  [[nodiscard]] uint64_t tell() const { return services()->tell(raw()); }
  void seek(uint64_t offset) const { check(services()->seek(raw(), offset), "seek"); }
  // Reads up to len bytes; returns the count (0 at end of stream).
  size_t read(void* buf, size_t len) const {
    int64_t n = services()->read(raw(), buf, len);
    if (n < 0) throw Error(SECMLOPS_ERR_IO, "reading the input stream failed");
    return static_cast<size_t>(n);
  }
  // Reads exactly len bytes or returns false at end of stream.
  bool read_exact(void* buf, size_t len) const {
    auto* p = static_cast<uint8_t*>(buf);
    while (len > 0) {
      size_t n = read(p, len);
      if (n == 0) return false;
      p += n;
      len -= n;
    }
    return true;
  }
  // Zero-copy window (host ABI >= 1.1); empty span when unavailable — fall back to read.
  [[nodiscard]] Bytes view(uint64_t offset, uint64_t len) const {
    if (!host_has(offsetof(secmlops_host_services, view) + sizeof(void*)) ||
        services()->view == nullptr)
      return {};
    const uint8_t* p = services()->view(raw(), offset, len);
    return p ? Bytes(p, len) : Bytes();
  }

  // Facts about a file next to the scanned one (host ABI >= 1.1); the plugin never opens it.
  // Without host support the answer is SECMLOPS_SIBLING_NO_CONTEXT.
  [[nodiscard]] secmlops_sibling_info stat_sibling(const std::string& relative_path) const {
    secmlops_sibling_info info{};
    info.struct_size = sizeof(info);
    info.flags = SECMLOPS_SIBLING_NO_CONTEXT;
    if (!host_has(offsetof(secmlops_host_services, stat_sibling) + sizeof(void*)) ||
        services()->stat_sibling == nullptr)
      return info;
    check(services()->stat_sibling(raw(), relative_path.c_str(), &info), "stat_sibling");
    return info;
  }

  void emit(const Finding& f) const {
    std::vector<secmlops_kv> kv;
    kv.reserve(f.evidence.size());
    for (const auto& [k, v] : f.evidence) kv.push_back({k.c_str(), v.c_str()});
    secmlops_finding raw_finding{};
    raw_finding.struct_size = sizeof(raw_finding);
    raw_finding.severity = f.severity;
    raw_finding.rule_id = f.rule_id.c_str();
    raw_finding.message = f.message.c_str();
    raw_finding.offset = f.offset;
    raw_finding.detail = f.detail.empty() ? nullptr : f.detail.c_str();
    raw_finding.evidence = kv.data();
    raw_finding.evidence_count = static_cast<uint32_t>(kv.size());
    check(services()->emit_finding(raw(), &raw_finding), "emit_finding");
  }

 private:
  static std::string_view str(const char* s) {
    return s ? std::string_view(s) : std::string_view();
  }
  const secmlops_scan_request* request_;
};

struct ModelInfo {
  uint64_t n_features = 0;
  uint32_t n_classes = 0;
  bool has_gradient = false;
};

// The host-mediated model an attack works on: call it from generate's thread only, one call at a
// time (it runs the model plugin's single-threaded instance).
class ModelHandle {
 public:
  explicit ModelHandle(const secmlops_model_handle* m) : m_(m) {
    if (m == nullptr || m->predict_proba == nullptr)
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "model handle is incomplete");
  }
  [[nodiscard]] uint64_t n_features() const { return m_->n_features; }
  [[nodiscard]] uint32_t n_classes() const { return m_->n_classes; }
  // The pointer is what counts (abi.h, CAPABILITIES); has_gradient only mirrors it.
  [[nodiscard]] bool has_gradient() const { return m_->loss_gradient != nullptr; }
  // out: rows × n_classes.
  void predict_proba(const Matrix& x, double* out) const {
    auto raw = x.raw();
    secmlops_status s = m_->predict_proba(m_->context, &raw, out);
    if (s != SECMLOPS_OK) throw Error(s, "model predict_proba failed");
  }
  // out: rows × cols.
  void loss_gradient(const Matrix& x, const int32_t* y, double* out) const {
    if (!has_gradient()) throw Error(SECMLOPS_ERR_UNSUPPORTED, "the model has no loss gradient");
    auto raw = x.raw();
    secmlops_status s = m_->loss_gradient(m_->context, &raw, y, out);
    if (s != SECMLOPS_OK) throw Error(s, "model loss_gradient failed");
  }

 private:
  const secmlops_model_handle* m_;
};

struct RunEvent {
  secmlops_event_type type;
  std::string_view key, value, path;
  double number = 0;
  int64_t step = 0;
  int64_t timestamp_ms = 0;
  std::string_view schema, profile;  // DATASET, since 1.2 (empty from an older host)
};

// Base classes: they carry no virtual interface (the glue binds the derived class's members
// directly), but mark the kind of a plugin class.
struct Scanner {
  static constexpr secmlops_kind kind = SECMLOPS_KIND_SCANNER;
};
struct Model {
  static constexpr secmlops_kind kind = SECMLOPS_KIND_MODEL;
};
struct Attack {
  static constexpr secmlops_kind kind = SECMLOPS_KIND_ATTACK;
};
struct Reporter {
  static constexpr secmlops_kind kind = SECMLOPS_KIND_REPORTER;
};

namespace detail {

template <class T>
struct Instance {
  std::unique_ptr<T> object;
  std::string error;
  std::vector<uint8_t> buffer;  // exported bytes, valid until the next call
};

template <class T>
Instance<T>* self(secmlops_instance* i) {
  return reinterpret_cast<Instance<T>*>(i);
}

// Runs f, converting exceptions into a status and a message stored in `error`.
template <class F>
secmlops_status guard(std::string& error, F&& f) noexcept {
  try {
    f();
    return SECMLOPS_OK;
  } catch (const Error& e) {
    try {
      error = e.what();
    } catch (...) {
    }
    return e.status();
  } catch (const std::bad_alloc&) {
    try {
      error = "out of memory";
    } catch (...) {
    }
    return SECMLOPS_ERR_NO_MEMORY;
  } catch (const std::exception& e) {
    try {
      error = e.what();
    } catch (...) {
    }
    return SECMLOPS_ERR_INTERNAL;
  } catch (...) {
    try {
      error = "unknown exception";
    } catch (...) {
    }
    return SECMLOPS_ERR_INTERNAL;
  }
}

// Runs f on the instance's object, its exceptions becoming the instance's last_error.
template <class T>
secmlops_status on_instance(secmlops_instance* i, auto&& f) noexcept {
  auto* inst = self<T>(i);
  if (inst == nullptr) return SECMLOPS_ERR_INVALID_ARGUMENT;
  inst->error.clear();
  return guard(inst->error, [&] { f(*inst->object, *inst); });
}

// ---- optional-member detection ----
template <class T>
concept HasProbe = requires(Bytes b, std::string_view n, const char*& f) {
  { T::probe(b, n, f) } -> std::convertible_to<uint32_t>;
};
template <class T>
concept HasGradient = requires(T& t, Job& j, const Matrix& m, const int32_t* y, double* o) {
  t.loss_gradient(j, m, y, o);
};
template <class T>
concept HasDescribe = requires(T& t, Job& j) {
  t.describe(j);
};
template <class T>
concept HasExport = requires(T& t, Job& j) {
  { t.export_onnx(j) } -> std::convertible_to<std::vector<uint8_t>>;
};
template <class T>
concept HasImport = requires(T& t, Job& j, Bytes b) {
  t.import_onnx(j, b);
};
template <class T>
concept HasFlush = requires(T& t, Job& j) {
  t.flush(j);
};
template <class T>
concept HasLibraryInit = requires {
  T::library_init();
};
template <class T>
concept HasLibraryShutdown = requires {
  T::library_shutdown();
};
template <class T>
concept HasLicense = requires {
  T::license;
};
template <class T>
concept NeedsGradient = requires {
  T::needs_gradient;
};
template <class T>
concept HasOptions = requires {
  { std::size(T::options) } -> std::convertible_to<size_t>;
  { std::data(T::options) } -> std::convertible_to<const secmlops_option*>;
};
inline constexpr secmlops_option kNoOptionEntry{};

// ---- common entry points ----
template <class T>
secmlops_status create(const secmlops_kv* config, uint32_t count,
                       secmlops_instance** out) noexcept {
  if (out == nullptr) return SECMLOPS_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  Instance<T>* inst = nullptr;
  secmlops_status s = guard(thread_error(), [&] {
    auto holder = std::make_unique<Instance<T>>();
    holder->object = std::make_unique<T>(Config(config, count));
    inst = holder.release();
  });
  if (s == SECMLOPS_OK) *out = reinterpret_cast<secmlops_instance*>(inst);
  return s;
}
template <class T>
void destroy(secmlops_instance* i) noexcept {
  delete self<T>(i);
}
template <class T>
const char* last_error(const secmlops_instance* i) noexcept {
  if (i == nullptr) return thread_error().c_str();
  return reinterpret_cast<const Instance<T>*>(i)->error.c_str();
}

// ---- scanner ----
template <class T>
uint32_t probe(const uint8_t* head, uint64_t len, const char* name, const char** format) noexcept {
  try {
    const char* f = nullptr;
    uint32_t c = T::probe(Bytes(head, len), name ? std::string_view(name) : std::string_view(), f);
    if (format != nullptr) *format = f;
    return c > 100 ? 100 : c;
  } catch (...) {
    return 0;
  }
}
template <class T>
secmlops_status scan(secmlops_instance* i, secmlops_job* job,
                     const secmlops_scan_request* req) noexcept {
  return on_instance<T>(i, [&](T& t, Instance<T>&) {
    if (req == nullptr) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "scan request is NULL");
    ScanJob sj(job, req);
    t.scan(sj);
  });
}
template <class T>
const secmlops_scanner_api* scanner_api() {
  static const secmlops_scanner_api api = [] {
    secmlops_scanner_api a{};
    a.struct_size = sizeof(a);
    a.formats = T::formats;
    if constexpr (HasProbe<T>) a.probe = &probe<T>;
    a.scan = &scan<T>;
    return a;
  }();
  return &api;
}

// ---- model ----
template <class T>
const secmlops_model_api* model_api() {
  static const secmlops_model_api api = [] {
    secmlops_model_api a{};
    a.struct_size = sizeof(a);
    a.fit = [](secmlops_instance* i, secmlops_job* job, const secmlops_matrix* x, const int32_t* y,
               const secmlops_kv* params, uint32_t count) noexcept {
      return on_instance<T>(i, [&](T& t, Instance<T>&) {
        Job j(job);
        Matrix m(x);
        if (y == nullptr && m.rows() > 0)
          throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels are NULL");
        t.fit(j, m, std::span<const int32_t>(y, m.rows()), Config(params, count));
      });
    };
    a.info = [](secmlops_instance* i, secmlops_model_info* out) noexcept {
      return on_instance<T>(i, [&](T& t, Instance<T>&) {
        if (out == nullptr) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "info output is NULL");
        ModelInfo info = t.info();
        secmlops_model_info r{};
        r.struct_size = sizeof(r);
        r.n_features = info.n_features;
        r.n_classes = info.n_classes;
        r.has_gradient = info.has_gradient ? 1 : 0;
        std::memcpy(
            out, &r,
            out->struct_size != 0 && out->struct_size < sizeof(r) ? out->struct_size : sizeof(r));
      });
    };
    a.predict_proba = [](secmlops_instance* i, secmlops_job* job, const secmlops_matrix* x,
                         double* out) noexcept {
      return on_instance<T>(i, [&](T& t, Instance<T>&) {
        Job j(job);
        t.predict_proba(j, Matrix(x), out);
      });
    };
    if constexpr (HasGradient<T>)
      a.loss_gradient = [](secmlops_instance* i, secmlops_job* job, const secmlops_matrix* x,
                           const int32_t* y, double* out) noexcept {
        return on_instance<T>(i, [&](T& t, Instance<T>&) {
          Job j(job);
          t.loss_gradient(j, Matrix(x), y, out);
        });
      };
    if constexpr (HasDescribe<T>)
      a.describe = [](secmlops_instance* i, secmlops_job* job) noexcept {
        return on_instance<T>(i, [&](T& t, Instance<T>&) {
          Job j(job);
          t.describe(j);
        });
      };
    if constexpr (HasExport<T>)
      a.export_onnx = [](secmlops_instance* i, secmlops_job* job, const uint8_t** data,
                         uint64_t* len) noexcept {
        return on_instance<T>(i, [&](T& t, Instance<T>& inst) {
          Job j(job);
          inst.buffer = t.export_onnx(j);
          *data = inst.buffer.data();
          *len = inst.buffer.size();
        });
      };
    if constexpr (HasImport<T>)
      a.import_onnx = [](secmlops_instance* i, secmlops_job* job, const uint8_t* data,
                         uint64_t len) noexcept {
        return on_instance<T>(i, [&](T& t, Instance<T>&) {
          Job j(job);
          t.import_onnx(j, Bytes(data, len));
        });
      };
    return a;
  }();
  return &api;
}

// ---- attack ----
template <class T>
const secmlops_attack_api* attack_api() {
  static const secmlops_attack_api api = [] {
    secmlops_attack_api a{};
    a.struct_size = sizeof(a);
    a.generate = [](secmlops_instance* i, secmlops_job* job, const secmlops_model_handle* model,
                    const secmlops_matrix* x, const int32_t* y, const secmlops_kv* params,
                    uint32_t count, double* x_adv) noexcept {
      return on_instance<T>(i, [&](T& t, Instance<T>&) {
        Job j(job);
        t.generate(j, ModelHandle(model), Matrix(x), y, Config(params, count), x_adv);
      });
    };
    return a;
  }();
  return &api;
}

// ---- reporter ----
template <class T>
const secmlops_reporter_api* reporter_api() {
  static const secmlops_reporter_api api = [] {
    secmlops_reporter_api a{};
    a.struct_size = sizeof(a);
    a.on_event = [](secmlops_instance* i, secmlops_job* job, const secmlops_run_event* e) noexcept {
      return on_instance<T>(i, [&](T& t, Instance<T>&) {
        if (e == nullptr) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "event is NULL");
        auto sv = [](const char* s) { return s ? std::string_view(s) : std::string_view(); };
        RunEvent ev{static_cast<secmlops_event_type>(e->type),
                    sv(e->key),
                    sv(e->value),
                    sv(e->path),
                    e->number,
                    e->step,
                    e->timestamp_ms};
        // A host older than 1.2 sends a shorter struct: the fields past its size do not exist.
        if (e->struct_size >= offsetof(secmlops_run_event, profile) + sizeof(e->profile)) {
          ev.schema = sv(e->schema);
          ev.profile = sv(e->profile);
        }
        Job j(job);
        t.on_event(j, ev);
      });
    };
    if constexpr (HasFlush<T>)
      a.flush = [](secmlops_instance* i, secmlops_job* job) noexcept {
        return on_instance<T>(i, [&](T& t, Instance<T>&) {
          Job j(job);
          t.flush(j);
        });
      };
    return a;
  }();
  return &api;
}

template <class T>
const secmlops_plugin_descriptor* descriptor() {
  static const secmlops_plugin_descriptor d = [] {
    secmlops_plugin_descriptor r{};
    r.struct_size = sizeof(r);
    r.abi_major = SECMLOPS_ABI_MAJOR;
    r.abi_minor = SECMLOPS_ABI_MINOR;
    r.kind = T::kind;
    r.name = T::name;
    r.version = T::version;
    r.description = T::description;
    r.create = &create<T>;
    r.destroy = &destroy<T>;
    r.last_error = &last_error<T>;
    if constexpr (HasLicense<T>) r.license = T::license;
    if constexpr (HasOptions<T>) {
      r.option_count = static_cast<uint32_t>(std::size(T::options));
      // Non-NULL even when empty: "declares no options" differs from "declares nothing".
      r.options = r.option_count > 0 ? std::data(T::options) : &kNoOptionEntry;
    }
    uint64_t caps = 0;
    if constexpr (T::kind == SECMLOPS_KIND_SCANNER) {
      r.scanner = scanner_api<T>();
      if constexpr (HasProbe<T>) caps |= SECMLOPS_CAP_PROBE;
    } else if constexpr (T::kind == SECMLOPS_KIND_MODEL) {
      r.model = model_api<T>();
      if constexpr (HasGradient<T>) caps |= SECMLOPS_CAP_GRADIENT;
      if constexpr (HasDescribe<T>) caps |= SECMLOPS_CAP_DESCRIBE;
      if constexpr (HasExport<T>) caps |= SECMLOPS_CAP_ONNX_EXPORT;
      if constexpr (HasImport<T>) caps |= SECMLOPS_CAP_ONNX_IMPORT;
    } else if constexpr (T::kind == SECMLOPS_KIND_ATTACK) {
      r.attack = attack_api<T>();
      if constexpr (NeedsGradient<T>) {
        if (T::needs_gradient) caps |= SECMLOPS_CAP_NEEDS_GRADIENT;
      }
    } else {
      r.reporter = reporter_api<T>();
      if constexpr (HasFlush<T>) caps |= SECMLOPS_CAP_FLUSH;
    }
    r.capabilities = caps;
    return r;
  }();
  return &d;
}

template <class... Ts>
const secmlops_library* library() {
  static const secmlops_plugin_descriptor* const list[] = {descriptor<Ts>()...};
  static const secmlops_library lib = [] {
    secmlops_library l{};
    l.struct_size = sizeof(l);
    l.abi_major = SECMLOPS_ABI_MAJOR;
    l.abi_minor = SECMLOPS_ABI_MINOR;
    l.plugin_count = sizeof...(Ts);
    l.plugins = list;
    l.init = [](const secmlops_host_services* s) noexcept -> secmlops_status {
      services_slot() = s;
      thread_error().clear();
      return guard(thread_error(), [] {
        (
            [] {
              if constexpr (HasLibraryInit<Ts>) Ts::library_init();
            }(),
            ...);
      });
    };
    l.shutdown = []() noexcept {
      (
          [] {
            if constexpr (HasLibraryShutdown<Ts>) {
              try {
                Ts::library_shutdown();
              } catch (...) {
              }
            }
          }(),
          ...);
      services_slot() = nullptr;
    };
    return l;
  }();
  return &lib;
}

}  // namespace detail
}  // namespace secmlops::sdk

// Exports the library's one entry symbol describing every listed plugin class.
#define SECMLOPS_EXPORT_PLUGINS(...)                                                      \
  extern "C" SECMLOPS_EXPORT const secmlops_library* secmlops_plugin_entry_v1(uint32_t,   \
                                                                              uint32_t) { \
    return ::secmlops::sdk::detail::library<__VA_ARGS__>();                               \
  }
