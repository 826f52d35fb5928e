#include "server_config.hpp"

#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>

#include <set>
#include <stdexcept>

namespace secmlops::server {

bool is_local_address(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) return true;
  std::string host = address;
  if (host.rfind("ipv4:", 0) == 0) host = host.substr(5);
  if (host.rfind("ipv6:", 0) == 0) host = host.substr(5);
  if (!host.empty() && host.front() == '[') {
    auto end = host.find(']');
    if (end == std::string::npos) return false;
    host = host.substr(1, end - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string validate(const ServerConfig& c) {
  if (c.listen.empty())
    return "no listen address (use --listen, e.g. --listen unix:/tmp/secmlopsd.sock)";
  const bool tls = !c.tls_cert.empty() || !c.tls_key.empty();
  if (tls && (c.tls_cert.empty() || c.tls_key.empty()))
    return "TLS needs both --tls-cert and --tls-key";
  if (!c.tls_client_ca.empty() && !tls)
    return "--tls-client-ca (mTLS) needs --tls-cert and --tls-key";
  for (const auto& a : c.listen) {
    if (a.rfind("unix-abstract:", 0) == 0) {
      // Anyone on the host (any uid, any container sharing the network namespace) can connect.
      if (c.abstract_socket_uids.empty())
        return "refusing abstract unix socket " + a +
               ": it has no file permissions; give --abstract-socket-uid for every uid allowed to "
               "connect, "
               "or listen on unix:/path";
      continue;
    }
    if (is_local_address(a)) continue;
    if (!tls && !c.allow_insecure_remote)
      return "refusing plaintext on non-loopback address " + a +
             ": give --tls-cert/--tls-key (and --token-file), listen on a unix socket or loopback, "
             "or pass --allow-insecure-remote if a trusted proxy terminates TLS";
    if (tls && c.token_file.empty() && !c.allow_insecure_remote)
      return "non-loopback listener " + a + " needs bearer tokens: give --token-file";
  }
  if (c.threads > 1024) return "--threads must be at most 1024";
  if (c.max_message_bytes < 1024 || c.max_message_bytes > (1ull << 31) - 1)
    return "--max-message-bytes must be between 1 KiB and 2 GiB";
  if (c.drain_seconds < 0) return "--drain-seconds must not be negative";
  if (c.memory_trim_seconds < 0) return "--memory-trim-seconds must not be negative";
  if (c.max_concurrent_uploads == 0) return "--max-concurrent-uploads must be at least 1";
  if (c.upload_idle_seconds < 0) return "--upload-idle-seconds must not be negative";
  return {};
}

namespace {

template <class T>
T get(const YAML::Node& node, const std::string& key, const std::filesystem::path& file) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file.string() + ": key '" + key + "': " + e.what());
  }
}

std::vector<std::string> strings(const YAML::Node& node, const std::string& key,
                                 const std::filesystem::path& file) {
  if (node.IsScalar()) return {get<std::string>(node, key, file)};
  return get<std::vector<std::string>>(node, key, file);
}

}  // namespace

void load_config_file(const std::filesystem::path& file, ServerConfig& c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw std::runtime_error(file.string() + ": expected a mapping of settings");
  // Relative paths in the file are relative to the file.
  auto rel = [&](std::string p) {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (file.parent_path() / p).string();
  };
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    const auto& v = kv.second;
    if (key == "listen")
      c.listen = strings(v, key, file);
    else if (key == "allow_insecure_remote")
      c.allow_insecure_remote = get<bool>(v, key, file);
    else if (key == "tls_cert")
      c.tls_cert = rel(get<std::string>(v, key, file));
    else if (key == "tls_key")
      c.tls_key = rel(get<std::string>(v, key, file));
    else if (key == "tls_client_ca")
      c.tls_client_ca = rel(get<std::string>(v, key, file));
    else if (key == "token_file")
      c.token_file = rel(get<std::string>(v, key, file));
    else if (key == "plugin_dirs") {
      c.plugin_dirs.clear();
      for (auto& s : strings(v, key, file)) c.plugin_dirs.emplace_back(rel(s));
    } else if (key == "scan_roots") {
      c.scan_roots.clear();
      for (auto& s : strings(v, key, file)) c.scan_roots.emplace_back(rel(s));
    } else if (key == "threads")
      c.threads = get<unsigned>(v, key, file);
    else if (key == "queue")
      c.queue = get<unsigned>(v, key, file);
    else if (key == "max_message_bytes")
      c.max_message_bytes = get<uint64_t>(v, key, file);
    else if (key == "max_upload_bytes")
      c.max_upload_bytes = get<uint64_t>(v, key, file);
    else if (key == "upload_spill_bytes")
      c.upload_spill_bytes = get<uint64_t>(v, key, file);
    else if (key == "spill_dir")
      c.spill_dir = rel(get<std::string>(v, key, file));
    else if (key == "max_concurrent_uploads")
      c.max_concurrent_uploads = get<uint64_t>(v, key, file);
    else if (key == "upload_memory_bytes")
      c.upload_memory_bytes = get<uint64_t>(v, key, file);
    else if (key == "upload_disk_bytes")
      c.upload_disk_bytes = get<uint64_t>(v, key, file);
    else if (key == "upload_idle_seconds")
      c.upload_idle_seconds = get<double>(v, key, file);
    else if (key == "in_process_scans")
      c.in_process_scans = get<bool>(v, key, file);
    else if (key == "worker_memory_bytes")
      c.worker_memory_bytes = get<uint64_t>(v, key, file);
    else if (key == "builtin_plugins")
      c.builtin_plugins = get<bool>(v, key, file);
    else if (key == "abstract_socket_uids")
      c.abstract_socket_uids = get<std::vector<uint32_t>>(v, key, file);
    else if (key == "seconds_per_file")
      c.seconds_per_file = get<double>(v, key, file);
    else if (key == "max_models")
      c.max_models = get<uint64_t>(v, key, file);
    else if (key == "max_model_memory_bytes")
      c.max_model_memory_bytes = get<uint64_t>(v, key, file);
    else if (key == "mlflow_tracking_uri")
      c.mlflow_tracking_uri = get<std::string>(v, key, file);
    else if (key == "max_matrix_values")
      c.max_matrix_values = get<uint64_t>(v, key, file);
    else if (key == "attack_batch_rows")
      c.attack_batch_rows = get<uint32_t>(v, key, file);
    else if (key == "drain_seconds")
      c.drain_seconds = get<double>(v, key, file);
    else if (key == "memory_trim_seconds")
      c.memory_trim_seconds = get<double>(v, key, file);
    else if (key == "reflection")
      c.reflection = get<bool>(v, key, file);
    else if (key == "ready_file")
      c.ready_file = rel(get<std::string>(v, key, file));
    else if (key == "log_level")
      c.log_level = get<std::string>(v, key, file);
    else
      throw std::runtime_error(file.string() + ": unknown key '" + key +
                               "' (see secmlopsd --help)");
  }
}

}  // namespace secmlops::server
