// The scan worker: loads the scanner libraries, confines itself, then scans the descriptors the
// host sends, one at a time, streaming what it finds back as it goes.
#include "sandbox/confinement.hpp"
#include "sandbox/frame.hpp"
#include "sandbox/scan_sandbox.hpp"
#include "scan_job.hpp"

#include "containers/spill_stream.hpp"
#include "secmlops/host/logging.hpp"
#include "secmlops/host/printable.hpp"
#include "secmlops/host/program_directory.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/v1/sandbox.pb.h"

#include <dlfcn.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstring>
#include <ctime>
#include <iostream>

namespace secmlops::host::sandbox {
namespace {

// The host writes these numbers; anything else reads as -1 (refused), never as descriptor 0.
int int_arg(const char* s) {
  int v = -1;
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, v);
  return ec == std::errc() && p == end ? v : -1;
}

class StreamingObserver final : public ScanObserver {
 public:
  StreamingObserver(int sock, EventArea area) : sock_(sock), area_(area) {}
  // Every event after this names `file` (its index in the batch).
  void begin_file(uint32_t file) {
    file_ = file;
    area_.set_current(file);
    set_current_file(file);
  }
  void begin_batch() { area_full_ = false; }
  void scanner_started(const std::string& scanner,
                       const std::vector<std::string>& members) override {
    v1::WorkerEvent ev;
    ev.mutable_started()->set_scanner(utf8_safe(scanner));
    for (const auto& m : members) ev.mutable_started()->add_members(utf8_safe(m));
    record(ev);
  }
  void finding(const v1::Finding& finding) override {
    // Plugins' strings (names from the file) must be valid UTF-8 to cross as a proto3 message.
    v1::FileReport carrier;
    *carrier.add_findings() = finding;
    make_utf8_safe(carrier);
    v1::WorkerEvent ev;
    *ev.mutable_finding() = std::move(*carrier.mutable_findings(0));
    record(ev);
  }
  secmlops_sibling_info stat_sibling(const std::string& relative) override {
    secmlops_sibling_info info{};
    info.struct_size = sizeof info;
    v1::WorkerEvent ev;
    ev.set_stat_sibling(relative);
    send(ev);
    Frame f;
    v1::SiblingAnswer a;
    if (recv_frame(sock_, f) != RecvResult::frame || f.type != kSibling ||
        !a.ParseFromString(f.payload))
      ::_exit(4);  // the host is gone or confused: nothing sensible left to do
    info.flags = a.flags();
    info.size = a.size();
    return info;
  }
  // On the socket: wakes the host.
  void send(v1::WorkerEvent& ev) {
    ev.set_file(file_);
    if (!send_frame(sock_, type_of(ev), ev.SerializeAsString())) ::_exit(4);
  }
  // Into the shared area (no system call, no wake-up of the host); on the socket once it is full.
  void record(v1::WorkerEvent& ev) {
    ev.set_file(file_);
    auto bytes = ev.SerializeAsString();
    if (!area_full_ && area_.append(type_of(ev), bytes)) return;
    area_full_ = true;
    if (!send_frame(sock_, type_of(ev), bytes)) ::_exit(4);
  }
  // Reports are told apart without parsing: the host reads only those when all went well.
  static char type_of(const v1::WorkerEvent& ev) { return ev.has_done() ? kDone : kEvent; }

