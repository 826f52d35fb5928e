#include "sandbox/scan_sandbox.hpp"

#include "sandbox/confinement.hpp"
#include "sandbox/frame.hpp"
#include "scan_job.hpp"

#include "secmlops/host/printable.hpp"
#include "secmlops/host/program_directory.hpp"

#include "secmlops/v1/sandbox.pb.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

extern char** environ;

namespace secmlops::host::sandbox {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);
// A cooperative scanner stops at its deadline by itself (PARTIAL, findings kept); one that does
// not gets this long before its worker is killed.
constexpr auto kGrace = std::chrono::milliseconds(1000);
constexpr auto kCancelPoll = std::chrono::milliseconds(50);

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* desc = sigdescr_np(sig);
  std::string s = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
  if (desc) s += std::string(" (") + desc + ")";
  switch (sig) {
    case SIGBUS:
      s += ": the file changed size while it was read (truncated?)";
      break;
    case SIGXCPU:
      s += ": CPU time limit";
      break;
    case SIGKILL:
      s += ": killed";
      break;
    default:
      break;
  }
  return s;
}

}  // namespace

v1::WorkerScanJob worker_job(const ScanOptions& o) {
  v1::WorkerScanJob job;
  for (const auto& [k, v] : o.scanner_config) {
    auto* kv = job.add_scanner_config();
    kv->set_key(k);
    kv->set_value(v);
  }
  const auto& l = o.limits;
  job.set_seconds_per_file(l.seconds_per_file);
  job.set_max_findings_per_stream(l.max_findings_per_stream);
  job.set_probe_bytes(l.probe_bytes);
  const auto& c = l.containers;
  job.set_max_depth(c.max_depth);
  job.set_max_total_decompressed(c.max_total_decompressed);
  job.set_max_member_size(c.max_member_size);
  job.set_max_ratio(c.max_ratio);
  job.set_ratio_floor(c.ratio_floor);
  job.set_max_members(c.max_members);
  job.set_memory_threshold(c.memory_threshold);
  job.set_max_crc_bytes(c.max_crc_bytes);
  job.set_max_spill_bytes(c.max_spill_bytes);
  return job;
}

ScanOptions worker_options(const v1::WorkerScanJob& job) {
  ScanOptions o;
  o.isolation = Isolation::in_process;
  for (const auto& kv : job.scanner_config()) o.scanner_config.emplace_back(kv.key(), kv.value());
  o.limits.seconds_per_file = job.seconds_per_file();
  o.limits.max_findings_per_stream = job.max_findings_per_stream();
  o.limits.probe_bytes = job.probe_bytes();
  auto& c = o.limits.containers;
  c.max_depth = job.max_depth();
  c.max_total_decompressed = job.max_total_decompressed();
  c.max_member_size = job.max_member_size();
  c.max_ratio = job.max_ratio();
  c.ratio_floor = job.ratio_floor();
  c.max_members = job.max_members();
  c.memory_threshold = job.memory_threshold();
  c.max_crc_bytes = job.max_crc_bytes();
  c.max_spill_bytes = job.max_spill_bytes();
  return o;
}

std::filesystem::path find_scan_worker() {
  if (const char* env = std::getenv("SECMLOPS_SCAN_WORKER"); env != nullptr && *env != '\0')
    return env;
  const auto exe_dir = program_directory();
  if (exe_dir.empty()) return {};
  for (const auto& p : {exe_dir / "secmlops-scan-worker",
                        exe_dir / ".." / "libexec" / "secmlops" / "secmlops-scan-worker"})
    if (::access(p.c_str(), X_OK) == 0) return p;
  return {};
}

