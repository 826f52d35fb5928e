#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/app/pipeline.hpp"

#include <atomic>
#include <chrono>

namespace secmlops::server {
namespace {

// Each run writes into its own directory under the server's work directory.
std::filesystem::path run_directory(const ServerConfig& config) {
  static std::atomic<uint64_t> counter{0};
  auto base =
      (config.spill_dir.empty() ? std::filesystem::temp_directory_path() : config.spill_dir) /
      "secmlopsd-pipelines";
  auto stamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  return base / (std::to_string(stamp) + "-" + std::to_string(counter++));
}

}  // namespace

grpc::ServerWriteReactor<v1::PipelineEvent>* PipelineServiceImpl::Run(
    grpc::CallbackServerContext* context, const v1::PipelineRequest* req) {
  return run_streaming<v1::PipelineEvent>(
      state_, context, [this, req](StreamingWriter<v1::PipelineEvent>& out) {
        if (!req->output_dir().empty())
          fail(grpc::StatusCode::INVALID_ARGUMENT,
               "the server chooses the output directory: leave output_dir empty");
        auto env = call_env(state_, out.token(), [&out](const v1::ProgressEvent& e) {
          v1::PipelineEvent ev;
          *ev.mutable_progress() = e;
          out.push(std::move(ev));
        });
        v1::PipelineRequest request = *req;
        request.set_output_dir(run_directory(state_.config).string());
        // The files a run writes serve its steps; the results travel in the report (and MLflow).
        struct Cleanup {
          std::filesystem::path dir;
          ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
          }
        } cleanup{request.output_dir()};
        auto report = app::run_pipeline(env, request, [&out](const v1::StepResult& step) {
          v1::PipelineEvent ev;
          *ev.mutable_step() = step;
          out.push(std::move(ev));
        });
        v1::PipelineEvent ev;
        *ev.mutable_report() = std::move(report);
        out.push(std::move(ev));
      });
}

grpc::ServerUnaryReactor* PipelineServiceImpl::Validate(grpc::CallbackServerContext* context,
                                                        const v1::PipelineRequest* req,
                                                        v1::PipelineValidation* resp) {
  return run_unary(state_, context, [this, context, req, resp] {
    *resp = app::validate_pipeline(call_env(state_, token_for(context)), *req);
  });
}

}  // namespace secmlops::server
