#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/app/operations.hpp"
#include "secmlops/host/path_guard.hpp"
#include "secmlops/host/printable.hpp"
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/host/stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace secmlops::server {
namespace {

constexpr size_t kMaxNameLength = 4096;

// Receives an upload chunk by chunk, parsing each one itself (an undecodable chunk is the
// client's error, never the end of the upload), into memory counted against the server's upload
// budget, or into an unlinked-on-finish spill file counted against the disk budget; then scans
// it on the worker pool. A stream silent for longer than the idle timeout is ended.
class UploadReader final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  UploadReader(ServerState& state, grpc::CallbackServerContext* context, grpc::ByteBuffer* response)
      : state_(state), context_(context), response_(response), token_(token_for(context)) {
    if (auto s = state_.auth.check(context); !s.ok()) {
      finish(s);
      return;
    }
    if (!state_.uploads.try_enter()) {
      audit_limit("concurrent uploads", state_.uploads.budgets().max_concurrent);
      finish({grpc::StatusCode::RESOURCE_EXHAUSTED,
              "too many uploads in progress (limit " +
                  std::to_string(state_.uploads.budgets().max_concurrent) + "): retry later"});
      return;
    }
    entered_ = true;
    state_.uploads.watch(this, [this] {
      audit_limit("upload idle timeout (seconds)", state_.uploads.budgets().idle_seconds);
      idle_expired_ = true;
      finish({grpc::StatusCode::DEADLINE_EXCEEDED,
              "upload idle for more than " +
                  fmt::format("{}", state_.uploads.budgets().idle_seconds) +
                  " s: send chunks steadily or close the stream"});
    });
    StartRead(&raw_);
  }

  void OnReadDone(bool ok) override {
    if (finished_) return;
    if (!ok) {  // the client half-closed (everything has arrived) or went away
      state_.uploads.unwatch(this);
      if (token_->cancelled() || context_->IsCancelled()) {
        spdlog::info("audit: event=cancelled call=ScanUpload peer={}", context_->peer());
        return finish({grpc::StatusCode::CANCELLED, "upload cancelled"});
      }
      if (first_)
        return finish(
            {grpc::StatusCode::INVALID_ARGUMENT, "empty upload: no UploadChunk received"});
      scan();
      return;
    }
    state_.uploads.touch(this);
    ++chunks_;
    v1::UploadChunk chunk;
    if (!grpc::SerializationTraits<v1::UploadChunk>::Deserialize(&raw_, &chunk).ok())
      return finish({grpc::StatusCode::INVALID_ARGUMENT,
                     "UploadChunk #" + std::to_string(chunks_) +
                         " is not a valid message; the upload is refused"});
    if (first_) {
      first_ = false;
      name_ = chunk.name().empty() ? "upload" : chunk.name();
      if (name_.size() > kMaxNameLength || name_.find('\0') != std::string::npos)
        return finish(
            {grpc::StatusCode::INVALID_ARGUMENT, "UploadChunk.name is too long or contains NUL"});
      options_ = chunk.options();
    } else if (!chunk.name().empty() || chunk.has_options()) {
      return finish(
          {grpc::StatusCode::INVALID_ARGUMENT,
           "only the first UploadChunk may carry name/options; later ones carry data only"});
    }
    const auto& data = chunk.data();
    total_ += data.size();
    if (total_ > state_.config.max_upload_bytes)
      return finish({grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "upload exceeds the server's limit of " +
                         std::to_string(state_.config.max_upload_bytes) +
                         " bytes (--max-upload-bytes)"});
    if (auto s = append(data); !s.ok()) return finish(s);
    StartRead(&raw_);
  }
  void OnCancel() override { token_->cancel(); }
  void OnDone() override {
    state_.uploads.unwatch(this);
    delete this;
  }
  ~UploadReader() override {
    discard_spill();
    state_.uploads.release_memory(memory_held_);
    if (entered_) state_.uploads.leave();
  }

 private:
  void finish(grpc::Status s) {
    if (finished_.exchange(true)) return;
    Finish(std::move(s));
  }
  void audit_limit(const char* limit, double value) {
    spdlog::warn("audit: event=limit limit=\"{}\" value={} call=ScanUpload peer={}", limit, value,
                 context_->peer());
  }
  grpc::Status append(const std::string& data) {
    // In memory while this upload is under the spill threshold and all uploads under the memory
    // budget; on disk (counted against the disk budget) otherwise.
    if (spill_fd_ < 0 && bytes_.size() + data.size() <= state_.config.upload_spill_bytes &&
        state_.uploads.try_reserve_memory(data.size())) {
      memory_held_ += data.size();
      bytes_.insert(bytes_.end(), data.begin(), data.end());
      return grpc::Status::OK;
    }
    if (spill_fd_ < 0) {
      if (auto s = start_spill(); !s.ok()) return s;
    }
    return spill(data.data(), data.size());
  }
  // Appends to the spill file, counted against the disk budget.
  grpc::Status spill(const void* p, size_t n) {
    if (!state_.uploads.try_reserve_disk(n)) {
      audit_limit("spill disk budget (bytes)",
                  static_cast<double>(state_.uploads.budgets().disk_bytes));
      return {grpc::StatusCode::RESOURCE_EXHAUSTED,
              "the server's disk budget for uploads is used up: retry later"};
    }
    disk_held_ += n;
    if (!write_all(p, n))
      return {grpc::StatusCode::INTERNAL,
              "cannot write spill file: " + std::string(std::strerror(errno))};
    return grpc::Status::OK;
  }
  grpc::Status start_spill() {
    auto dir = state_.config.spill_dir.empty() ? std::filesystem::temp_directory_path()
                                               : state_.config.spill_dir;
    std::string tmpl = (dir / "secmlopsd-upload-XXXXXX").string();
    spill_fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (spill_fd_ < 0) {
      spdlog::error("cannot create a spill file in {}: {}", dir.string(), std::strerror(errno));
      return {grpc::StatusCode::INTERNAL,
              "cannot create a spill file for the upload on the server"};
    }
    // Unlinked at once: the descriptor is all that is needed, and nothing is left behind if the
    // process dies.
    ::unlink(tmpl.c_str());
    if (auto s = spill(bytes_.data(), bytes_.size()); !s.ok()) return s;
    state_.uploads.release_memory(memory_held_);
    memory_held_ = 0;
    bytes_.clear();
    bytes_.shrink_to_fit();
    return grpc::Status::OK;
  }
  bool write_all(const void* p, size_t n) {
    const auto* c = static_cast<const char*>(p);
    while (n > 0) {
      ssize_t w = ::write(spill_fd_, c, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      c += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  void discard_spill() {
    if (spill_fd_ >= 0) ::close(spill_fd_);
    spill_fd_ = -1;
    state_.uploads.release_disk(disk_held_);
    disk_held_ = 0;
  }

  void scan() {
    bool queued = state_.pool.try_submit([this] {
      v1::FileReport report;
      auto status = guarded([&] {
        std::shared_ptr<const host::Stream> stream;
        if (spill_fd_ >= 0) {
          stream = std::make_shared<host::FileStream>(spill_fd_, name_);
          spill_fd_ = -1;  // the stream owns it now
        } else {
          stream = std::make_shared<host::MemoryStream>(std::move(bytes_));
        }
        report = app::scan_stream(call_env(state_, token_), stream, name_, options_);
      });
      discard_spill();
      if (status.ok() && token_->cancelled())
        status = {token_->deadline_passed() ? grpc::StatusCode::DEADLINE_EXCEEDED
                                            : grpc::StatusCode::CANCELLED,
                  "scan stopped before it finished"};
      if (status.ok()) {
        bool own = false;
        status = grpc::SerializationTraits<v1::FileReport>::Serialize(report, response_, &own);
      }
      finish(status);
    });
    if (!queued) {
      spdlog::warn("audit: event=limit limit=\"work queue\" call=ScanUpload peer={}",
                   context_->peer());
      finish({grpc::StatusCode::RESOURCE_EXHAUSTED,
              "server busy: the work queue is full, retry later"});
    }
  }

  ServerState& state_;
  grpc::CallbackServerContext* context_;
  grpc::ByteBuffer* response_;
  std::shared_ptr<host::CancelToken> token_;
  grpc::ByteBuffer raw_;
  std::atomic<bool> finished_{false};
  bool entered_ = false, first_ = true, idle_expired_ = false;
  uint64_t chunks_ = 0;
  std::string name_;
  v1::ScanOptions options_;
  uint64_t total_ = 0, memory_held_ = 0, disk_held_ = 0;
  std::vector<uint8_t> bytes_;
  int spill_fd_ = -1;
};

}  // namespace

grpc::ServerWriteReactor<v1::FileReport>* ScanServiceImpl::Scan(
    grpc::CallbackServerContext* context, const v1::ScanRequest* request) {
  return run_streaming<v1::FileReport>(
      state_, context, [this, request](StreamingWriter<v1::FileReport>& out) {
        auto env = call_env(state_, out.token());
        app::scan(env, *request, [&](const v1::FileReport& report) { out.push(report); });
      });
}

grpc::ServerUnaryReactor* ScanServiceImpl::Report(grpc::CallbackServerContext* context,
                                                  const v1::ScanRequest* request,
                                                  v1::ScanReport* response) {
  return run_unary(state_, context, [this, context, request, response] {
    *response = app::scan(call_env(state_, token_for(context)), *request);
  });
}

grpc::ServerReadReactor<grpc::ByteBuffer>* ScanServiceImpl::ScanUpload(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  return new UploadReader(state_, context, response);
}

}  // namespace secmlops::server
