#pragma once

#include "app_env.hpp"
#include "auth.hpp"
#include "model_store.hpp"
#include "server_config.hpp"
#include "worker_pool.hpp"

#include "secmlops/host/registry.hpp"

namespace secmlops::server {

// What every service shares: configuration, plugins, auth, the worker pool and the models.
struct ServerState {
  ServerState(ServerConfig cfg, TokenAuth tokens, unsigned threads, size_t queue)
      : config(std::move(cfg)),
        auth(std::move(tokens)),
        pool(threads, queue),
        models(config.max_models, config.max_model_memory_bytes),
        files(config.scan_roots),
        model_access(models) {}

  ServerConfig config;
  host::Registry registry;
  TokenAuth auth;
  WorkerPool pool;
  ModelStore models;
  RootedFiles files;          // what requests may name: paths under the scan roots
  StoredModels model_access;  // the models as the application layer uses them
};

}  // namespace secmlops::server
