#pragma once

#include "server_state.hpp"

#include "secmlops/host/job.hpp"
#include "secmlops/host/matrix.hpp"
#include "secmlops/host/plugin_instance.hpp"
#include "secmlops/v1/common.pb.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace secmlops::server {

// A request the client has to fix: becomes a status with the message.
struct CallError {
  grpc::StatusCode code;
  std::string message;
};
[[noreturn]] inline void fail(grpc::StatusCode code, std::string message) {
  throw CallError{code, std::move(message)};
}

// A plugin's status as the gRPC status a client can act on.
grpc::StatusCode status_code(secmlops_status status);
// Runs `work` and turns CallError / PluginError / other exceptions into a status.
grpc::Status guarded(const std::function<void()>& work);

// Validates shape and size (rows*cols == values, within the server's limit) and copies.
host::DenseMatrix to_dense(const v1::Matrix& m, uint64_t max_values, const char* what);
void from_dense(const host::DenseMatrix& d, v1::Matrix& out);

// A cancel token that fires when the call's deadline passes (OnCancel covers the rest).
std::shared_ptr<host::CancelToken> token_for(const grpc::CallbackServerContext* context);

// A unary call whose work runs on the worker pool (auth checked first; a full queue is
// RESOURCE_EXHAUSTED).
grpc::ServerUnaryReactor* run_unary(ServerState& state, grpc::CallbackServerContext* context,
                                    std::function<void()> work, bool on_pool = true);

// A server-streaming call fed by a producer on the worker pool: messages are queued by the
// producer and written one at a time; Finish waits until the producer is done, so the
// reactor is never deleted while the producer runs. Cancellation (client, deadline, drain)
// fires `token`, which the producer's host calls honour.
template <class Msg>
class StreamingWriter : public grpc::ServerWriteReactor<Msg> {
 public:
  explicit StreamingWriter(grpc::CallbackServerContext* context) : token_(token_for(context)) {}

  // Producer side (any thread).
  void push(Msg msg) {
    {
      std::lock_guard lock(mu_);
      if (broken_) return;
      queue_.push_back(std::move(msg));
    }
    pump();
  }
  void complete(grpc::Status status) {
    {
      std::lock_guard lock(mu_);
      status_ = std::move(status);
      producer_done_ = true;
    }
    pump();
  }
  [[nodiscard]] const std::shared_ptr<host::CancelToken>& token() const { return token_; }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      queue_.pop_front();
      if (!ok) {  // the client is gone: stop producing, finish once the producer returns
        broken_ = true;
        queue_.clear();
        token_->cancel();
      }
    }
    pump();
  }
  void OnCancel() override { token_->cancel(); }
  void OnDone() override { delete this; }

 private:
  // Starts the next write, or finishes once everything is written and the producer is done.
  // gRPC is called outside the lock (a reaction may run inline); `writing_`/`finished_` make
  // sure only one caller acts. Deque references stay valid across push_back.
  void pump() {
    Msg* next = nullptr;
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      if (finished_ || writing_) return;
      if (!queue_.empty()) {
        writing_ = true;
        next = &queue_.front();
      } else if (producer_done_) {
        finished_ = true;
        finish = true;
      }
    }
    if (next != nullptr)
      this->StartWrite(next);
    else if (finish)
      this->Finish(status_);
  }

  std::shared_ptr<host::CancelToken> token_;
  std::mutex mu_;
  std::deque<Msg> queue_;
  bool writing_ = false, producer_done_ = false, finished_ = false, broken_ = false;
  grpc::Status status_;
};

// Starts `produce` for a streaming writer on the pool after the auth check; the producer
// returns the final status.
template <class Msg>
grpc::ServerWriteReactor<Msg>* run_streaming(ServerState& state,
                                             grpc::CallbackServerContext* context,
                                             std::function<void(StreamingWriter<Msg>&)> produce) {
  auto* writer = new StreamingWriter<Msg>(context);
  if (auto s = state.auth.check(context); !s.ok()) {
    writer->complete(s);
    return writer;
  }
  bool queued = state.pool.try_submit(
      [writer, produce = std::move(produce), caller = state.auth.identity(context)] {
        CallerScope scope(caller);
        writer->complete(guarded([&] { produce(*writer); }));
      });
  if (!queued)
    writer->complete(
        {grpc::StatusCode::RESOURCE_EXHAUSTED, "server busy: the work queue is full, retry later"});
  return writer;
}

}  // namespace secmlops::server
