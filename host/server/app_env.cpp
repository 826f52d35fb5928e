#include "app_env.hpp"

#include "server_state.hpp"

#include "secmlops/host/path_guard.hpp"

#include <spdlog/spdlog.h>

namespace secmlops::server {

std::filesystem::path RootedFiles::resolve(const std::string& requested) const {
  using app::AppError;
  if (roots_.empty())
    app::fail(
        AppError::Code::failed_precondition,
        "this server has no scan roots configured (--scan-root): send data in the request instead");
  auto r = host::resolve_under_roots(roots_, requested);
  switch (r.verdict) {
    case host::RootedPath::Verdict::inside:
      return r.path;
    case host::RootedPath::Verdict::outside:
      spdlog::warn("audit: event=path_denied reason=\"{}\"", r.reason);
      app::fail(AppError::Code::permission_denied, r.reason);
    case host::RootedPath::Verdict::not_found:
      break;
  }
  app::fail(AppError::Code::not_found, r.reason);
}

app::ModelUse StoredModels::use(const std::string& id) {
  auto m = store_.get(id);
  if (!m)
    app::fail(app::AppError::Code::not_found, "no model with id '" + id.substr(0, 200) +
                                                  "' (it was deleted, the server restarted, or the "
                                                  "id is wrong; ModelService.List shows the ids)");
  app::ModelUse use;
  use.lock = std::unique_lock(m->mu);
  use.session = m->session.get();
  use.classes = m->classes;
  use.features = m->features;
  use.metadata = m->metadata;
  use.name = m->summary.name().empty() ? id : m->summary.name();
  if (use.classes.empty())
    for (uint32_t c = 0; c < m->summary.n_classes(); ++c) use.classes.push_back(std::to_string(c));
  use.keep_alive = m;
  return use;
}

app::Environment call_env(ServerState& state, std::shared_ptr<host::CancelToken> cancel,
                          app::ProgressSink progress) {
  app::Environment env{state.registry, state.files};
  env.models = &state.model_access;
  env.cancel = std::move(cancel);
  env.progress = std::move(progress);
  env.runs.default_tracking_uri = state.config.mlflow_tracking_uri;
  env.runs.request_may_set_uri = false;
  env.runs.use_environment = true;  // the server's own MLFLOW_* credentials
  env.max_matrix_values = state.config.max_matrix_values;
  env.max_seconds_per_file = state.config.seconds_per_file;
  env.default_seconds_per_file = state.config.seconds_per_file;
  env.worker_memory_bytes = state.config.worker_memory_bytes;
  env.scan_isolation =
      state.config.in_process_scans ? host::Isolation::in_process : host::Isolation::sandbox;
  env.parallel_files = 1;  // the server's parallelism is its worker threads, one request each
  // Paths are resolved to canonical ones under canonical roots, then opened beneath them.
  for (const auto& r : state.config.scan_roots) {
    std::error_code ec;
    auto c = std::filesystem::canonical(r, ec);
    if (!ec) env.scan_roots.push_back(c);
  }
  return env;
}

}  // namespace secmlops::server