std::shared_ptr<ScanSandbox> ScanSandbox::for_libraries(
    const std::vector<std::filesystem::path>& libraries, uint64_t memory_bytes) {
  // Kept for the life of the process: engines come and go per request, the warm workers stay.
  static std::mutex mu;
  static std::map<std::pair<std::vector<std::filesystem::path>, uint64_t>,
                  std::shared_ptr<ScanSandbox>>
      pools;
  std::lock_guard lock(mu);
  auto& slot = pools[{libraries, memory_bytes}];
  if (!slot) slot = std::make_shared<ScanSandbox>(libraries, memory_bytes);
  return slot;
}

ScanSandbox::ScanSandbox(std::vector<std::filesystem::path> libraries, uint64_t memory_bytes)
    : libraries_(std::move(libraries)), memory_bytes_(memory_bytes), program_(find_scan_worker()) {}

ScanSandbox::~ScanSandbox() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return warming_ == 0; });
  }
  for (auto& w : idle_) reap(w, true);
}

std::optional<ScanSandbox::Worker> ScanSandbox::spawn(std::string& why) {
  auto group = start(1, why);
  if (group.empty() || !await_ready(group.front(), why)) return std::nullopt;
  return group.front();
}

bool ScanSandbox::await_ready(Worker& w, std::string& why) {
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  bool ready = false;
  for (;;) {
    Frame f;
    auto r = recv_frame(w.sock, f, deadline);
    f.close_fds();
    if (r == RecvResult::frame && f.type == kReady && !ready) ready = true;
    // A sibling's pid, from the worker that copied itself (not yet confined then): usually
    // before the sibling is ready, but nothing orders the two.
    else if (r == RecvResult::frame && f.type == kPid && w.pid == 0) {
      pid_t pid = 0;  // a payload that is not a number is no pid (refused below)
      std::from_chars(f.payload.data(), f.payload.data() + f.payload.size(), pid);
      // Only a child of this process is taken: it is the one reaped and killed from now on.
      siginfo_t info{};
      if (pid <= 0 ||
          ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        why = "the scan worker did not start: its pid " + printable(f.payload, 32) +
              " is not a child of the host";
        reap(w, true);
        return false;
      }
      w.pid = pid;
    } else {
      why = "the scan worker did not start: " + reap(w, true);
      return false;
    }
    if (ready && w.pid > 0) return true;
  }
}

std::vector<ScanSandbox::Worker> ScanSandbox::start(unsigned count, std::string& why) {
  if (program_.empty()) {
    why = "the scan worker program secmlops-scan-worker was not found (set SECMLOPS_SCAN_WORKER)";
    return {};
  }
  count = std::clamp(count, 1u, kMaxSiblings + 1);
  // One socket and one event area per worker; the worker's ends go to descriptors 3, 4, 5, ...
  std::vector<Worker> group;
  std::vector<int> theirs;
  auto undo = [&](const std::string& what) {
    why = what + ": " + std::strerror(errno);
    for (int fd : theirs) ::close(fd);
    for (auto& w : group) reap(w, false);
    return std::vector<Worker>{};
  };
  for (unsigned i = 0; i < count; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return undo("socketpair");
    group.push_back(Worker{0, sv[0], nullptr});
    theirs.push_back(sv[1]);
    int area_fd = ::memfd_create("secmlops-worker-events", MFD_CLOEXEC);
    if (area_fd < 0) return undo("cannot create the worker's event area");
    theirs.push_back(area_fd);
    void* area = MAP_FAILED;
    if (::ftruncate(area_fd, kEventAreaBytes) == 0)
      area = ::mmap(nullptr, kEventAreaBytes, PROT_READ | PROT_WRITE, MAP_SHARED, area_fd, 0);
    if (area == MAP_FAILED) return undo("cannot create the worker's event area");
    group.back().events = static_cast<uint8_t*>(area);
  }
  std::vector<std::string> args = {program_.string(),
                                   "--socket",
                                   "3",
                                   "--events",
                                   "4",
                                   "--siblings",
                                   std::to_string(count - 1),
                                   "--memory-bytes",
                                   std::to_string(memory_bytes_),
                                   "--log-level",
                                   spdlog::level::to_string_view(spdlog::get_level()).data(),
                                   "--parent",
                                   std::to_string(::getpid())};
  for (const auto& l : libraries_) args.push_back(l.string());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec. The targets (3, 4, ...) may be some of our own descriptors:
  // each source is first moved above every target, so no dup2 overwrites a source still to come.
  const int above = 3 + static_cast<int>(theirs.size());
  for (size_t i = 0; i < theirs.size(); ++i)
    if (theirs[i] < above) {
      int moved = ::fcntl(theirs[i], F_DUPFD_CLOEXEC, above);
      if (moved < 0) {
        posix_spawn_file_actions_destroy(&actions);
        return undo("fcntl");
      }
      ::close(theirs[i]);
      theirs[i] = moved;
    }
  for (size_t i = 0; i < theirs.size(); ++i)
    posix_spawn_file_actions_adddup2(&actions, theirs[i], 3 + static_cast<int>(i));
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // the server blocks SIGTERM in its threads
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  for (int fd : theirs) ::close(fd);
  theirs.clear();
  if (rc != 0) {
    errno = rc;
    return undo("cannot start " + program_.string());
  }
  group.front().pid = pid;
  return group;
}

