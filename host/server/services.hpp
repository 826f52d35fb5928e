#pragma once

#include "server_state.hpp"

#include "secmlops/v1/attack_service.grpc.pb.h"
#include "secmlops/v1/model_service.grpc.pb.h"
#include "secmlops/v1/pipeline_service.grpc.pb.h"
#include "secmlops/v1/plugin_service.grpc.pb.h"
#include "secmlops/v1/scan_service.grpc.pb.h"

namespace secmlops::server {

// Each service checks the bearer token first, validates the request (the status says what to
// fix), and moves CPU work to the worker pool.

class PluginServiceImpl final : public v1::PluginService::CallbackService {
 public:
  explicit PluginServiceImpl(ServerState& state) : state_(state) {}
  grpc::ServerUnaryReactor* ListPlugins(grpc::CallbackServerContext* context,
                                        const v1::ListPluginsRequest* request,
                                        v1::PluginList* response) override;

 private:
  ServerState& state_;
};

// ScanUpload is taken raw: each chunk is parsed by the service, so an undecodable one is refused
// instead of ending the stream as if the upload were complete.
class ScanServiceImpl final
    : public v1::ScanService::WithRawCallbackMethod_ScanUpload<v1::ScanService::CallbackService> {
 public:
  explicit ScanServiceImpl(ServerState& state) : state_(state) {}
  grpc::ServerWriteReactor<v1::FileReport>* Scan(grpc::CallbackServerContext* context,
                                                 const v1::ScanRequest* request) override;
  grpc::ServerUnaryReactor* Report(grpc::CallbackServerContext* context,
                                   const v1::ScanRequest* request,
                                   v1::ScanReport* response) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* ScanUpload(grpc::CallbackServerContext* context,
                                                        grpc::ByteBuffer* response) override;

 private:
  ServerState& state_;
};

class ModelServiceImpl final : public v1::ModelService::CallbackService {
 public:
  explicit ModelServiceImpl(ServerState& state) : state_(state) {}
  grpc::ServerUnaryReactor* Train(grpc::CallbackServerContext* context,
                                  const v1::TrainRequest* request,
                                  v1::TrainResponse* response) override;
  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const v1::PredictRequest* request,
                                    v1::PredictResponse* response) override;
  grpc::ServerUnaryReactor* Describe(grpc::CallbackServerContext* context,
                                     const v1::ModelRef* request,
                                     v1::DescribeResponse* response) override;
  grpc::ServerUnaryReactor* ImportOnnx(grpc::CallbackServerContext* context,
                                       const v1::ImportOnnxRequest* request,
                                       v1::ModelSummary* response) override;
  grpc::ServerUnaryReactor* ImportModel(grpc::CallbackServerContext* context,
                                        const v1::ImportModelRequest* request,
                                        v1::ModelSummary* response) override;
  grpc::ServerUnaryReactor* ExportOnnx(grpc::CallbackServerContext* context,
                                       const v1::ModelRef* request,
                                       v1::ExportOnnxResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const v1::ModelRef* request,
                                   v1::DeleteModelResponse* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const v1::ListModelsRequest* request,
                                 v1::ListModelsResponse* response) override;

 private:
  ServerState& state_;
};

class AttackServiceImpl final : public v1::AttackService::CallbackService {
 public:
  explicit AttackServiceImpl(ServerState& state) : state_(state) {}
  grpc::ServerWriteReactor<v1::AttackEvent>* Run(grpc::CallbackServerContext* context,
                                                 const v1::AttackRequest* request) override;

 private:
  ServerState& state_;
};

class PipelineServiceImpl final : public v1::PipelineService::CallbackService {
 public:
  explicit PipelineServiceImpl(ServerState& state) : state_(state) {}
  grpc::ServerWriteReactor<v1::PipelineEvent>* Run(grpc::CallbackServerContext* context,
                                                   const v1::PipelineRequest* request) override;
  grpc::ServerUnaryReactor* Validate(grpc::CallbackServerContext* context,
                                     const v1::PipelineRequest* request,
                                     v1::PipelineValidation* response) override;

 private:
  ServerState& state_;
};

// The model with this id, or NOT_FOUND.
std::shared_ptr<StoredModel> find_model(ModelStore& store, const std::string& id);

}  // namespace secmlops::server
