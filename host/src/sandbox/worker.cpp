// The scan worker: loads the scanner libraries, confines itself, then scans the descriptors the
// host sends, one at a time, streaming what it finds back as it goes.
#include "sandbox/confinement.hpp"
#include "sandbox/frame.hpp"
#include "sandbox/scan_sandbox.hpp"
#include "scan_job.hpp"

#include "containers/spill_stream.hpp"
#include "secmlops/host/logging.hpp"
#include "secmlops/host/printable.hpp"
#include "secmlops/host/registry.hpp"
#include "secmlops/v1/sandbox.pb.h"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <cstring>
#include <iostream>

namespace secmlops::host::sandbox {
namespace {

class StreamingObserver final : public ScanObserver {
 public:
  StreamingObserver(int sock, EventArea area) : sock_(sock), area_(area) {}
  void scanner_started(const std::string& scanner, const std::vector<std::string>& members) override {
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
    if (recv_frame(sock_, f) != RecvResult::frame || f.type != kSibling || !a.ParseFromString(f.payload))
      ::_exit(4);  // the host is gone or confused: nothing sensible left to do
    info.flags = a.flags();
    info.size = a.size();
    return info;
  }
  void send(const v1::WorkerEvent& ev) {
    if (!send_frame(sock_, kEvent, ev.SerializeAsString())) ::_exit(4);
  }
  // Into the shared area (no system call, no wake-up of the host); on the socket when full.
  void record(const v1::WorkerEvent& ev) {
    auto bytes = ev.SerializeAsString();
    if (!area_.append(kEvent, bytes) && !send_frame(sock_, kEvent, bytes)) ::_exit(4);
  }

 private:
  int sock_;
  EventArea area_;
};

}  // namespace

int run_scan_worker(int argc, char** argv) {
  int sock = -1, events = -1;
  uint64_t memory_bytes = 0;
  pid_t parent = 0;
  std::string level = "warn";
  std::vector<std::filesystem::path> libraries;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 < argc && a == "--socket") sock = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--events") events = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--memory-bytes") memory_bytes = std::strtoull(argv[++i], nullptr, 10);
    else if (i + 1 < argc && a == "--log-level") level = argv[++i];
    else if (i + 1 < argc && a == "--parent") parent = static_cast<pid_t>(std::atoi(argv[++i]));
    else libraries.emplace_back(a);
  }
  if (sock < 0) {
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
  // Nothing of the host's but the socket, the event area and the standard streams.
  EventArea area;
  if (events >= 0) {
    void* m = ::mmap(nullptr, kEventAreaBytes, PROT_READ | PROT_WRITE, MAP_SHARED, events, 0);
    if (m != MAP_FAILED) area = EventArea{static_cast<uint8_t*>(m), kEventAreaBytes};
    ::close(events);
  }
  ::syscall(SYS_close_range, static_cast<unsigned>(std::max(sock, events)) + 1, ~0U, 0);
  Registry registry;
  for (const auto& l : libraries) registry.load_library(l);
  // Time zone data is read now: the sandbox cannot open /etc/localtime when a log line needs it.
  ::tzset();
  containers::prepare_for_sandbox();
  // Inflated members go to memory-backed files: the worker has no directory to write in.
  containers::spill_to_memfd(true);
  try {
    confine(sock, memory_bytes);
  } catch (const std::exception& e) {
    spdlog::error("scan worker: {}", e.what());
    return 5;
  }
  if (!send_frame(sock, kReady, {})) return 0;
  StreamingObserver observer(sock, area);
  for (;;) {
    Frame f;
    if (recv_frame(sock, f) != RecvResult::frame) return 0;  // the host closed: done
    v1::WorkerScanJob job;
    if (f.type != kJob || !job.ParseFromString(f.payload)) return 6;
    v1::FileReport report;
    if (job.check_config_only()) {
      report.set_error(ScanEngine(registry, worker_options(job)).config_error());
    } else if (f.fd < 0) {
      return 6;
    } else {
      std::shared_ptr<const Stream> stream;
      try {
        stream = std::make_shared<FileStream>(f.fd, job.display_name());
      } catch (const std::exception& e) {
        report.set_path(job.display_name());
        report.set_status(v1::ERROR);
        report.set_error(e.what());
      }
      if (stream) {
        ScanEngine engine(registry, worker_options(job));
        set_scan_observer(&observer);
        report = engine.scan_stream_in(stream, job.display_name(),
                                       job.has_base_dir() ? std::optional<std::filesystem::path>(".") : std::nullopt);
        set_scan_observer(nullptr);
      }
    }
    make_utf8_safe(report);
    v1::WorkerEvent done;
    *done.mutable_done() = std::move(report);
    observer.send(done);
  }
}

}  // namespace secmlops::host::sandbox
