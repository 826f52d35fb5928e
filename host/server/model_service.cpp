#include "call_util.hpp"
#include "csv_dataset.hpp"
#include "services.hpp"

#include <algorithm>

namespace secmlops::server {

std::shared_ptr<StoredModel> find_model(ModelStore& store, const std::string& id) {
  if (id.empty()) fail(grpc::StatusCode::INVALID_ARGUMENT, "no model_id given");
  auto m = store.get(id);
  if (!m)
    fail(grpc::StatusCode::NOT_FOUND,
         "no model with id '" + id +
             "' (it was deleted, the server restarted, or the id is wrong; "
             "ModelService.List shows the ids)");
  return m;
}

namespace {

void check_labels(const std::vector<int32_t>& y, uint64_t rows) {
  if (y.size() != rows)
    fail(grpc::StatusCode::INVALID_ARGUMENT, "got " + std::to_string(y.size()) + " labels for " +
                                                 std::to_string(rows) +
                                                 " rows: give one label per row");
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] < 0)
      fail(grpc::StatusCode::INVALID_ARGUMENT, "label " + std::to_string(y[i]) + " of row " +
                                                   std::to_string(i) +
                                                   " is negative: classes are 0..n-1");
}

void store_or_refuse(ModelStore& store, const std::shared_ptr<StoredModel>& model) {
  if (auto why = store.add(model)) fail(grpc::StatusCode::RESOURCE_EXHAUSTED, *why);
}

}  // namespace

grpc::ServerUnaryReactor* ModelServiceImpl::Train(grpc::CallbackServerContext* context,
                                                  const v1::TrainRequest* req,
                                                  v1::TrainResponse* resp) {
  return run_unary(state_, context, [this, req, resp] {
    auto plugin = find_plugin(state_.registry, SECMLOPS_KIND_MODEL, req->plugin());
    if (auto why = state_.models.refuse_reason(0); !why.empty())
      fail(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
    LabeledData data;
    const bool has_matrix = req->has_features() || req->labels_size() > 0;
    if (req->has_csv() == has_matrix)
      fail(grpc::StatusCode::INVALID_ARGUMENT,
           "give either features + labels or csv, not both or neither");
    if (req->has_csv()) {
      data = parse_labeled_csv(req->csv().text(), req->csv().label_column(),
                               req->csv().has_header(), state_.config.max_matrix_values);
    } else {
      data.x = to_dense(req->features(), state_.config.max_matrix_values, "features");
      data.y.assign(req->labels().begin(), req->labels().end());
    }
    check_labels(data.y, data.x.rows);
    auto model = std::make_shared<StoredModel>();
    model->session = std::make_unique<host::ModelSession>(plugin, to_kv(req->config()));
    host::Emitted emitted;
    model->session->fit(data.x, data.y, to_kv(req->params()), &emitted);
    model->summary = summarise_session(*model->session, req->name());
    store_or_refuse(state_.models, model);
    *resp->mutable_model() = model->summary;
    for (const auto& [key, v] : emitted.metrics) {
      auto* m = resp->add_metrics();
      m->set_key(key);
      m->set_value(v.first);
      m->set_step(v.second);
    }
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Predict(grpc::CallbackServerContext* context,
                                                    const v1::PredictRequest* req,
                                                    v1::PredictResponse* resp) {
  return run_unary(state_, context, [this, req, resp] {
    auto model = find_model(state_.models, req->model_id());
    auto x = to_dense(req->features(), state_.config.max_matrix_values, "features");
    if (x.cols != model->summary.n_features())
      fail(grpc::StatusCode::INVALID_ARGUMENT,
           "features have " + std::to_string(x.cols) + " columns, model " + model->summary.id() +
               " expects " + std::to_string(model->summary.n_features()));
    std::lock_guard lock(model->mu);
    auto proba = model->session->predict_proba(x);
    from_dense(proba, *resp->mutable_probabilities());
    for (uint64_t r = 0; r < proba.rows; ++r) {
      const double* row = proba.data.data() + r * proba.cols;
      resp->add_labels(static_cast<int32_t>(std::max_element(row, row + proba.cols) - row));
    }
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Describe(grpc::CallbackServerContext* context,
                                                     const v1::ModelRef* req,
                                                     v1::DescribeResponse* resp) {
  return run_unary(state_, context, [this, req, resp] {
    auto model = find_model(state_.models, req->model_id());
    std::lock_guard lock(model->mu);
    auto e = model->session->describe();
    *resp->mutable_model() = model->summary;
    for (const auto& [key, v] : e.metrics) {
      auto* m = resp->add_metrics();
      m->set_key(key);
      m->set_value(v.first);
      m->set_step(v.second);
    }
    for (const auto& [key, value] : e.properties) {
      auto* p = resp->add_properties();
      p->set_key(key);
      p->set_value(value);
    }
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ImportOnnx(grpc::CallbackServerContext* context,
                                                       const v1::ImportOnnxRequest* req,
                                                       v1::ModelSummary* resp) {
  return run_unary(state_, context, [this, req, resp] {
    auto plugin = find_plugin(state_.registry, SECMLOPS_KIND_MODEL, req->plugin());
    if (req->onnx().empty()) fail(grpc::StatusCode::INVALID_ARGUMENT, "no ONNX bytes given");
    if (auto why = state_.models.refuse_reason(req->onnx().size()); !why.empty())
      fail(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
    if ((plugin.descriptor().capabilities & SECMLOPS_CAP_ONNX_IMPORT) == 0)
      fail(grpc::StatusCode::FAILED_PRECONDITION,
           "model plugin " + plugin.name() + " cannot import ONNX");
    auto model = std::make_shared<StoredModel>();
    model->session = std::make_unique<host::ModelSession>(plugin, to_kv(req->config()));
    std::vector<uint8_t> bytes(req->onnx().begin(), req->onnx().end());
    if (!model->session->import_onnx(bytes))
      fail(grpc::StatusCode::FAILED_PRECONDITION,
           "model plugin " + plugin.name() +
               " cannot represent this ONNX graph; try another model plugin");
    model->summary = summarise_session(*model->session, req->name());
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
    if ((model->session->plugin().descriptor().capabilities & SECMLOPS_CAP_ONNX_EXPORT) == 0)
      fail(grpc::StatusCode::FAILED_PRECONDITION,
           "model plugin " + model->session->plugin().name() + " cannot export ONNX");
    auto bytes = model->session->export_onnx();
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
