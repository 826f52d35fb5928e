#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/app/operations.hpp"
#include "secmlops/host/scan_engine.hpp"
#include "secmlops/host/stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace secmlops::server {
namespace {

constexpr size_t kMaxNameLength = 4096;

// Receives an upload into memory, or into an unlinked-on-finish temp file once it grows past
// the spill threshold; then scans it on the worker pool.
class UploadReader final : public grpc::ServerReadReactor<v1::UploadChunk> {
 public:
  UploadReader(ServerState& state, grpc::CallbackServerContext* context, v1::FileReport* response)
      : state_(state), response_(response), token_(token_for(context)) {
    if (auto s = state_.auth.check(context); !s.ok()) {
      Finish(s);
      return;
    }
    StartRead(&chunk_);
  }
  ~UploadReader() override { discard_spill(); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed (everything has arrived) or went away
      if (token_->cancelled()) return Finish({grpc::StatusCode::CANCELLED, "upload cancelled"});
      scan();
      return;
    }
    if (first_) {
      first_ = false;
      name_ = chunk_.name().empty() ? "upload" : chunk_.name();
      if (name_.size() > kMaxNameLength || name_.find('\0') != std::string::npos)
        return Finish(
            {grpc::StatusCode::INVALID_ARGUMENT, "UploadChunk.name is too long or contains NUL"});
      options_ = chunk_.options();
    } else if (!chunk_.name().empty() || chunk_.has_options()) {
      return Finish(
          {grpc::StatusCode::INVALID_ARGUMENT,
           "only the first UploadChunk may carry name/options; later ones carry data only"});
    }
    const auto& data = chunk_.data();
    total_ += data.size();
    if (total_ > state_.config.max_upload_bytes)
      return Finish({grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "upload exceeds the server's limit of " +
                         std::to_string(state_.config.max_upload_bytes) +
                         " bytes (--max-upload-bytes)"});
    if (auto s = append(data); !s.ok()) return Finish(s);
    StartRead(&chunk_);
  }
  void OnCancel() override { token_->cancel(); }
  void OnDone() override { delete this; }

 private:
  grpc::Status append(const std::string& data) {
    if (spill_fd_ < 0 && bytes_.size() + data.size() > state_.config.upload_spill_bytes) {
      auto dir = state_.config.spill_dir.empty() ? std::filesystem::temp_directory_path()
                                                 : state_.config.spill_dir;
      std::string tmpl = (dir / "secmlopsd-upload-XXXXXX").string();
      spill_fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
      if (spill_fd_ < 0)
        return {grpc::StatusCode::INTERNAL,
                "cannot create a spill file in " + dir.string() + ": " + std::strerror(errno)};
      spill_path_ = tmpl;
      if (!write_all(bytes_.data(), bytes_.size()))
        return {grpc::StatusCode::INTERNAL,
                "cannot write spill file: " + std::string(std::strerror(errno))};
      bytes_.clear();
      bytes_.shrink_to_fit();
    }
    if (spill_fd_ >= 0) {
      if (!write_all(data.data(), data.size()))
        return {grpc::StatusCode::INTERNAL,
                "cannot write spill file: " + std::string(std::strerror(errno))};
    } else {
      bytes_.insert(bytes_.end(), data.begin(), data.end());
    }
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
    if (!spill_path_.empty()) ::unlink(spill_path_.c_str());
    spill_path_.clear();
  }

  void scan() {
    bool queued = state_.pool.try_submit([this] {
      auto status = guarded([&] {
        std::shared_ptr<const host::Stream> stream;
        if (spill_fd_ >= 0) {
          ::close(spill_fd_);
          spill_fd_ = -1;
          stream = std::make_shared<host::FileStream>(spill_path_);
        } else {
          stream = std::make_shared<host::MemoryStream>(std::move(bytes_));
        }
        *response_ = app::scan_stream(call_env(state_, token_), stream, name_, options_);
      });
      discard_spill();
      if (status.ok() && token_->cancelled())
        status = {token_->deadline_passed() ? grpc::StatusCode::DEADLINE_EXCEEDED
                                            : grpc::StatusCode::CANCELLED,
                  "scan stopped before it finished"};
      Finish(status);
    });
    if (!queued)
      Finish({grpc::StatusCode::RESOURCE_EXHAUSTED,
              "server busy: the work queue is full, retry later"});
  }

  ServerState& state_;
  v1::FileReport* response_;
  std::shared_ptr<host::CancelToken> token_;
  v1::UploadChunk chunk_;
  bool first_ = true;
  std::string name_;
  v1::ScanOptions options_;
  uint64_t total_ = 0;
  std::vector<uint8_t> bytes_;
  int spill_fd_ = -1;
  std::string spill_path_;
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

grpc::ServerReadReactor<v1::UploadChunk>* ScanServiceImpl::ScanUpload(
    grpc::CallbackServerContext* context, v1::FileReport* response) {
  return new UploadReader(state_, context, response);
}

}  // namespace secmlops::server
