#pragma once

// The gRPC door's environment for the application layer: paths only under the scan roots, no
// files written, models from the server's registry, runs recorded only to the server's own
// tracking URI.
#include "model_store.hpp"

#include "secmlops/app/environment.hpp"

#include <filesystem>
#include <vector>

namespace secmlops::server {

struct ServerState;

class RootedFiles final : public app::FileAccess {
 public:
  explicit RootedFiles(const std::vector<std::filesystem::path>& roots) : roots_(roots) {}
  [[nodiscard]] std::filesystem::path resolve(const std::string& requested) const override;
  [[nodiscard]] bool may_write() const override { return false; }

 private:
  const std::vector<std::filesystem::path>& roots_;
};

class StoredModels final : public app::ModelRegistry {
 public:
  explicit StoredModels(ModelStore& store) : store_(store) {}
  app::ModelUse use(const std::string& id) override;

 private:
  ModelStore& store_;
};

// A call's environment: the state's policy plus the call's cancel token and progress sink.
app::Environment call_env(ServerState& state, std::shared_ptr<host::CancelToken> cancel,
                          app::ProgressSink progress = {});

}  // namespace secmlops::server
