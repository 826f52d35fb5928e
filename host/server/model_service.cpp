#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/app/model_results.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/model_io.hpp"
#include "secmlops/host/printable.hpp"

namespace secmlops::server {

std::shared_ptr<StoredModel> find_model(ModelStore& store, const std::string& id) {
  if (id.empty()) fail(grpc::StatusCode::INVALID_ARGUMENT, "no model_id given");
  auto m = store.get(id);
  if (!m)
    fail(grpc::StatusCode::NOT_FOUND,
         "no model with id '" + id.substr(0, 200) +
             "' (it was deleted, the server restarted, or the id is wrong; "
             "ModelService.List shows the ids)");
  return m;
}

namespace {

void store_or_refuse(ModelStore& store, const std::shared_ptr<StoredModel>& model) {
  if (auto why = store.add(model)) fail(grpc::StatusCode::RESOURCE_EXHAUSTED, *why);
}

}  // namespace

grpc::ServerUnaryReactor* ModelServiceImpl::Train(grpc::CallbackServerContext* context,
                                                  const v1::TrainRequest* req,
                                                  v1::TrainResponse* resp) {
  return run_unary(state_, context, [this, context, req, resp] {
    if (auto why = state_.models.refuse_reason(0); !why.empty())
      fail(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
    auto env = call_env(state_, token_for(context));
    app::TrainedModel trained;
    *resp = app::train(env, *req, &trained);
    auto model = std::make_shared<StoredModel>();
    model->session = std::move(trained.session);
    model->classes = std::move(trained.classes);
    model->features = std::move(trained.features);
    model->metadata = std::move(trained.metadata);
    model->summary = resp->model();
    store_or_refuse(state_.models, model);
    *resp->mutable_model() = model->summary;
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Predict(grpc::CallbackServerContext* context,
                                                    const v1::PredictRequest* req,
                                                    v1::PredictResponse* resp) {
  return run_unary(state_, context, [this, context, req, resp] {
    *resp = app::predict(call_env(state_, token_for(context)), *req);
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Describe(grpc::CallbackServerContext* context,
                                                     const v1::ModelRef* req,
                                                     v1::DescribeResponse* resp) {
  return run_unary(state_, context, [this, context, req, resp] {
    *resp = app::describe(call_env(state_, token_for(context)), *req);
    // The id and creation time are the server's.
    if (!req->model_id().empty())
      if (auto m = state_.models.get(req->model_id())) *resp->mutable_model() = m->summary;
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ImportOnnx(grpc::CallbackServerContext* context,
                                                       const v1::ImportOnnxRequest* req,
                                                       v1::ModelSummary* resp) {
  return run_unary(state_, context, [this, req, resp] {
    auto plugin = app::find_plugin(state_.registry, SECMLOPS_KIND_MODEL, req->plugin());
    if (req->onnx().empty()) fail(grpc::StatusCode::INVALID_ARGUMENT, "no ONNX bytes given");
    if (auto why = state_.models.refuse_reason(req->onnx().size()); !why.empty())
      fail(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
    if ((plugin.capability_bits() & SECMLOPS_CAP_ONNX_IMPORT) == 0)
      fail(grpc::StatusCode::FAILED_PRECONDITION,
           "model plugin " + plugin.name() + " cannot import ONNX");
    auto model = std::make_shared<StoredModel>();
    model->session =
        std::make_unique<host::ModelSession>(plugin, app::to_key_values(req->config()));
    std::vector<uint8_t> bytes(req->onnx().begin(), req->onnx().end());
    if (host::sniff_model_format(bytes) == host::ModelFileFormat::pickle)
      fail(grpc::StatusCode::FAILED_PRECONDITION,
           "these bytes are a pickle or joblib file, not ONNX; ImportModel scans and imports "
           "scikit-learn models");
    if (!model->session->import_onnx(bytes))
      fail(grpc::StatusCode::FAILED_PRECONDITION,
           "model plugin " + plugin.name() +
               " cannot represent this ONNX graph; try another model plugin");
    // What the file records (class names, features, training figures), as a model file has it.
    host::LoadedModel named;
    try {
      named.metadata = host::onnx_metadata(bytes);
    } catch (const std::exception& e) {
      spdlog::debug("ImportOnnx: no metadata read: {}", e.what());
    }
    named.session = std::move(model->session);
    host::name_classes_and_features(named, bytes);
    model->session = std::move(named.session);
    model->classes = std::move(named.class_labels);
    model->features = std::move(named.features);
    model->metadata = std::move(named.metadata);
    model->summary = app::summarise_model(*model->session, req->name());
    model->summary.set_memory_bytes(
        std::max<uint64_t>(model->summary.memory_bytes(), bytes.size()));
    store_or_refuse(state_.models, model);
    *resp = model->summary;
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ImportModel(grpc::CallbackServerContext* context,
                                                        const v1::ImportModelRequest* req,
                                                        v1::ModelSummary* resp) {
  return run_unary(state_, context, [this, req, resp] {
    if (req->model().empty()) fail(grpc::StatusCode::INVALID_ARGUMENT, "no model bytes given");
    if (auto why = state_.models.refuse_reason(req->model().size()); !why.empty())
      fail(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
    // The upload's name is the client's: it only labels messages, printable and bounded.
    const std::string source =
        "upload " +
        host::printable(req->file_name().empty() ? std::string("model") : req->file_name());
    std::vector<uint8_t> bytes(req->model().begin(), req->model().end());
    // A pickle is scanned and rebuilt without running it; PluginError becomes INVALID_ARGUMENT
    // (malformed), FAILED_PRECONDITION (refused by the scan, or no plugin represents it) or
    // RESOURCE_EXHAUSTED, with the reason (run_unary).
    host::LoadedModel loaded = host::load_model_bytes(state_.registry, bytes, source);
    auto model = std::make_shared<StoredModel>();
    model->session = std::move(loaded.session);
    model->classes = std::move(loaded.class_labels);
    model->features = std::move(loaded.features);
    model->metadata = std::move(loaded.metadata);
    model->summary = app::summarise_model(*model->session, req->name());
    model->summary.set_memory_bytes(
        std::max<uint64_t>(model->summary.memory_bytes(), bytes.size()));
    store_or_refuse(state_.models, model);
    *resp = model->summary;
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ExportOnnx(grpc::CallbackServerContext* context,
                                                       const v1::ModelRef* req,
                                                       v1::ExportOnnxResponse* resp) {
  return run_unary(state_, context, [this, req, resp] {
    auto model = find_model(state_.models, req->model_id());
    std::lock_guard lock(model->mu);
    if ((model->session->plugin().capability_bits() & SECMLOPS_CAP_ONNX_EXPORT) == 0)
      fail(grpc::StatusCode::FAILED_PRECONDITION,
           "model plugin " + model->session->plugin().name() + " cannot export ONNX");
    auto bytes = model->session->export_onnx();
    for (const auto& [k, v] : model->metadata) host::add_onnx_metadata(bytes, k, v);
    resp->set_onnx(bytes.data(), bytes.size());
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Delete(grpc::CallbackServerContext* context,
                                                   const v1::ModelRef* req,
                                                   v1::DeleteModelResponse*) {
  return run_unary(
      state_, context,
      [this, req] {
        if (!state_.models.remove(req->model_id()))
          find_model(state_.models, req->model_id());  // NOT_FOUND
      },
      /*on_pool=*/false);
}

grpc::ServerUnaryReactor* ModelServiceImpl::List(grpc::CallbackServerContext* context,
                                                 const v1::ListModelsRequest*,
                                                 v1::ListModelsResponse* resp) {
  return run_unary(
      state_, context, [this, resp] { *resp = state_.models.list(); }, /*on_pool=*/false);
}

}  // namespace secmlops::server