 private:
  int sock_;
  EventArea area_;
  uint32_t file_ = 0;
  bool area_full_ = false;
};

// Opens the libcurl that refuses every transfer (host/worker/offline_curl) before the scanner
// libraries, so that the dynamic loader takes it for any libcurl.so.4 they need (libhdf5's) and
// maps no network stack into a process that may not use one. Without it (an installation that
// lacks the file), the system's libcurl is loaded as before.
void open_offline_curl() {
  const auto dir = program_directory();
  if (dir.empty()) return;
  const auto path = dir / "scan-worker-lib" / "libcurl.so.4";
  if (::access(path.c_str(), R_OK) != 0) return;
  if (::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
    const char* why = ::dlerror();
    spdlog::warn("scan worker: {}: {}", path.string(), why != nullptr ? why : "cannot be opened");
    return;
  }
  spdlog::debug("scan worker: opened {}", path.string());
}

// A copy of this process (before it is confined: the libraries loaded, nothing scanned) that
// is a child of the host, not of this worker, so the host waits for it and reads how it ended
// like any worker it spawned. A raw clone: glibc has no fork with CLONE_PARENT. Without glibc's
// fork handlers the child keeps the thread id glibc cached (raise() and abort() ask the kernel
// for theirs) and must stay single-threaded until it is confined, which forbids new threads.
pid_t clone_sibling() {
  return static_cast<pid_t>(
      ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

}  // namespace

int run_scan_worker(int argc, char** argv) {
  int sock = -1, events = -1;
  unsigned siblings = 0;
  uint64_t memory_bytes = 0;
  pid_t parent = 0;
  std::string level = "warn";
  std::vector<std::filesystem::path> libraries;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 < argc && a == "--socket")
      sock = int_arg(argv[++i]);
    else if (i + 1 < argc && a == "--events")
      events = int_arg(argv[++i]);
    else if (i + 1 < argc && a == "--siblings")
      siblings = static_cast<unsigned>(int_arg(argv[++i]));
    else if (i + 1 < argc && a == "--memory-bytes")
      memory_bytes = std::strtoull(argv[++i], nullptr, 10);
    else if (i + 1 < argc && a == "--log-level")
      level = argv[++i];
    else if (i + 1 < argc && a == "--parent")
      parent = static_cast<pid_t>(int_arg(argv[++i]));
    else
      libraries.emplace_back(a);
  }
  if (sock < 0 || events < 0 || siblings > kMaxSiblings) {
    std::cerr << "secmlops-scan-worker is started by secmlops and secmlopsd, not by hand\n";
    return 2;
  }
  // Dies with the host, whatever happens to it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent != 0 && ::getppid() != parent) return 3;
  try {
    init_logging(level);
  } catch (const std::exception&) {
  }
  // One socket and event area per worker of the group: this one's, then each sibling's on the
  // next two descriptors. Nothing else of the host's is kept but the standard streams.
  struct Slot {
    int sock, events;
  };
  std::vector<Slot> slots{{sock, events}};
  for (unsigned i = 1; i <= siblings; ++i)
    slots.push_back({sock + 2 * static_cast<int>(i), events + 2 * static_cast<int>(i)});
  int last_fd = 0;
  for (const auto& s : slots) last_fd = std::max({last_fd, s.sock, s.events});
  ::syscall(SYS_close_range, static_cast<unsigned>(last_fd) + 1, ~0U, 0);
  open_offline_curl();
  Registry registry;
  for (const auto& l : libraries) registry.load_library(l);
  // Time zone data is read now: the sandbox cannot open /etc/localtime when a log line needs it.
  ::tzset();
  containers::prepare_for_sandbox();
  // Inflated members go to memory-backed files: the worker has no directory to write in.
  containers::spill_to_memfd(true);
  // The siblings start here, each a copy that paid for nothing above: loading the scanner
  // libraries is most of a worker's start.
  size_t mine = 0;
  for (size_t i = 1; i < slots.size(); ++i) {
    pid_t pid = clone_sibling();
    if (pid == 0) {
      mine = i;
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // not inherited
      if (parent != 0 && ::getppid() != parent) ::_exit(3);
      break;
    }
    // The host learns the sibling's pid from here, before the sibling can send anything; one
    // that could not be started is a closed socket to the host.
    if (pid > 0) send_frame(slots[i].sock, kPid, std::to_string(pid));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (i == mine) continue;
    ::close(slots[i].sock);
    ::close(slots[i].events);
  }
  sock = slots[mine].sock;
  EventArea area;
  void* m =
      ::mmap(nullptr, kEventAreaBytes, PROT_READ | PROT_WRITE, MAP_SHARED, slots[mine].events, 0);
  if (m != MAP_FAILED) area = EventArea{static_cast<uint8_t*>(m), kEventAreaBytes};
  ::close(slots[mine].events);
  try {
    confine(sock, memory_bytes);
  } catch (const std::exception& e) {
    spdlog::error("scan worker: {}", e.what());
    return 5;
  }
  if (!send_frame(sock, kReady, {})) return 0;
  StreamingObserver observer(sock, area);
  auto scan_one = [&](const ScanEngine& engine, int fd, v1::WorkerScanJob::File& file) {
    v1::FileReport report;
    std::shared_ptr<const Stream> stream;
    try {
      if (file.inline_()) {
        const auto& c = file.content();
        stream = std::make_shared<MemoryStream>(std::vector<uint8_t>(c.begin(), c.end()));
        file.clear_content();
      } else {
        stream = std::make_shared<FileStream>(fd, file.display_name());
      }
    } catch (const std::exception& e) {
      report.set_path(file.display_name());
      report.set_status(v1::ERROR);
      report.set_error(e.what());
      return report;
    }
    set_scan_observer(&observer);
    report = engine.scan_stream_in(
        stream, file.display_name(),
        file.has_base_dir() ? std::optional<std::filesystem::path>(".") : std::nullopt);
    set_scan_observer(nullptr);
    return report;
  };
  for (;;) {
    Frame f;
    if (recv_frame(sock, f) != RecvResult::frame) return 0;  // the host closed: done
    v1::WorkerScanJob job;
    if (f.type != kJob || !job.ParseFromString(f.payload)) return 6;
    const ScanOptions options = worker_options(job);
    observer.begin_batch();
    if (job.check_config_only()) {
      observer.begin_file(0);
      v1::WorkerEvent done;
      done.mutable_done()->set_error(ScanEngine(registry, options).config_error());
      make_utf8_safe(*done.mutable_done());
      observer.send(done);
      continue;
    }
    size_t by_fd = 0;
    for (const auto& file : job.files()) by_fd += file.inline_() ? 0 : 1;
    if (f.fds.size() != by_fd || job.files().empty()) return 6;
    // Every file's report but the last goes to the shared area; the last one, on the socket,
    // tells the host the batch is done. One engine for the batch: its scanners and their
    // configuration are looked up once.
    const ScanEngine engine(registry, options);
    size_t next_fd = 0;
    for (int i = 0; i < job.files_size(); ++i) {
      observer.begin_file(static_cast<uint32_t>(i));
      auto* file = job.mutable_files(i);
      int fd = -1;
      if (!file->inline_()) {
        fd = f.fds[next_fd];
        f.fds[next_fd++] = -1;  // the stream owns it now
      }
      v1::WorkerEvent done;
      *done.mutable_done() = scan_one(engine, fd, *file);
      make_utf8_safe(*done.mutable_done());
      if (i + 1 < job.files_size())
        observer.record(done);
      else
        observer.send(done);
    }
  }
}

}  // namespace secmlops::host::sandbox
