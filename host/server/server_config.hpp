#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace secmlops::server {

// Everything secmlopsd can be told, from flags and/or a YAML config file (flags win).
struct ServerConfig {
  std::vector<std::string> listen;  // "unix:/run/secmlopsd.sock", "127.0.0.1:50051", "0.0.0.0:8443"
  bool allow_insecure_remote = false;

  std::string tls_cert;  // PEM server certificate chain
  std::string tls_key;   // PEM private key
  std::string
      tls_client_ca;       // PEM CA bundle: when set, clients must present a certificate it signed
  std::string token_file;  // one bearer token per line ('#' comments); required with TLS listeners

  std::vector<std::filesystem::path> plugin_dirs;  // empty = the host's default directories
  std::vector<std::filesystem::path> scan_roots;   // Scan(paths) only sees below these

  unsigned threads = 0;                       // worker threads for CPU work (0 = hardware threads)
  unsigned queue = 0;                         // queued jobs beyond the workers (0 = 16 per thread)
  uint64_t max_message_bytes = 16u << 20;     // per gRPC message, both directions
  uint64_t max_upload_bytes = 256u << 20;     // total bytes of one ScanUpload
  uint64_t upload_spill_bytes = 8u << 20;     // uploads above this go to a temp file, not memory
  std::filesystem::path spill_dir;            // where (empty = the system temp directory)
  uint64_t max_concurrent_uploads = 64;       // ScanUpload streams open at once
  uint64_t upload_memory_bytes = 256u << 20;  // all uploads' bytes held in memory
  uint64_t upload_disk_bytes = 4ull << 30;    // all uploads' bytes spilled to disk
  double upload_idle_seconds = 30;            // an upload silent this long is ended (0 = never)
  double seconds_per_file = 300;              // scan budget per file
  bool in_process_scans = false;  // scanner plugins in the server process (debugging only)
  uint64_t worker_memory_bytes = 4ull << 30;  // each sandboxed scan worker's data segment
  bool builtin_plugins = true;  // plugin_dirs add to the built-in folders (false: replace)
  std::vector<uint32_t>
      abstract_socket_uids;  // unix-abstract: listeners allowed for these peer uids
  uint64_t max_models = 64;
  uint64_t max_model_memory_bytes = 1ull << 30;
  uint64_t max_matrix_values = 50'000'000;  // rows*cols accepted in one request
  uint32_t attack_batch_rows = 256;         // default rows per attack step (progress granularity)
  double drain_seconds = 10;                // graceful shutdown: time in-flight calls get
  double memory_trim_seconds = 1;           // how often free malloc memory goes back (0 = never)
  bool reflection = true;
  // Where requests that ask for MLflow recording are recorded ("" = $MLFLOW_TRACKING_URI, else
  // ./mlruns in the server's working directory); clients cannot choose another.
  std::string mlflow_tracking_uri;
  std::string ready_file;  // written once listening: one bound address per line (tests, scripts)
  std::string log_level = "info";
};

// Reads a YAML config file into `config` (only the keys present). Throws std::runtime_error
// naming the file and key on a bad value or an unknown key.
void load_config_file(const std::filesystem::path& file, ServerConfig& config);

// Why this configuration must not start (empty = fine): plaintext only on unix sockets and
// loopback unless explicitly allowed; TLS needs cert+key; TLS listeners need tokens.
std::string validate(const ServerConfig& config);

// True for unix: addresses and IPv4/IPv6 loopback / "localhost". Abstract unix sockets have no
// file permissions: they are local only with a peer-uid allow-list (abstract_socket_uids).
bool is_local_address(const std::string& address);

}  // namespace secmlops::server
