#include "sandbox/frame.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace secmlops::host::sandbox {
namespace {

// Waits for the socket to be readable; false on timeout.
bool wait_readable(int sock, std::optional<std::chrono::steady_clock::time_point> deadline) {
  for (;;) {
    int ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      ms = static_cast<int>(std::min<int64_t>(left.count() + 1, 60'000));
    }
    pollfd p{sock, POLLIN, 0};
    int r = ::poll(&p, 1, ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // let the read report the error
  }
}

// Reads exactly n bytes (after the first, which the caller's recvmsg took); false on EOF/error.
bool read_exact(int sock, char* p, size_t n, std::optional<std::chrono::steady_clock::time_point> deadline) {
  while (n > 0) {
    if (!wait_readable(sock, deadline)) return false;
    ssize_t r = ::recv(sock, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

bool send_frame(int sock, char type, const std::string& payload, int fd) {
  char header[5];
  uint32_t len = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) header[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  header[4] = type;
  iovec iov[2] = {{header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  size_t total = sizeof header + payload.size(), sent = 0;
  while (sent < total) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
    // The descriptor went with the first bytes; the rest is plain data.
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
    size_t skip = static_cast<size_t>(n);
    while (msg.msg_iovlen > 0 && skip >= msg.msg_iov[0].iov_len) {
      skip -= msg.msg_iov[0].iov_len;
      ++msg.msg_iov;
      --msg.msg_iovlen;
    }
    if (msg.msg_iovlen > 0) {
      msg.msg_iov[0].iov_base = static_cast<char*>(msg.msg_iov[0].iov_base) + skip;
      msg.msg_iov[0].iov_len -= skip;
    }
  }
  return true;
}

RecvResult recv_frame(int sock, Frame& out, std::optional<std::chrono::steady_clock::time_point> deadline) {
  out = Frame{};
  if (!wait_readable(sock, deadline)) return RecvResult::timeout;
  char header[5];
  iovec iov{header, 1};  // one byte: its descriptor, if any, comes with it
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return RecvResult::closed;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int)))
      std::memcpy(&out.fd, CMSG_DATA(c), sizeof(int));
  // The rest of a frame that has started is on its way: it gets its own, generous deadline (a
  // large report written while the machine is busy must not be cut by a short polling tick).
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto fail = [&] {
    if (out.fd >= 0) ::close(out.fd);
    out.fd = -1;
    return RecvResult::closed;
  };
  if (!read_exact(sock, header + 1, 4, deadline)) return fail();
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<unsigned char>(header[i])) << (8 * i);
  if (len > kMaxFrameBytes) return fail();
  out.type = header[4];
  out.payload.resize(len);
  if (!read_exact(sock, out.payload.data(), len, deadline)) return fail();
  return RecvResult::frame;
}

}  // namespace secmlops::host::sandbox
