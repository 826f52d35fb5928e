#include "secmlops/app/operations.hpp"
#include "secmlops/host/model_io.hpp"

namespace secmlops::app {

host::Plugin find_plugin(const host::Registry& registry, secmlops_kind kind,
                         const std::string& name) {
  if (name.empty())
    fail(AppError::Code::invalid_argument,
         std::string("no ") + host::kind_name(kind) + " plugin name given");
  if (auto p = registry.find(kind, name)) return *p;
  std::string known;
  for (const auto& p : registry.by_kind(kind)) known += (known.empty() ? "" : ", ") + p.name();
  fail(AppError::Code::not_found,
       std::string("no ") + host::kind_name(kind) + " plugin named '" + name.substr(0, 200) +
           "'; loaded: " + (known.empty() ? "none" : known) + " (`secmlops plugins` lists them)");
}

v1::ModelSummary summarise_model(const host::ModelSession& session, const std::string& name) {
  v1::ModelSummary s;
  auto info = session.info();
  s.set_plugin(session.plugin().name());
  s.set_name(name);
  s.set_n_features(info.n_features);
  s.set_n_classes(info.n_classes);
  s.set_has_gradient(session.has_gradient());
  double params = -1;
  for (const auto& [key, value] : session.describe().metrics)
    if (key == "parameters") params = value.first;
  uint64_t count = params >= 0 ? static_cast<uint64_t>(params)
                               : info.n_features * static_cast<uint64_t>(info.n_classes);
  s.set_memory_bytes(4096 + 8 * count);
  return s;
}

ModelUse use_model(const Environment& env, const std::string& model_id,
                   const std::string& model_path) {
  if (!model_id.empty() && !model_path.empty())
    fail(AppError::Code::invalid_argument, "give model_id or model_path, not both");
  if (!model_id.empty()) {
    if (!env.models)
      fail(AppError::Code::invalid_argument,
           "model ids exist only on the server: give a model file");
    return env.models->use(model_id);
  }
  if (model_path.empty())
    fail(AppError::Code::invalid_argument, "no model given: set model_id or model_path");
  auto path = env.files.resolve(model_path);
  struct Owned {
    host::LoadedModel model;
    std::mutex mu;
  };
  auto owned = std::make_shared<Owned>();
  owned->model = host::load_model_file(env.registry, path);
  ModelUse use;
  use.session = owned->model.session.get();
  use.classes = owned->model.class_labels;
  use.features = owned->model.features;
  use.metadata = owned->model.metadata;
  use.name = path.filename().string();
  use.lock = std::unique_lock(owned->mu);
  use.keep_alive = owned;
  return use;
}

}  // namespace secmlops::app
