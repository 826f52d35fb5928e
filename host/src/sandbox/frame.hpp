#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace secmlops::host::sandbox {

// Frames between the host and a scan worker on a SOCK_STREAM socketpair: a 4-byte little-endian
// length, a type byte, the payload (a serialized message), and optionally one descriptor passed
// with SCM_RIGHTS alongside the header.
enum FrameType : char {
  kReady = 'R',    // worker → host: plugins loaded, sandbox entered
  kJob = 'J',      // host → worker: WorkerScanJob, with the descriptor to scan
  kEvent = 'E',    // worker → host: WorkerEvent
  kSibling = 'A',  // host → worker: SiblingAnswer
};

constexpr uint32_t kMaxFrameBytes = 512u << 20;

struct Frame {
  char type = 0;
  std::string payload;
  int fd = -1;  // received descriptor (owned by the receiver), -1 when none
};

// Sends one frame; false when the peer is gone. Retries on EINTR; never raises SIGPIPE.
bool send_frame(int sock, char type, const std::string& payload, int fd = -1);

enum class RecvResult { frame, timeout, closed };
// Receives one frame, waiting until `deadline` (nullopt = forever) for it to start. A frame
// that has started gets 30 s to arrive whole; a peer that stops mid-frame counts as closed.
RecvResult recv_frame(int sock, Frame& out,
                      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

}  // namespace secmlops::host::sandbox
