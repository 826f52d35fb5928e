#include "sandbox/frame.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace secmlops::host::sandbox {
namespace {

// Waits for the socket to be readable; false on timeout.
bool wait_readable(int sock, std::optional<std::chrono::steady_clock::time_point> deadline) {
  for (;;) {
    int ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
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
bool read_exact(int sock, char* p, size_t n,
                std::optional<std::chrono::steady_clock::time_point> deadline) {
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

void Frame::close_fds() {
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  fds.clear();
}

bool send_frame(int sock, char type, const std::string& payload, const std::vector<int>& fds) {
  if (fds.size() > kMaxFrameFds) return false;
  char header[5];
  uint32_t len = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) header[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  header[4] = type;
  iovec iov[2] = {{header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFrameFds)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  size_t total = sizeof header + payload.size(), sent = 0;
  while (sent < total) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
    // The descriptors went with the first bytes; the rest is plain data.
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

RecvResult recv_frame(int sock, Frame& out,
                      std::optional<std::chrono::steady_clock::time_point> deadline) {
  out = Frame{};
  if (!wait_readable(sock, deadline)) return RecvResult::timeout;
  char header[5];
  iovec iov{header, 1};  // one byte: its descriptors, if any, come with it
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFrameFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return RecvResult::closed;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(0)) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      size_t at = out.fds.size();
      out.fds.resize(at + n);
      std::memcpy(out.fds.data() + at, CMSG_DATA(c), n * sizeof(int));
    }
  // A truncated control message lost descriptors: the frame cannot be trusted.
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    out.close_fds();
    return RecvResult::closed;
  }
  // The rest of a frame that has started is on its way: it gets its own, generous deadline (a
  // large report written while the machine is busy must not be cut by a short polling tick).
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto fail = [&] {
    out.close_fds();
    return RecvResult::closed;
  };
  if (!read_exact(sock, header + 1, 4, deadline)) return fail();
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<unsigned char>(header[i])) << (8 * i);
  if (len > kMaxFrameBytes) return fail();
  out.type = header[4];
  out.payload.resize(len);
  if (!read_exact(sock, out.payload.data(), len, deadline)) return fail();
  return RecvResult::frame;
}

bool EventArea::append(char type, const std::string& payload) {
  if (base == nullptr) return false;
  uint64_t used = __atomic_load_n(reinterpret_cast<uint64_t*>(base), __ATOMIC_RELAXED);
  if (kEventAreaHeader + used + 5 + payload.size() > size) return false;
  uint8_t* p = base + kEventAreaHeader + used;
  uint32_t len = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>((len >> (8 * i)) & 0xff);
  p[4] = static_cast<uint8_t>(type);
  std::memcpy(p + 5, payload.data(), payload.size());
  // Published only once complete: a worker killed mid-copy leaves the previous count.
  __atomic_store_n(reinterpret_cast<uint64_t*>(base), used + 5 + payload.size(), __ATOMIC_RELEASE);
  return true;
}

void EventArea::set_current(uint32_t file) {
  if (base != nullptr)
    __atomic_store_n(reinterpret_cast<uint32_t*>(base + 8), file, __ATOMIC_RELEASE);
}

uint32_t EventArea::current() const {
  return base == nullptr
             ? 0
             : __atomic_load_n(reinterpret_cast<const uint32_t*>(base + 8), __ATOMIC_ACQUIRE);
}

void EventArea::reset() {
  if (base == nullptr) return;
  __atomic_store_n(reinterpret_cast<uint64_t*>(base), uint64_t{0}, __ATOMIC_RELEASE);
  __atomic_store_n(reinterpret_cast<uint32_t*>(base + 8), uint32_t{0}, __ATOMIC_RELEASE);
}

std::vector<EventArea::View> EventArea::frames() const {
  std::vector<View> out;
  if (base == nullptr) return out;
  uint64_t used =
      std::min<uint64_t>(__atomic_load_n(reinterpret_cast<uint64_t*>(base), __ATOMIC_ACQUIRE),
                         size - kEventAreaHeader);
  for (uint64_t pos = 0; pos + 5 <= used;) {
    const uint8_t* p = base + kEventAreaHeader + pos;
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(p[i]) << (8 * i);
    if (pos + 5 + len > used) break;
    out.push_back(
        {static_cast<char>(p[4]), std::string_view(reinterpret_cast<const char*>(p + 5), len)});
    pos += 5 + len;
  }
  return out;
}

bool FrameReader::take(Frame& out) {
  if (buf_.size() - pos_ < 5) return false;
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<unsigned char>(buf_[pos_ + i])) << (8 * i);
  if (len > kMaxFrameBytes) {
    broken_ = true;
    return false;
  }
  if (buf_.size() - pos_ < 5 + static_cast<size_t>(len)) return false;
  out = Frame{};
  out.type = buf_[pos_ + 4];
  out.payload.assign(buf_, pos_ + 5, len);
  pos_ += 5 + len;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return true;
}

RecvResult FrameReader::next(Frame& out,
                             std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (take(out)) return RecvResult::frame;
  bool started = buf_.size() > pos_;
  for (;;) {
    if (broken_) return RecvResult::closed;
    // A frame that has started gets 30 s to arrive whole (as in recv_frame).
    auto wait_until =
        started ? std::optional(std::chrono::steady_clock::now() + std::chrono::seconds(30))
                : deadline;
    if (!wait_readable(sock_, wait_until))
      return started ? RecvResult::closed : RecvResult::timeout;
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    size_t old = buf_.size();
    buf_.resize(old + (64u << 10));
    ssize_t n;
    do n = ::recv(sock_, buf_.data() + old, 64u << 10, 0);
    while (n < 0 && errno == EINTR);
    buf_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n <= 0) return RecvResult::closed;
    if (take(out)) return RecvResult::frame;
    started = true;
  }
}

}  // namespace secmlops::host::sandbox
