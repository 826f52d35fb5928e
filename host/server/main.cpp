// secmlopsd: the secmlops gRPC API server.
#include "abstract_listener.hpp"
#include "memory_trim.hpp"
#include "secmlops/host/guarded_main.hpp"
#include "server_config.hpp"
#include "server_state.hpp"
#include "services.hpp"
#include "signing_service.hpp"

#include "secmlops/host/logging.hpp"
#include "secmlops/host/scan_engine.hpp"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <malloc.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace {

using namespace secmlops;

constexpr const char* kFooter = R"(
SECURITY
  Plaintext is only allowed on unix sockets (unix:/path) and loopback (127.0.0.0/8, ::1,
  localhost). Any other address needs TLS (--tls-cert/--tls-key) AND bearer tokens
  (--token-file); with --tls-client-ca, clients must also present a certificate signed by that
  CA (mTLS). When TLS is configured, every TCP listener uses it (unix sockets stay plaintext,
  protected by file permissions: the process umask is 077). When a token file is given, EVERY
  call on every listener must send the metadata 'authorization: Bearer <token>' (the standard
  health and reflection services excepted); tokens are compared in constant time. The token
  file holds one token (>= 16 characters) per line and must not be group/world-readable.
  --allow-insecure-remote lifts these checks (only behind a trusted TLS-terminating proxy).
  Scan(paths) only opens files under --scan-root directories: anything outside, or reached
  through a symlink that leads outside, is PERMISSION_DENIED. Without a scan root, only
  ScanUpload works.

