#include "abstract_listener.hpp"

#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace secmlops::server {

AbstractListener::AbstractListener(const std::string& address, std::vector<uid_t> allowed)
    : address_(address), allowed_(std::move(allowed)) {
  const std::string prefix = "unix-abstract:";
  std::string name = address.substr(prefix.size());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.empty() || name.size() + 1 > sizeof addr.sun_path)
    throw std::runtime_error(address + ": abstract socket name is empty or too long");
  std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] = 0: abstract
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw std::runtime_error(address + ": socket: " + std::strerror(errno));
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 128) != 0) {
    int err = errno;
    ::close(fd_);
    throw std::runtime_error("could not listen on " + address + ": " + std::strerror(err));
  }
}

AbstractListener::~AbstractListener() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void AbstractListener::start(grpc::Server* server) {
  thread_ = std::thread([this, server] { run(server); });
}

void AbstractListener::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void AbstractListener::run(grpc::Server* server) {
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) continue;
    ucred cred{};
    socklen_t len = sizeof cred;
    bool ok = ::getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
              std::find(allowed_.begin(), allowed_.end(), cred.uid) != allowed_.end();
    if (!ok) {
      spdlog::warn("audit: event=refused_peer listener={} uid={} pid={}", address_, cred.uid,
                   cred.pid);
      ::close(c);
      continue;
    }
    grpc::AddInsecureChannelFromFd(server, c);
  }
}

}  // namespace secmlops::server
