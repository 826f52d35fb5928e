#include "spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

namespace secmlops::plugins::mlflow {
namespace fs = std::filesystem;
namespace {

void fsync_dir(const fs::path& dir) {
  int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (d >= 0) {
    ::fsync(d);
    ::close(d);
  }
}

void write_all(int fd, const std::string& data, const fs::path& file, bool durable = true) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::runtime_error("mlflow: writing '" + file.string() +
                               "' failed: " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  if (durable && ::fsync(fd) != 0)
    throw std::runtime_error("mlflow: fsync of '" + file.string() +
                             "' failed: " + std::strerror(errno));
}

}  // namespace

std::string random_hex32() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng();
    for (int j = 0; j < 16; ++j) s += hex[(v >> (4 * j)) & 15];
  }
  return s;
}

int try_lock(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

SpoolWriter::SpoolWriter(const fs::path& dir, const std::string& key, const nlohmann::json& header)
    : dir_(dir), path_(dir / (key + ".jsonl")), key_(key) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("mlflow: cannot create spool directory '" + dir.string() +
                             "': " + ec.message());
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error("mlflow: cannot create spool file '" + path_.string() +
                             "': " + std::strerror(errno));
  ::flock(fd_, LOCK_EX);
  write_line(header.dump(), true);
  fsync_dir(dir);
}

SpoolWriter::~SpoolWriter() {
  if (fd_ >= 0) {
    if (dirty_) ::fsync(fd_);
    ::close(fd_);
  }
}

void SpoolWriter::write_line(const std::string& line, bool durable) {
  auto now = std::chrono::steady_clock::now();
  durable = durable || now - last_sync_ >= std::chrono::milliseconds(200);
  write_all(fd_, line + "\n", path_, durable);
  dirty_ = !durable;
  if (durable) last_sync_ = now;
}

void SpoolWriter::sync() {
  if (dirty_ && ::fsync(fd_) != 0)
    throw std::runtime_error("mlflow: fsync of '" + path_.string() +
                             "' failed: " + std::strerror(errno));
  dirty_ = false;
}

Event SpoolWriter::append(Event e) {
  if (e.type == EventType::Artifact) {
    fs::path src(e.path);
    fs::path dst = dir_ / (key_ + ".files") / std::to_string(artifacts_++) / src.filename();
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw std::runtime_error("mlflow: cannot copy artifact '" + src.string() +
                               "' into the spool: " + ec.message());
    int f = ::open(dst.c_str(), O_RDONLY | O_CLOEXEC);
    if (f >= 0) {
      ::fsync(f);
      ::close(f);
    }
    e.path = dst.string();
  }
  bool milestone =
      e.type == EventType::RunStart || e.type == EventType::RunEnd || e.type == EventType::Artifact;
  write_line(to_json(e).dump(), milestone);
  return e;
}

SpooledRun read_spool(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("mlflow: cannot read spool file '" + file.string() + "'");
  SpooledRun run;
  run.file = file;
  run.key = file.stem().string();
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    bool complete = !in.eof();  // the last line without '\n' was torn by a crash
    if (!complete) break;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded())
      throw std::runtime_error("mlflow: spool file '" + file.string() + "' line " +
                               std::to_string(n + 1) + " is not JSON");
    if (n++ == 0)
      run.header = j;
    else
      run.events.push_back(event_from_json(j));
  }
  if (n == 0) throw std::runtime_error("mlflow: spool file '" + file.string() + "' is empty");
  return run;
}

std::vector<fs::path> list_spool(const fs::path& dir) {
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".jsonl")
      files.emplace_back(e.last_write_time(), e.path());
  std::sort(files.begin(), files.end());
  std::vector<fs::path> out;
  out.reserve(files.size());
  for (auto& f : files) out.push_back(f.second);
  return out;
}

void remove_spooled(const fs::path& file) {
  std::error_code ec;
  fs::path dir = file.parent_path();
  std::string key = file.stem().string();
  fs::remove_all(dir / (key + ".files"), ec);
  fs::remove(dir / (key + ".progress"), ec);
  fs::remove(file, ec);
  fsync_dir(dir);
}

Progress::Progress(fs::path file) : file_(std::move(file)) {
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // torn last line
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("run_id"))
      run_ = RunRef{j["run_id"].get<std::string>(), j.value("experiment_id", ""),
                    j.value("artifact_uri", "")};
    if (j.contains("attempt")) attempted_.insert(j["attempt"].get<std::string>());
    if (j.contains("done")) done_.insert(j["done"].get<std::string>());
    if (j.contains("attempt_upto"))
      attempted_upto_ = std::max(attempted_upto_, j["attempt_upto"].get<size_t>());
    if (j.contains("done_upto")) done_upto_ = std::max(done_upto_, j["done_upto"].get<size_t>());
  }
  // Markers of earlier releases counted whole-run batches, not events: nothing is known to be
  // confirmed, and any metric point may be stored already.
  for (const auto& step : attempted_)
    if (step.rfind("batch:", 0) == 0) attempted_upto_ = SIZE_MAX;
}

void Progress::append(const nlohmann::json& j) {
  int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("mlflow: cannot write '" + file_.string() +
                             "': " + std::strerror(errno));
  try {
    write_all(fd, j.dump() + "\n", file_);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void Progress::set_run(const RunRef& run) {
  append({{"run_id", run.run_id},
          {"experiment_id", run.experiment_id},
          {"artifact_uri", run.artifact_uri}});
  run_ = run;
}

void Progress::mark_attempt(const std::string& step) {
  append({{"attempt", step}});
  attempted_.insert(step);
}

void Progress::mark_attempt_upto(size_t n) {
  if (n <= attempted_upto_) return;
  append({{"attempt_upto", n}});
  attempted_upto_ = n;
}

void Progress::mark_done_upto(size_t n) {
  append({{"done_upto", n}});
  done_upto_ = std::max(done_upto_, n);
}

void Progress::mark_done(const std::string& step) {
  append({{"done", step}});
  done_.insert(step);
}

}  // namespace secmlops::plugins::mlflow