std::optional<ScanSandbox::Worker> ScanSandbox::acquire(std::string& why) {
  {
    std::unique_lock lock(mu_);
    // A worker being started ahead of need is waited for rather than started twice.
    cv_.wait(lock, [&] { return !idle_.empty() || warming_ == 0; });
    if (!idle_.empty()) {
      Worker w = idle_.back();
      idle_.pop_back();
      return w;
    }
  }
  return spawn(why);
}

void ScanSandbox::prewarm_async(unsigned n) {
  std::lock_guard lock(mu_);
  max_idle_ = std::max(max_idle_, n);
  if (idle_.size() + warming_ >= n) return;
  const auto count = static_cast<unsigned>(n - idle_.size() - warming_);
  // Started from the calling thread (a worker dies with the thread that started it:
  // PR_SET_PDEATHSIG), one program start for all of them, each waited for in its own thread
  // while the host walks and digests the first files. Detached: the pool outlives them (its
  // destructor waits until none is warming).
  std::string why;
  auto group = this->start(count, why);
  if (group.empty()) {
    spdlog::debug("cannot pre-start scan workers: {}", why);
    return;
  }
  warming_ += static_cast<unsigned>(group.size());
  for (auto& w : group) {
    std::thread([this, w]() mutable {
      std::string why;
      bool ok = await_ready(w, why);
      std::lock_guard l(mu_);
      if (ok)
        idle_.push_back(w);
      else
        spdlog::debug("cannot pre-start a scan worker: {}", why);
      --warming_;
      cv_.notify_all();
    }).detach();
  }
}

void ScanSandbox::release(Worker w) {
  {
    std::lock_guard lock(mu_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(w);
      return;
    }
  }
  reap(w, true);
}

void ScanSandbox::prewarm(unsigned n) {
  max_idle_ = std::max(max_idle_, n);
  while (idle_workers() < n) {
    std::string why;
    auto group = start(static_cast<unsigned>(n - idle_workers()), why);
    if (group.empty()) {
      spdlog::warn("cannot pre-start scan workers: {}", why);
      return;
    }
    bool all_ready = true;
    for (auto& w : group) {
      if (await_ready(w, why))
        release(w);
      else
        all_ready = false;
    }
    if (!all_ready) {
      spdlog::warn("cannot pre-start scan workers: {}", why);
      return;
    }
  }
}

size_t ScanSandbox::idle_workers() {
  std::lock_guard lock(mu_);
  return idle_.size();
}

