#include "file_store.hpp"

#include "spool.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>

namespace secmlops::plugins::mlflow {
namespace fs = std::filesystem;
namespace {

// YAML scalars as MLflow's safe_dump writes them: strings single-quoted ('' escapes a quote).
// A scalar that reads back as exactly `s`. Single-quoted when it can be; a line break in a
// quoted scalar would be folded into a space, so text with control characters or Unicode line
// breaks (NEL, LS, PS) — a run name taken from a file name, say — is double-quoted with escapes.
std::string yq(const std::string& s) {
  const bool plain_text =
      std::none_of(s.begin(), s.end(),
                   [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }) &&
      s.find("\xC2\x85") == std::string::npos && s.find("\xE2\x80\xA8") == std::string::npos &&
      s.find("\xE2\x80\xA9") == std::string::npos;
  if (plain_text) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (s.compare(i, 2, "\xC2\x85") == 0) {
      out += "\\N";
      i += 1;
    } else if (s.compare(i, 3, "\xE2\x80\xA8") == 0 || s.compare(i, 3, "\xE2\x80\xA9") == 0) {
      out += s[i + 2] == '\xA8' ? "\\L" : "\\P";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("mlflow: cannot write '" + p.string() + "'");
}

// Keys, ordered like yaml.safe_dump (sorted) for easy diffing with files MLflow wrote.
std::string yaml(const std::map<std::string, std::string>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) out += k + ": " + v + "\n";
  return out;
}

std::string md5_hex(const std::string& a, const std::string& b) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += hex[md[i] >> 4];
    s += hex[md[i] & 15];
  }
  return s;
}

std::string file_uri(const fs::path& p) { return "file://" + p.string(); }

// The value of a top-level "key: 'value'" line of a meta.yaml we (or MLflow) wrote.
std::string yaml_value(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::string v = line.substr(key.size() + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"')) {
      char q = v.front();
      v = v.substr(1, v.size() - 2);
      if (q == '\'') {
        std::string u;
        for (size_t i = 0; i < v.size(); ++i) {
          u += v[i];
          if (v[i] == '\'' && i + 1 < v.size() && v[i + 1] == '\'') ++i;
        }
        v = u;
      }
    }
    return v;
  }
  return "";
}

std::string metric_text(double v) {
  // Python's float() reads these back exactly; shortest round-trip digits like repr().
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

}  // namespace

int run_status_code(const std::string& s) {
  if (s == "RUNNING") return 1;
  if (s == "SCHEDULED") return 2;
  if (s == "FINISHED") return 3;
  if (s == "FAILED") return 4;
  if (s == "KILLED") return 5;
  throw std::invalid_argument("mlflow: invalid run status '" + s + "'");
}

FileStore::FileStore(fs::path root) : root_(std::move(root)) {
  if (!fs::exists(root_ / "0" / "meta.yaml")) {
    // MLflow creates the Default experiment with a new store; do the same.
    int64_t now = now_millis();
    write_file(root_ / "0" / "meta.yaml", yaml({{"artifact_location", yq(file_uri(root_ / "0"))},
                                                {"creation_time", std::to_string(now)},
                                                {"experiment_id", yq("0")},
                                                {"last_update_time", std::to_string(now)},
                                                {"lifecycle_stage", "active"},
                                                {"name", "Default"}}));
  }
  fs::create_directories(root_ / ".trash");
}

std::string FileStore::ensure_experiment(const std::string& name) {
  for (const auto& e : fs::directory_iterator(root_)) {
    if (!e.is_directory() || e.path().filename() == ".trash") continue;
    fs::path meta = e.path() / "meta.yaml";
    if (fs::exists(meta) && yaml_value(meta, "name") == name &&
        yaml_value(meta, "lifecycle_stage") == "active")
      return e.path().filename().string();
  }
  // MLflow's file store picks a random integer id for new experiments.
  std::mt19937_64 rng{std::random_device{}()};
  std::string id = std::to_string(100000000000000000ULL + rng() % 800000000000000000ULL);
  int64_t now = now_millis();
  write_file(root_ / id / "meta.yaml", yaml({{"artifact_location", yq(file_uri(root_ / id))},
                                             {"creation_time", std::to_string(now)},
                                             {"experiment_id", yq(id)},
                                             {"last_update_time", std::to_string(now)},
                                             {"lifecycle_stage", "active"},
                                             {"name", yq(name)}}));
  return id;
}

