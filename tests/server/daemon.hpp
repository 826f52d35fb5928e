#pragma once

// Runs secmlopsd as a child process for tests and benchmarks: waits for its ready file, stops
// it with SIGTERM (then SIGKILL) on destruction.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace secmlops::test {

class Daemon {
 public:
  // `binary` plus `args`; `ready_file` is added as --ready-file.
  Daemon(const std::string& binary, std::vector<std::string> args,
         const std::filesystem::path& ready_file) {
    std::filesystem::remove(ready_file);
    args.insert(args.begin(), binary);
    args.push_back("--ready-file");
    args.push_back(ready_file.string());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start " + binary);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!std::filesystem::exists(ready_file)) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return;  // exited: running() is false, exit_code() tells why
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("secmlopsd did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::ifstream in(ready_file);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) addresses_.push_back(line);
  }
  ~Daemon() { stop(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::vector<std::string>& addresses() const { return addresses_; }
  [[nodiscard]] std::string address(bool unix_socket) const {
    for (const auto& a : addresses_)
      if ((a.rfind("unix:", 0) == 0) == unix_socket) return a;
    throw std::runtime_error("no such listener");
  }
  // Sends SIGTERM and returns the exit code (or -signal).
  int stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 2000 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
      exit_status_ = status;
      pid_ = -1;
    }
    return exit_code();
  }
  [[nodiscard]] int exit_code() const {
    if (WIFEXITED(exit_status_)) return WEXITSTATUS(exit_status_);
    if (WIFSIGNALED(exit_status_)) return -WTERMSIG(exit_status_);
    return -1000;
  }
  // Threads of the server process (from /proc/<pid>/task).
  [[nodiscard]] size_t thread_count() const {
    std::error_code ec;
    size_t n = 0;
    for (auto it =
             std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/task", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++n;
    return n;
  }
  // Resident set size of the server in bytes (from /proc/<pid>/status).
  [[nodiscard]] uint64_t rss_bytes() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) {
        std::istringstream ss(line.substr(6));
        uint64_t kb = 0;
        ss >> kb;
        return kb * 1024;
      }
    return 0;
  }

 private:
  pid_t pid_ = -1;
  int exit_status_ = 0;
  std::vector<std::string> addresses_;
};

}  // namespace secmlops::test