std::string ScanSandbox::reap(Worker& w, bool kill_first) {
  if (w.sock >= 0) ::close(w.sock);
  w.sock = -1;
  if (w.events != nullptr) ::munmap(w.events, kEventAreaBytes);
  w.events = nullptr;
  if (w.pid <= 0) return "no worker";
  if (kill_first) ::kill(w.pid, SIGKILL);
  int status = 0;
  pid_t r;
  do r = ::waitpid(w.pid, &status, 0);
  while (r < 0 && errno == EINTR);
  w.pid = -1;
  if (r < 0) return std::string("waitpid: ") + std::strerror(errno);
  if (WIFSIGNALED(status)) return "the worker was killed by " + signal_text(WTERMSIG(status));
  if (WIFEXITED(status))
    return "the worker exited with status " + std::to_string(WEXITSTATUS(status));
  return "the worker stopped";
}

namespace {

v1::FileReport failed_report(const std::string& display_name, std::vector<v1::Finding> findings,
                             const std::string& why, const std::string& scanner,
                             const std::vector<std::string>& members) {
  v1::FileReport r;
  r.set_path(display_name);
  for (auto& f : findings) *r.add_findings() = std::move(f);
  r.set_status(v1::ERROR);
  std::string where;
  for (const auto& m : members) where += "!/" + m;
  r.set_error(display_name + where + ": " + (scanner.empty() ? "" : "scanner " + scanner + ": ") +
              why);
  auto* sr = r.add_streams();
  for (const auto& m : members) sr->add_members(m);
  sr->set_scanner(scanner.empty() ? "host" : scanner);
  sr->set_status(v1::ERROR);
  sr->set_error(why);
  make_utf8_safe(r);
  return r;
}

// What the host knows of one file of a batch while the worker scans it.
struct FileProgress {
  std::optional<v1::FileReport> done;
  std::string scanner;
  std::vector<std::string> members;
  std::vector<v1::Finding> findings;
  std::vector<std::string> denied_opens;
};

}  // namespace

v1::FileReport ScanSandbox::scan(int fd, const std::string& display_name,
                                 const std::optional<std::filesystem::path>& base_dir,
                                 const ScanOptions& options,
                                 const std::shared_ptr<CancelToken>& cancel) {
  auto r = scan_batch({BatchFile{fd, nullptr, display_name, base_dir ? &*base_dir : nullptr}},
                      options, cancel);
  return std::move(r.front());
}

std::vector<v1::FileReport> ScanSandbox::scan_batch(const std::vector<BatchFile>& files,
                                                    const ScanOptions& options,
                                                    const std::shared_ptr<CancelToken>& cancel) {
  std::vector<v1::FileReport> out;
  out.reserve(files.size());
  for (size_t at = 0; at < files.size();) {
    if (at > 0 && cancel && cancel->cancelled() && !cancel->deadline_passed()) {
      // Cancelled while a worker was failing: the rest is not started.
      for (; at < files.size(); ++at)
        out.push_back(failed_report(files[at].display_name, {}, "scan cancelled", "", {}));
      break;
    }
    size_t n = std::min(files.size() - at, kMaxBatchFiles);
    // A batch ends early only when a worker fails: its file is an ERROR, the rest go to a fresh
    // one.
    size_t got = run_batch(files.data() + at, n, options, cancel, out);
    at += std::max<size_t>(got, 1);
  }
  return out;
}

