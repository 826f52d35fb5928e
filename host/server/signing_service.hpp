#pragma once

#include "server_state.hpp"

#include "secmlops/v1/signing_service.grpc.pb.h"

namespace secmlops::server {

// Sign and Verify on server paths (model and signature under the scan roots). Key material
// travels in the request as PEM: the server never reads a client-named key file. A failed
// verification is an OK call whose result says why; unusable input is INVALID_ARGUMENT.
class SigningServiceImpl final : public v1::SigningService::CallbackService {
 public:
  explicit SigningServiceImpl(ServerState& state) : state_(state) {}
  grpc::ServerUnaryReactor* Sign(grpc::CallbackServerContext* context,
                                 const v1::SignRequest* request, v1::SignResult* response) override;
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const v1::VerifyRequest* request,
                                   v1::VerifyResult* response) override;

 private:
  ServerState& state_;
};

}  // namespace secmlops::server