SERVICES (proto/secmlops/v1/*.proto; docs/api.md has examples)
  secmlops.v1.PluginService  ListPlugins
  secmlops.v1.ScanService    Scan (server paths, streams one FileReport per file), Report, ScanUpload
  secmlops.v1.ModelService   Train, Predict, Describe, ImportOnnx, ImportModel, ExportOnnx, Delete, List
  secmlops.v1.AttackService  Run (streams progress, then metrics and adversarial examples)
  secmlops.v1.PipelineService Run (streams progress and step results, then the report), Validate
  secmlops.v1.SigningService Sign, Verify (model and signature paths under the scan roots)
  grpc.health.v1.Health, grpc.reflection.v1alpha.ServerReflection

CONFIG FILE (--config FILE, YAML; flags given on the command line win)
  listen: ["unix:/run/secmlops/api.sock", "0.0.0.0:8443"]
  tls_cert: server.crt            # paths relative to the config file
  tls_key: server.key
  tls_client_ca: clients-ca.crt   # optional: mTLS
  token_file: tokens.txt
  plugin_dirs: [/usr/lib/secmlops/plugins]
  scan_roots: [/srv/models]
  threads: 2
  queue: 64
  max_message_bytes: 16777216
  max_upload_bytes: 268435456
  upload_spill_bytes: 8388608
  spill_dir: /var/tmp
  seconds_per_file: 300
  max_models: 64
  max_model_memory_bytes: 1073741824
  max_matrix_values: 50000000
  attack_batch_rows: 256
  drain_seconds: 10
  memory_trim_seconds: 1
  reflection: true
  ready_file: /run/secmlops/ready
  log_level: info
  allow_insecure_remote: false

SIGNALS
  SIGTERM/SIGINT: stop accepting calls, give running calls --drain-seconds to finish, then
  cancel them (scans and attacks stop at their next cancellation check) and exit 0.

EXAMPLES
  secmlopsd --listen unix:/tmp/secmlopsd.sock --scan-root /srv/models
  secmlopsd --listen 0.0.0.0:8443 --tls-cert server.crt --tls-key server.key \
            --token-file tokens.txt --scan-root /srv/models
  secmlopsd --config /etc/secmlops/secmlopsd.yaml
)";

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + what + " " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A key that does not belong to the certificate makes every TLS handshake fail later with an
// obscure error; say so at start.
void check_key_matches_certificate(const std::string& cert_pem, const std::string& key_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cb(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> kb(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) throw std::runtime_error("--tls-cert is not a PEM certificate");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) throw std::runtime_error("--tls-key is not a PEM private key (or it is encrypted)");
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    throw std::runtime_error("--tls-key does not match the certificate in --tls-cert");
}

// The address a client uses for a listener, with the port the kernel chose for ":0".
std::string bound_address(const std::string& address, int port) {
  if (address.rfind("unix", 0) == 0 || port <= 0) return address;
  auto colon = address.rfind(':');
  return address.substr(0, colon + 1) + std::to_string(port);
}

// A setting --help shows with the value it starts from: the built-in default, or the config
// file's when --config gave one (the file is read before the options are declared).
template <class T>
void add_setting(CLI::App& app, const std::string& name, T& field, const std::string& help) {
  app.add_option(name, field, help)->default_val(field);
}

// Scans argv for --config before the real parse, so flags can override the file.
std::string config_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--config" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--config=", 0) == 0) return std::string(a.substr(9));
  }
  return {};
}

}  // namespace

static int program_main(int argc, char** argv) {
  server::ServerConfig cfg;
  std::string config_file = config_path(argc, argv);
  try {
    if (!config_file.empty()) server::load_config_file(config_file, cfg);
  } catch (const std::exception& e) {
    std::cerr << "secmlopsd: " << e.what() << "\n";
    return 2;
  }

  CLI::App app{
      "secmlopsd: the secmlops gRPC API server (scan model files, train/attack models, list "
      "plugins)"};
  app.set_version_flag("-V,--version", "secmlopsd " SECMLOPS_VERSION);
  app.footer(kFooter);
  app.get_formatter()->column_width(34);
  app.add_option("--config", config_file,
                 "YAML config file (keys below); command-line flags override it");
  app.add_option(
      "-l,--listen", cfg.listen,
      "address to listen on, repeatable: unix:/path, 127.0.0.1:50051, [::1]:0 (port 0 = any free "
      "port), 0.0.0.0:8443 (needs TLS + tokens) [default: 127.0.0.1:50051]");
  app.add_flag(
      "--allow-insecure-remote", cfg.allow_insecure_remote,
      "allow plaintext and/or token-less non-loopback listeners (only behind a trusted TLS proxy)");
  app.add_option("--tls-cert", cfg.tls_cert,
                 "PEM server certificate (chain); enables TLS on TCP listeners");
  app.add_option("--tls-key", cfg.tls_key, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", cfg.tls_client_ca,
                 "PEM CA bundle: require and verify client certificates (mTLS)");
  app.add_option(
      "--token-file", cfg.token_file,
      "bearer tokens, one per line (>= 16 chars, file mode 600); every call must send one");
  app.add_option(
      "--plugin-dir", cfg.plugin_dirs,
      "extra directory of plugin libraries, repeatable; added to the built-in ones (next "
      "to the binary, $SECMLOPS_PLUGIN_PATH)");
  app.add_flag("--no-builtin-plugins{false}", cfg.builtin_plugins,
               "load plugins only from --plugin-dir, not from the built-in folders");
  app.add_option("--abstract-socket-uid", cfg.abstract_socket_uids,
                 "uid allowed to connect to unix-abstract: listeners (repeatable; without one, "
                 "abstract sockets are refused)");
  app.add_option("--scan-root", cfg.scan_roots,
                 "directory Scan(paths) may read below, repeatable [default: none]");
  app.add_option("--threads", cfg.threads,
                 "worker threads for scans/training/attacks [default: CPU count]");
  app.add_option("--queue", cfg.queue,
                 "jobs waiting beyond the workers before RESOURCE_EXHAUSTED [default: 16/thread]");
  add_setting(app, "--max-message-bytes", cfg.max_message_bytes, "largest gRPC message either way");
  add_setting(app, "--max-upload-bytes", cfg.max_upload_bytes, "largest ScanUpload in total");
  add_setting(app, "--upload-spill-bytes", cfg.upload_spill_bytes,
              "uploads above this go to a temp file");
  app.add_option("--spill-dir", cfg.spill_dir,
                 "directory for spilled uploads [default: system temp]");
  add_setting(app, "--seconds-per-file", cfg.seconds_per_file,
              "scan time budget per file (0 = none)");
  add_setting(app, "--max-concurrent-uploads", cfg.max_concurrent_uploads,
              "ScanUpload streams open at once; more are RESOURCE_EXHAUSTED");
  add_setting(app, "--upload-memory-bytes", cfg.upload_memory_bytes,
              "bytes all uploads together hold in memory (beyond: spilled to disk)");
  add_setting(app, "--upload-disk-bytes", cfg.upload_disk_bytes,
              "bytes all uploads together may spill to disk; beyond: RESOURCE_EXHAUSTED");
  add_setting(app, "--upload-idle-seconds", cfg.upload_idle_seconds,
              "an upload that sends nothing for this long is DEADLINE_EXCEEDED (0 = never)");
  add_setting(app, "--worker-memory-bytes", cfg.worker_memory_bytes,
              "data segment limit of each sandboxed scan worker");
  app.add_flag("--in-process-scans", cfg.in_process_scans,
               "run scanner plugins inside the server instead of sandboxed workers (debugging "
               "plugins only: a crashing plugin then takes the server down)");
  add_setting(app, "--max-models", cfg.max_models, "models the server keeps at once");
  add_setting(app, "--max-model-memory-bytes", cfg.max_model_memory_bytes,
              "estimated memory of all kept models");
  add_setting(app, "--max-matrix-values", cfg.max_matrix_values,
              "rows*cols accepted in one request");
  app.add_option("--mlflow-tracking-uri", cfg.mlflow_tracking_uri,
                 "where requests that ask for MLflow recording are recorded [default: "
                 "$MLFLOW_TRACKING_URI, else ./mlruns]");
  add_setting(app, "--attack-batch-rows", cfg.attack_batch_rows,
              "accepted for older configurations and ignored: an attack runs over all rows at once "
              "and reports progress per eps, as on the command line");
  add_setting(app, "--drain-seconds", cfg.drain_seconds,
              "on SIGTERM/SIGINT, time running calls get to finish");
  add_setting(app, "--memory-trim-seconds", cfg.memory_trim_seconds,
              "how often malloc's free memory is given back to the system (0 = never)");
  add_setting(app, "--reflection", cfg.reflection, "serve grpc.reflection (true/false)");
  app.add_option("--ready-file", cfg.ready_file,
                 "once listening, write the bound addresses here (one per line)");
  add_setting(app, "--log-level", cfg.log_level, "trace, debug, info, warn, error or off");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    host::init_logging(cfg.log_level);
  } catch (const std::exception& e) {
    std::cerr << "secmlopsd: --log-level: " << e.what() << "\n";
    return 2;
  }
  if (cfg.listen.empty()) cfg.listen.push_back("127.0.0.1:50051");
  if (auto why = server::validate(cfg); !why.empty()) {
    spdlog::error("{}", why);
    std::cerr << "secmlopsd: " << why << "\n";
    return 2;
  }

  // glibc gives contended threads extra malloc arenas, each a step in the RSS at an
  // unpredictable moment; one arena per worker (at least 2) bounds how many can appear. An
  // explicit MALLOC_ARENA_MAX in the environment wins. See docs/benchmarks.md.
  const unsigned workers =
      cfg.threads != 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr)
    mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, workers)));

  // Signals are blocked before any thread starts, so every thread inherits the mask and only
  // the sigwait thread below ever sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::umask(077);

  try {
    server::TokenAuth tokens;
    if (!cfg.token_file.empty()) tokens = server::TokenAuth::from_file(cfg.token_file);
    unsigned threads =
        cfg.threads != 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
    size_t queue = cfg.queue != 0 ? cfg.queue : 16u * threads;
    server::ServerState state(cfg, std::move(tokens), threads, queue);
    auto plugin_dirs =
        cfg.builtin_plugins ? host::default_plugin_dirs() : std::vector<std::filesystem::path>{};
    plugin_dirs.insert(plugin_dirs.end(), cfg.plugin_dirs.begin(), cfg.plugin_dirs.end());
    state.registry.load_directories(plugin_dirs);
    // Refused libraries were logged by the registry; ListPlugins reports them too.
    spdlog::info("{} plugins loaded, {} libraries refused", state.registry.plugins().size(),
                 state.registry.errors().size());
    for (const auto& root : cfg.scan_roots)
      if (!std::filesystem::is_directory(root))
        spdlog::warn("scan root {} is not a directory", root.string());
    if (!cfg.in_process_scans) {
      // Warm scan workers, one per thread, so the first scans do not pay for starting them.
      host::ScanOptions warm;
      warm.limits.worker_memory_bytes = cfg.worker_memory_bytes;
      host::ScanEngine(state.registry, warm).prewarm(threads);
    } else {
      spdlog::warn(
          "scanner plugins run inside the server (--in-process-scans): a crashing plugin ends it");
    }

    std::shared_ptr<grpc::ServerCredentials> tls;
    if (!cfg.tls_cert.empty()) {
      grpc::SslServerCredentialsOptions opts(
          cfg.tls_client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                    : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      auto key = read_file(cfg.tls_key, "TLS key"),
           cert = read_file(cfg.tls_cert, "TLS certificate");
      check_key_matches_certificate(cert, key);
      opts.pem_key_cert_pairs.push_back({key, cert});
      if (!cfg.tls_client_ca.empty())
        opts.pem_root_certs = read_file(cfg.tls_client_ca, "client CA");
      tls = grpc::SslServerCredentials(opts);
    }

    grpc::EnableDefaultHealthCheckService(true);
    if (cfg.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.SetMaxReceiveMessageSize(static_cast<int>(cfg.max_message_bytes));
    builder.SetMaxSendMessageSize(static_cast<int>(cfg.max_message_bytes));
    std::vector<int> ports(cfg.listen.size(), 0);
    std::vector<std::unique_ptr<server::AbstractListener>> abstract;
    std::vector<uid_t> abstract_uids(cfg.abstract_socket_uids.begin(),
                                     cfg.abstract_socket_uids.end());
    for (size_t i = 0; i < cfg.listen.size(); ++i) {
      const auto& a = cfg.listen[i];
      if (a.rfind("unix-abstract:", 0) == 0) {
        abstract.push_back(std::make_unique<server::AbstractListener>(a, abstract_uids));
        continue;
      }
      bool unix_socket = a.rfind("unix", 0) == 0;
      auto creds = tls && !unix_socket ? tls : grpc::InsecureServerCredentials();
      builder.AddListeningPort(a, creds, &ports[i]);
    }
    server::PluginServiceImpl plugins(state);
    server::ScanServiceImpl scans(state);
    server::ModelServiceImpl models(state);
    server::AttackServiceImpl attacks(state);
    server::PipelineServiceImpl pipelines(state);
    server::SigningServiceImpl signing(state);
    builder.RegisterService(&plugins);
    builder.RegisterService(&scans);
    builder.RegisterService(&models);
    builder.RegisterService(&attacks);
    builder.RegisterService(&pipelines);
    builder.RegisterService(&signing);
    auto server = builder.BuildAndStart();
    if (!server)
      throw std::runtime_error(
          "could not start: check that the listen addresses are free and valid");
    for (auto& l : abstract) l->start(server.get());
    std::string ready;
    for (size_t i = 0; i < cfg.listen.size(); ++i) {
      if (ports[i] == 0 && cfg.listen[i].rfind("unix", 0) != 0)
        throw std::runtime_error("could not listen on " + cfg.listen[i]);
      auto bound = bound_address(cfg.listen[i], ports[i]);
      bool secure = tls && cfg.listen[i].rfind("unix", 0) != 0;
      spdlog::info("listening on {} ({}{})", bound, secure ? "TLS" : "plaintext",
                   state.auth.enabled() ? ", bearer tokens required" : "");
      ready += bound + "\n";
    }
    if (!cfg.ready_file.empty()) {
      auto tmp = cfg.ready_file + ".tmp";
      std::ofstream(tmp) << ready;
      std::filesystem::rename(tmp, cfg.ready_file);
    }

    // Returns what a backlog of finished calls left free in malloc's arenas (memory_trim.hpp);
    // 1 MiB of free chunks is the least worth a trim.
    server::MemoryTrimmer trimmer(
        std::chrono::milliseconds(static_cast<int64_t>(cfg.memory_trim_seconds * 1000)), 1u << 20);
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&signals, &sig);
      spdlog::info("{} received: draining for up to {} s", strsignal(sig), cfg.drain_seconds);
      for (auto& l : abstract) l->stop();
      server->GetHealthCheckService()->Shutdown();
      server->Shutdown(std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::duration<double>(cfg.drain_seconds)));
    });
    server->Wait();
    waiter.join();
    state.pool.stop();
    spdlog::info("stopped");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    std::cerr << "secmlopsd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  return secmlops::host::guarded_main("secmlopsd", [&] { return program_main(argc, argv); });
}
