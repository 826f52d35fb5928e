#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::host::sandbox {

// Frames between the host and a scan worker on a SOCK_STREAM socketpair: a 4-byte little-endian
// length, a type byte, the payload (a serialized message), and optionally descriptors (at most
// kMaxFrameFds) passed with SCM_RIGHTS alongside the header.
enum FrameType : char {
  kReady = 'R',    // worker → host: plugins loaded, sandbox entered
  kPid = 'P',      // first worker of a group → host, on a sibling's socket: its pid, decimal
  kJob = 'J',      // host → worker: WorkerScanJob, with the descriptors to scan
  kEvent = 'E',    // worker → host: WorkerEvent
  kDone = 'D',     // worker → host: WorkerEvent with a file's final report
  kSibling = 'A',  // host → worker: SiblingAnswer
};

constexpr uint32_t kMaxFrameBytes = 512u << 20;
constexpr size_t kMaxFrameFds = 64;  // well below the kernel's SCM_MAX_FD (253)

struct Frame {
  char type = 0;
  std::string payload;
  std::vector<int> fds;  // received descriptors (owned by the receiver)
  void close_fds();
};

// Sends one frame; false when the peer is gone. Retries on EINTR; never raises SIGPIPE.
bool send_frame(int sock, char type, const std::string& payload, const std::vector<int>& fds = {});

enum class RecvResult { frame, timeout, closed };
// Receives one frame, waiting until `deadline` (nullopt = forever) for it to start. A frame
// that has started gets 30 s to arrive whole; a peer that stops mid-frame counts as closed.
RecvResult recv_frame(int sock, Frame& out,
                      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// Events a worker records while it scans, in memory shared with the host: findings and
// "scanner started" notes cost the worker a memcpy and the host nothing until the file is done;
// if the worker dies, the host reads them from here. Layout: a 64-bit count of bytes used, then
// frames back to back (the same encoding as on the socket). A second word holds the index of the
// file of a batch the worker is on, so the host can time each file of a batch by itself.
constexpr size_t kEventAreaBytes = 8u << 20;
constexpr size_t kEventAreaHeader = 16;
struct EventArea {
  uint8_t* base = nullptr;
  size_t size = 0;
  // Worker side: appends one frame; false when it does not fit (then it goes on the socket).
  bool append(char type, const std::string& payload);
  // Worker side: the batch index of the file now being scanned.
  void set_current(uint32_t file);
  // Host side.
  void reset();
  [[nodiscard]] uint32_t current() const;
  // Host side: the frames recorded since reset(), viewed in place (valid until the next reset).
  struct View {
    char type;
    std::string_view payload;
  };
  [[nodiscard]] std::vector<View> frames() const;
};

// Frames from a peer that never sends descriptors (worker → host), read through a buffer: one
// recv usually brings several frames (events, then the report), so a scan costs the host a
// couple of system calls instead of four per frame.
class FrameReader {
 public:
  explicit FrameReader(int sock) : sock_(sock) {}
  RecvResult next(Frame& out, std::optional<std::chrono::steady_clock::time_point> deadline);

 private:
  bool take(Frame& out);  // a whole frame from the buffer, if there is one
  int sock_;
  std::string buf_;
  size_t pos_ = 0;
  bool broken_ = false;
};

}  // namespace secmlops::host::sandbox
