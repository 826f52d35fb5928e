#pragma once

#include <secmlops/sdk/abi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace secmlops::host {

// Shared cancellation: a flag set by a client or a signal, and an optional deadline.
// A child token (one file of a scan) is cancelled when its parent (the whole request) is.
class CancelToken {
 public:
  CancelToken() = default;
  explicit CancelToken(std::shared_ptr<const CancelToken> parent) : parent_(std::move(parent)) {}
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  void set_deadline(std::chrono::steady_clock::time_point d) { deadline_ = d; }
  [[nodiscard]] bool cancelled() const {
    if (cancelled_.load(std::memory_order_relaxed)) return true;
    if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) return true;
    return parent_ && parent_->cancelled();
  }
  [[nodiscard]] bool deadline_passed() const {
    return deadline_ && std::chrono::steady_clock::now() >= *deadline_;
  }

 private:
  std::atomic<bool> cancelled_{false};
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::shared_ptr<const CancelToken> parent_;
};

// What a secmlops_job* points to. Each kind of job (scan, fit, attack, report) overrides the
// services it supports; the others answer SECMLOPS_ERR_UNSUPPORTED.
class JobContext {
 public:
  JobContext();
  virtual ~JobContext() = default;
  JobContext(const JobContext&) = delete;
  JobContext& operator=(const JobContext&) = delete;

  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] secmlops_job* handle() { return reinterpret_cast<secmlops_job*>(this); }
  static JobContext* from(secmlops_job* job) { return reinterpret_cast<JobContext*>(job); }

  void set_cancel_token(std::shared_ptr<CancelToken> token) { cancel_ = std::move(token); }
  [[nodiscard]] bool cancelled() const { return cancel_ && cancel_->cancelled(); }

  // Stream services (scan jobs).
  virtual int64_t read(void* /*buf*/, uint64_t /*len*/) { return -1; }
  virtual secmlops_status seek(uint64_t /*offset*/) { return SECMLOPS_ERR_UNSUPPORTED; }
  virtual uint64_t tell() { return 0; }
  virtual uint64_t size() { return 0; }
  virtual const uint8_t* view(uint64_t /*offset*/, uint64_t /*len*/) { return nullptr; }
  virtual secmlops_status stat_sibling(const char* /*relative*/, secmlops_sibling_info& out) {
    out.flags = SECMLOPS_SIBLING_NO_CONTEXT;
    return SECMLOPS_OK;
  }

  virtual void progress(double /*fraction*/) {}
  virtual secmlops_status on_finding(const secmlops_finding& /*f*/) {
    return SECMLOPS_ERR_UNSUPPORTED;
  }
  virtual secmlops_status on_metric(const char* /*key*/, double /*value*/, int64_t /*step*/) {
    return SECMLOPS_OK;
  }
  virtual secmlops_status on_property(const char* /*key*/, const char* /*value*/) {
    return SECMLOPS_OK;
  }

 private:
  std::string id_;
  std::shared_ptr<CancelToken> cancel_;
};

// The services table the host hands to every plugin library (current ABI version).
const secmlops_host_services* host_services();

}  // namespace secmlops::host