void FileStore::write_run_meta(const Run& run, const std::string& run_name, int64_t start_ms,
                               std::optional<int64_t> end_ms, int status, const std::string& user) {
  write_file(run.dir / "meta.yaml", yaml({{"artifact_uri", yq(run.artifact_uri)},
                                          {"end_time", end_ms ? std::to_string(*end_ms) : "null"},
                                          {"entry_point_name", "''"},
                                          {"experiment_id", yq(run.experiment_id)},
                                          {"lifecycle_stage", "active"},
                                          {"run_id", run.run_id},
                                          {"run_name", yq(run_name)},
                                          {"run_uuid", run.run_id},
                                          {"source_name", "''"},
                                          {"source_type", "4"},
                                          {"source_version", "''"},
                                          {"start_time", std::to_string(start_ms)},
                                          {"status", std::to_string(status)},
                                          {"tags", "[]"},
                                          {"user_id", yq(user)}}));
}

FileStore::Run FileStore::start_run(const std::string& experiment, const std::string& run_name,
                                    int64_t start_ms, const std::string& user) {
  Run run;
  run.experiment_id = ensure_experiment(experiment.empty() ? "Default" : experiment);
  run.run_id = random_hex32();
  run.dir = root_ / run.experiment_id / run.run_id;
  run.artifact_uri = file_uri(run.dir / "artifacts");
  fs::create_directories(run.dir / "artifacts");
  for (const char* sub : {"metrics", "params", "tags"}) fs::create_directories(run.dir / sub);
  write_run_meta(run, run_name, start_ms, std::nullopt, 1, user);
  write_file(run.dir / "tags" / "mlflow.runName", run_name);
  if (!user.empty()) write_file(run.dir / "tags" / "mlflow.user", user);
  write_file(run.dir / "tags" / "mlflow.source.name", "secmlops");
  write_file(run.dir / "tags" / "mlflow.source.type", "LOCAL");
  return run;
}

void FileStore::append(const Run& run, const RunPlan& plan, const std::string& user) {
  for (const auto& [k, v] : plan.params) write_file(run.dir / "params" / k, v);
  for (const auto& [k, v] : plan.tags) write_file(run.dir / "tags" / k, v);
  std::map<std::string, std::string> metric_lines;
  for (const auto& m : plan.metrics)
    metric_lines[m.key] += std::to_string(m.timestamp_ms) + " " + metric_text(m.value) + " " +
                           std::to_string(m.step) + "\n";
  for (const auto& [k, lines] : metric_lines) {
    fs::path p = run.dir / "metrics" / k;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::app) << lines;
  }
  fs::path exp_dir = root_ / run.experiment_id;
  for (const auto& d : plan.datasets) {
    std::string dataset_id = md5_hex(d.name, d.digest);
    fs::path ddir = exp_dir / "datasets" / dataset_id;
    if (!fs::exists(ddir / "meta.yaml"))
      write_file(ddir / "meta.yaml", yaml({{"digest", yq(d.digest)},
                                           {"name", yq(d.name)},
                                           {"profile", d.profile.empty() ? "null" : yq(d.profile)},
                                           {"schema", d.schema.empty() ? "null" : yq(d.schema)},
                                           {"source", yq(d.source)},
                                           {"source_type", yq(d.source_type)}}));
    std::string input_id = md5_hex(dataset_id, run.run_id);
    std::string tags = d.tags.empty() ? "{}" : "";
    for (const auto& [k, v] : d.tags) tags += "\n  " + yq(k) + ": " + yq(v);
    write_file(run.dir / "inputs" / input_id / "meta.yaml",
               yaml({{"destination_id", yq(run.run_id)},
                     {"destination_type", "RUN"},
                     {"source_id", yq(dataset_id)},
                     {"source_type", "DATASET"},
                     {"tags", tags}}));
  }
  for (const auto& a : plan.artifacts) {
    fs::path dst = run.dir / "artifacts" / a.artifact_path();
    fs::create_directories(dst.parent_path());
    std::error_code ec;
    fs::copy_file(a.local_path, dst, fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw std::runtime_error("mlflow: cannot copy artifact '" + a.local_path +
                               "': " + ec.message());
  }
  if (plan.ended)
    write_run_meta(run, plan.run_name, plan.start_time_ms, plan.end_time_ms,
                   run_status_code(plan.status), user);
}

}  // namespace secmlops::plugins::mlflow
