#pragma once
// Starts tests/plugins/mlflow/fake_mlflow_server.py on a free loopback port for one test.
#include "http.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace secmlops::test {

class FakeMlflowServer {
 public:
  // With tls, the server speaks HTTPS with a fresh self-signed certificate for 127.0.0.1
  // (ca_file() is its PEM).
  explicit FakeMlflowServer(bool tls = false) : tls_(tls) {
    char tmpl[] = "/tmp/fake-mlflow-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (tls) {
      std::string cmd =
          "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
          "-addext subjectAltName=IP:127.0.0.1 -keyout " +
          (dir_ / "key.pem").string() + " -out " + ca_file() + " >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed");
    }
    std::string port_file = (dir_ / "port").string();
    std::string script =
        std::string(SECMLOPS_SOURCE_DIR) + "/tests/plugins/mlflow/fake_mlflow_server.py";
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string cert = ca_file(), key = (dir_ / "key.pem").string();
      if (tls_)
        ::execl("/usr/bin/python3", "python3", script.c_str(), "--port-file", port_file.c_str(),
                "--tls-cert", cert.c_str(), "--tls-key", key.c_str(), nullptr);
      else
        ::execl("/usr/bin/python3", "python3", script.c_str(), "--port-file", port_file.c_str(),
                nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::ifstream in(port_file);
    in >> port_;
    if (port_ == 0) throw std::runtime_error("the fake MLflow server did not start");
  }
  ~FakeMlflowServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  [[nodiscard]] std::string uri() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  [[nodiscard]] std::string ca_file() const { return (dir_ / "cert.pem").string(); }

  [[nodiscard]] plugins::mlflow::HttpSettings control_settings() const {
    plugins::mlflow::HttpSettings h;
    if (tls_) h.ca_bundle = ca_file();
    return h;
  }
  nlohmann::json post(const std::string& path, const nlohmann::json& body) {
    plugins::mlflow::HttpClient c(control_settings());
    auto r = c.request("POST", uri() + path, body.dump(), "application/json");
    return nlohmann::json::parse(r.body);
  }
  // mode: 503, 429, 502, reset, timeout, html500, notfound, lost (stored, then the answer is lost).
  void inject(const std::string& api_path, const std::string& mode, int count,
              double retry_after = 1) {
    post("/_test/inject",
         {{"path", api_path}, {"mode", mode}, {"count", count}, {"retry_after", retry_after}});
  }
  void clear_injections() { post("/_test/clear-injections", nlohmann::json::object()); }
  nlohmann::json state() {
    plugins::mlflow::HttpClient c(control_settings());
    return nlohmann::json::parse(
        c.request("GET", uri() + "/_test/state", "", "application/json").body);
  }
  int count_requests(const std::string& path_suffix) {
    int n = 0;
    const nlohmann::json all = state();  // keep the document alive while iterating
    for (const auto& r : all["requests"])
      if (r["path"].get<std::string>().ends_with(path_suffix)) ++n;
    return n;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace secmlops::test
