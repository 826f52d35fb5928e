#include "secmlops/host/job.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace secmlops::host {
namespace {

std::atomic<uint64_t> next_job_id{1};

// Every trampoline guards against a NULL job and against exceptions: a host bug must not unwind
// through plugin frames.
template <class F, class R>
R call(secmlops_job* job, R fallback, F&& f) noexcept {
  if (job == nullptr) return fallback;
  try {
    return f(*JobContext::from(job));
  } catch (const std::exception& e) {
    spdlog::error("host service failed: {}", e.what());
    return fallback;
  } catch (...) {
    return fallback;
  }
}

void svc_log(secmlops_job* job, int32_t level, const char* message) noexcept {
  if (message == nullptr) return;
  auto lvl = spdlog::level::info;
  switch (level) {
    case SECMLOPS_LOG_TRACE:
      lvl = spdlog::level::trace;
      break;
    case SECMLOPS_LOG_DEBUG:
      lvl = spdlog::level::debug;
      break;
    case SECMLOPS_LOG_INFO:
      lvl = spdlog::level::info;
      break;
    case SECMLOPS_LOG_WARN:
      lvl = spdlog::level::warn;
      break;
    default:
      lvl = spdlog::level::err;
      break;
  }
  try {
    if (job != nullptr)
      spdlog::log(lvl, "[{}] {}", JobContext::from(job)->id(), message);
    else
      spdlog::log(lvl, "{}", message);
  } catch (...) {
  }
}

const secmlops_host_services kServices = [] {
  secmlops_host_services s{};
  s.struct_size = sizeof(s);
  s.abi_major = SECMLOPS_ABI_MAJOR;
  s.abi_minor = SECMLOPS_ABI_MINOR;
  s.log = &svc_log;
  s.read = [](secmlops_job* j, void* buf, uint64_t len) noexcept -> int64_t {
    if (buf == nullptr && len > 0) return -1;
    return call(j, int64_t{-1}, [&](JobContext& c) { return c.read(buf, len); });
  };
  s.seek = [](secmlops_job* j, uint64_t off) noexcept -> secmlops_status {
    return call(j, secmlops_status{SECMLOPS_ERR_INVALID_ARGUMENT},
                [&](JobContext& c) { return c.seek(off); });
  };
  s.tell = [](secmlops_job* j) noexcept -> uint64_t {
    return call(j, uint64_t{0}, [](JobContext& c) { return c.tell(); });
  };
  s.size = [](secmlops_job* j) noexcept -> uint64_t {
    return call(j, uint64_t{0}, [](JobContext& c) { return c.size(); });
  };
  s.progress = [](secmlops_job* j, double f) noexcept {
    call(j, 0, [&](JobContext& c) {
      c.progress(f);
      return 0;
    });
  };
  s.is_cancelled = [](secmlops_job* j) noexcept -> int32_t {
    return call(j, int32_t{0}, [](JobContext& c) { return c.cancelled() ? 1 : 0; });
  };
  s.emit_finding = [](secmlops_job* j, const secmlops_finding* f) noexcept -> secmlops_status {
    if (f == nullptr || f->struct_size < offsetof(secmlops_finding, evidence_count) + 4)
      return SECMLOPS_ERR_INVALID_ARGUMENT;
    return call(j, secmlops_status{SECMLOPS_ERR_INTERNAL},
                [&](JobContext& c) { return c.on_finding(*f); });
  };
  s.emit_metric = [](secmlops_job* j, const char* k, double v, int64_t step) noexcept {
    if (k == nullptr) return secmlops_status{SECMLOPS_ERR_INVALID_ARGUMENT};
    return call(j, secmlops_status{SECMLOPS_ERR_INTERNAL},
                [&](JobContext& c) { return c.on_metric(k, v, step); });
  };
  s.emit_property = [](secmlops_job* j, const char* k, const char* v) noexcept {
    if (k == nullptr || v == nullptr) return secmlops_status{SECMLOPS_ERR_INVALID_ARGUMENT};
    return call(j, secmlops_status{SECMLOPS_ERR_INTERNAL},
                [&](JobContext& c) { return c.on_property(k, v); });
  };
  s.view = [](secmlops_job* j, uint64_t off, uint64_t len) noexcept -> const uint8_t* {
    return call(j, static_cast<const uint8_t*>(nullptr),
                [&](JobContext& c) { return c.view(off, len); });
  };
  s.stat_sibling = [](secmlops_job* j, const char* rel, secmlops_sibling_info* out) noexcept {
    if (rel == nullptr || out == nullptr || out->struct_size < sizeof(secmlops_sibling_info))
      return secmlops_status{SECMLOPS_ERR_INVALID_ARGUMENT};
    out->flags = 0;
    out->size = 0;
    return call(j, secmlops_status{SECMLOPS_ERR_INTERNAL},
                [&](JobContext& c) { return c.stat_sibling(rel, *out); });
  };
  return s;
}();

}  // namespace

JobContext::JobContext() : id_("job-" + std::to_string(next_job_id.fetch_add(1))) {}

const secmlops_host_services* host_services() { return &kServices; }

}  // namespace secmlops::host