size_t ScanSandbox::run_batch(const BatchFile* files, size_t n, const ScanOptions& options,
                              const std::shared_ptr<CancelToken>& cancel,
                              std::vector<v1::FileReport>& out) {
  const bool config_only = files[0].fd < 0 && files[0].content == nullptr;
  auto fail_first = [&](const std::string& why) {
    out.push_back(failed_report(files[0].display_name, {}, why, "", {}));
    return size_t{1};
  };
  std::string why;
  auto worker = acquire(why);
  if (!worker) return fail_first(why);
  Worker w = *worker;
  auto job = worker_job(options);
  job.set_check_config_only(config_only);
  std::vector<int> fds;
  for (size_t i = 0; i < n; ++i) {
    auto* f = job.add_files();
    f->set_display_name(files[i].display_name);
    f->set_has_base_dir(files[i].base_dir != nullptr);
    if (files[i].content != nullptr) {
      f->set_inline_(true);
      f->set_content(files[i].content->data(), files[i].content->size());
    } else if (!config_only) {
      fds.push_back(files[i].fd);
    }
  }
  const std::string payload = job.SerializeAsString();
  EventArea area{w.events, kEventAreaBytes};
  area.reset();
  if (!send_frame(w.sock, kJob, payload, fds)) {
    // A worker that died while idle: one retry with a fresh one.
    reap(w, true);
    worker = spawn(why);
    if (!worker) return fail_first(why);
    w = *worker;
    area = EventArea{w.events, kEventAreaBytes};
    area.reset();
    if (!send_frame(w.sock, kJob, payload, fds)) return fail_first(reap(w, true));
  }
  std::vector<FileProgress> progress(n);
  // Each file of the batch has its own time: the clock restarts when the worker moves on.
  const bool timed = options.limits.seconds_per_file > 0;
  const auto per_file = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options.limits.seconds_per_file)) +
                        kGrace;
  uint32_t timed_file = 0;
  auto file_start = std::chrono::steady_clock::now();
  std::optional<uint32_t> forbidden;
  FrameReader reader(w.sock);
  auto take = [&](v1::WorkerEvent& ev) {
    if (ev.file() >= n) return;
    auto& p = progress[ev.file()];
    switch (ev.event_case()) {
      case v1::WorkerEvent::kStarted:
        p.scanner = ev.started().scanner();
        p.members.assign(ev.started().members().begin(), ev.started().members().end());
        break;
      case v1::WorkerEvent::kFinding:
        p.findings.push_back(std::move(*ev.mutable_finding()));
        break;
      case v1::WorkerEvent::kDone:
        p.done = std::move(*ev.mutable_done());
        break;
      default:
        break;
    }
  };
  // What the worker recorded in the shared area (reports of finished files; for a worker that
  // failed, what its last file had reached): read before the worker is reaped.
  auto absorb = [&](bool reports_only) {
    for (const auto& f : area.frames()) {
      if (reports_only && f.type != kDone) continue;
      v1::WorkerEvent ev;
      if (!ev.ParseFromArray(f.payload.data(), static_cast<int>(f.payload.size()))) break;
      take(ev);
    }
  };
  // A path the scanner tried to open that exists on this host is an escape attempt: a finding on
  // the file. A probe for a path that does not exist (libhdf5 checks that its image has no file)
  // is only logged.
  auto report_denied = [&](v1::FileReport& r, const FileProgress& p,
                           const std::string& display_name) {
    for (const auto& path : p.denied_opens) {
      std::error_code ec;
      bool exists = std::filesystem::exists(std::filesystem::path(path), ec);
      spdlog::log(exists ? spdlog::level::warn : spdlog::level::debug,
                  "audit: event=sandbox_denied_open file=\"{}\" scanner={} path=\"{}\"",
                  printable(display_name), p.scanner, printable(path));
      if (exists)
        add_host_finding(r, p.members, v1::HIGH, "HOST-SANDBOX-OPEN",
                         "scanner " + p.scanner + " tried to open " + printable(path, 256) +
                             " outside its input; the sandbox refused",
                         std::nullopt, {{"path", path}, {"scanner", p.scanner}});
    }
  };
  // The files the worker finished, in order, then the one it failed on (an ERROR with the
  // findings it had sent); the rest are left to the caller. Returns how many were answered.
  auto conclude = [&](const std::string& why) {
    size_t k = 0;
    for (; k < n && progress[k].done; ++k) {
      report_denied(*progress[k].done, progress[k], files[k].display_name);
      out.push_back(std::move(*progress[k].done));
    }
    if (k == n) return n;
    auto& p = progress[k];
    auto r = failed_report(files[k].display_name, std::move(p.findings), why, p.scanner, p.members);
    report_denied(r, p, files[k].display_name);
    out.push_back(std::move(r));
    return k + 1;
  };
  for (;;) {
    auto tick = std::chrono::steady_clock::now() + kCancelPoll;
    if (timed && file_start + per_file < tick) tick = file_start + per_file;
    Frame f;
    auto r = reader.next(f, tick);
    if (r == RecvResult::timeout) {
      auto now = std::chrono::steady_clock::now();
      if (timed) {
        if (uint32_t cur = area.current(); cur != timed_file) {
          timed_file = cur;
          file_start = now;
        } else if (now >= file_start + per_file) {
          absorb(false);
          reap(w, true);
          spdlog::warn(
              "audit: event=limit limit=\"seconds per file\" value={} file=\"{}\" (worker killed)",
              options.limits.seconds_per_file,
              printable(files[std::min<size_t>(cur, n - 1)].display_name));
          return conclude("time limit of " + std::to_string(options.limits.seconds_per_file) +
                          " s exceeded; the scanner did not stop and its worker was killed");
        }
      }
      if (cancel && cancel->cancelled() && !cancel->deadline_passed()) {
        absorb(false);
        reap(w, true);
        return conclude("scan cancelled");
      }
      continue;
    }
    if (r == RecvResult::closed) {
      absorb(false);
      std::string death = reap(w, false);
      if (forbidden) death = "forbidden system call " + syscall_name(*forbidden) + " (sandbox)";
      size_t k = 0;
      while (k < n && progress[k].done) ++k;
      spdlog::warn("audit: event=worker_failed file=\"{}\" reason=\"{}\"",
                   printable(files[std::min(k, n - 1)].display_name), death);
      return conclude(death);
    }
    f.close_fds();
    v1::WorkerEvent ev;
    if ((f.type != kEvent && f.type != kDone) || !ev.ParseFromString(f.payload)) {
      absorb(false);
      reap(w, true);
      return conclude("malformed message from the scan worker");
    }
    switch (ev.event_case()) {
      case v1::WorkerEvent::kStatSibling: {
        v1::SiblingAnswer a;
        const auto* base_dir = files[std::min<size_t>(ev.file(), n - 1)].base_dir;
        if (base_dir != nullptr && ev.file() < n) {
          auto info = stat_sibling_in(*base_dir, ev.stat_sibling());
          a.set_flags(info.flags);
          a.set_size(info.size);
        } else {
          a.set_flags(SECMLOPS_SIBLING_NO_CONTEXT);
        }
        send_frame(w.sock, kSibling, a.SerializeAsString());
        break;
      }
      case v1::WorkerEvent::kForbiddenSyscall:
        forbidden = ev.forbidden_syscall();
        break;
      case v1::WorkerEvent::kDeniedOpen:
        if (ev.file() < n) progress[ev.file()].denied_opens.push_back(ev.denied_open());
        break;
      case v1::WorkerEvent::kDone: {
        bool last = ev.file() + 1 >= n;
        take(ev);
        if (!last) break;
        // Reports are all a finished batch needs, unless a scanner tried to open a path: then
        // which scanner it was (its "started" note) as well.
        bool denied = false;
        for (const auto& p : progress) denied = denied || !p.denied_opens.empty();
        absorb(!denied);
        release(w);
        return conclude("the scan worker did not report this file");
      }
      default:
        take(ev);
        break;
    }
  }
}

std::string ScanSandbox::config_error(const ScanOptions& options) {
  auto r = scan(-1, "configuration", std::nullopt, options, {});
  return r.error();
}

int sealed_memfd(const Stream& stream, const std::string& name) {
  int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t off = 0; off < stream.size();) {
    size_t n = stream.read_at(off, buf.data(), std::min<uint64_t>(buf.size(), stream.size() - off));
    if (n == 0) break;
    const uint8_t* p = buf.data();
    for (size_t left = n; left > 0;) {
      ssize_t w = ::write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error(std::string("cannot fill a memfd: ") + std::strerror(err));
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    off += n;
  }
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

}  // namespace secmlops::host::sandbox
