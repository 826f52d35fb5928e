#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace grpc {
class Server;
}

namespace secmlops::server {

// An abstract unix socket has no file permissions: anyone on the host can connect. This listener
// accepts connections itself, asks the kernel who the peer is (SO_PEERCRED), and hands only
// connections from allowed uids to gRPC; the others are closed and logged.
class AbstractListener {
 public:
  // Binds "unix-abstract:<name>"; throws std::runtime_error.
  AbstractListener(const std::string& address, std::vector<uid_t> allowed);
  ~AbstractListener();
  AbstractListener(const AbstractListener&) = delete;
  AbstractListener& operator=(const AbstractListener&) = delete;

  // Starts accepting into `server` (after BuildAndStart).
  void start(grpc::Server* server);
  void stop();

 private:
  void run(grpc::Server* server);
  std::string address_;
  std::vector<uid_t> allowed_;
  int fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace secmlops::server
