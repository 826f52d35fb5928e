#include "sandbox/confinement.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace secmlops::host::sandbox {
namespace {

int g_report_sock = -1;
volatile sig_atomic_t g_current_file = 0;

// Async-signal-safe frames encoded by hand (one write each).
void send_event(const unsigned char* payload, size_t n) {
  unsigned char header[5] = {static_cast<unsigned char>(n & 0xff),
                             static_cast<unsigned char>((n >> 8) & 0xff), 0, 0, 'E'};
  iovec iov[2] = {{header, sizeof header}, {const_cast<unsigned char*>(payload), n}};
  if (g_report_sock >= 0) (void)!::writev(g_report_sock, iov, 2);
}

size_t put_varint(unsigned char* out, uint64_t v) {
  size_t n = 0;
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    out[n++] = static_cast<unsigned char>(b | (v != 0 ? 0x80 : 0));
  } while (v != 0);
  return n;
}

// Opening a path is answered "no such file" (the sandbox has no file system) and reported to the
// host, which tells a probe for a path that does not exist (libhdf5 does that) from an attempt
// on a real file; anything else forbidden is reported and ends the worker.
void on_sigsys(int, siginfo_t* info, void* uctx) {
  auto* ctx = static_cast<ucontext_t*>(uctx);
  const int nr = info->si_syscall;
  const char* path = nullptr;
#if defined(__x86_64__)
  if (nr == SYS_openat)
    path = reinterpret_cast<const char*>(ctx->uc_mcontext.gregs[REG_RSI]);
  else if (nr == SYS_open || nr == SYS_creat)
    path = reinterpret_cast<const char*>(ctx->uc_mcontext.gregs[REG_RDI]);
#elif defined(__aarch64__)
  if (nr == SYS_openat) path = reinterpret_cast<const char*>(ctx->uc_mcontext.regs[1]);
#endif
  if (path != nullptr) {
    unsigned char payload[300];
    size_t len = 0;
    while (len < 256 && path[len] != '\0') ++len;
    size_t n = 0;
    payload[n++] = 0x32;  // field 6, length-delimited
    n += put_varint(payload + n, len);
    for (size_t i = 0; i < len; ++i) payload[n++] = static_cast<unsigned char>(path[i]);
    payload[n++] = 0x38;  // field 7 (the file of the batch), varint
    n += put_varint(payload + n, static_cast<uint32_t>(g_current_file));
    send_event(payload, n);
#if defined(__x86_64__)
    ctx->uc_mcontext.gregs[REG_RAX] = -ENOENT;
#elif defined(__aarch64__)
    ctx->uc_mcontext.regs[0] = static_cast<uint64_t>(-ENOENT);
#endif
    return;
  }
  unsigned char payload[24];
  size_t n = 0;
  payload[n++] = 0x28;  // field 5, varint
  n += put_varint(payload + n, static_cast<uint32_t>(nr));
  payload[n++] = 0x38;  // field 7, varint
  n += put_varint(payload + n, static_cast<uint32_t>(g_current_file));
  send_event(payload, n);
  ::syscall(SYS_exit_group, 159);
}

void set_limit(int resource, rlim_t value) {
  rlimit r{value, value};
  if (::setrlimit(resource, &r) != 0)
    throw std::runtime_error(std::string("setrlimit failed: ") + std::strerror(errno));
}

// The data segment a scan may use. Under AddressSanitizer the process already holds its shadow
// memory, terabytes of private writable mappings that RLIMIT_DATA counts, so the limit is what
// the scan may add to what is mapped now; otherwise the worker's own few megabytes are not
// worth a read of /proc.
rlim_t data_limit(uint64_t memory_bytes) {
#if defined(__SANITIZE_ADDRESS__)
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmData:", 0) == 0) return memory_bytes + std::stoull(line.substr(7)) * 1024;
#endif
  return memory_bytes;
}

}  // namespace

void set_current_file(uint32_t file) { g_current_file = static_cast<sig_atomic_t>(file); }

void confine(int report_sock, uint64_t memory_bytes) {
  g_report_sock = report_sock;
  set_limit(RLIMIT_CORE, 0);
#if defined(__SANITIZE_ADDRESS__)
  // The leak check at exit stops the process's threads with ptrace, which the filter forbids:
  // it runs now instead, over what loading the scanners left, and not again.
  __lsan_do_leak_check();
#endif
  if (memory_bytes > 0) set_limit(RLIMIT_DATA, data_limit(memory_bytes));
  set_limit(RLIMIT_NOFILE, 64);
  set_limit(RLIMIT_NPROC, 0);
  ::prctl(PR_SET_DUMPABLE, 0);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw std::runtime_error(std::string("PR_SET_NO_NEW_PRIVS failed: ") + std::strerror(errno));

  struct sigaction sa {};
  sa.sa_sigaction = &on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGSYS, &sa, nullptr);
  // The signals scanning code may legitimately raise must stay deliverable.
  sigset_t unblock;
  sigemptyset(&unblock);
  for (int s : {SIGSYS, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGXCPU}) sigaddset(&unblock, s);
  ::sigprocmask(SIG_UNBLOCK, &unblock, nullptr);

  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
  if (ctx == nullptr) throw std::runtime_error("seccomp_init failed");
  int rc = 0;
  auto allow = [&](int nr) {
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
  };
  // Reading the descriptor it was handed, and the socket to the host.
  for (int nr :
       {SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(lseek), SCMP_SYS(write),
        SCMP_SYS(writev), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
        SCMP_SYS(recvfrom), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(close), SCMP_SYS(fstat)})
    allow(nr);
  // Memory, including memory-backed files for inflated archive members (memfd: no path).
  for (int nr :
       {SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
        SCMP_SYS(brk), SCMP_SYS(memfd_create), SCMP_SYS(ftruncate), SCMP_SYS(fcntl)})
    allow(nr);
  // Time, threads' primitives, signals, exit.
  for (int nr : {SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
                 SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(getpid), SCMP_SYS(gettid),
                 SCMP_SYS(getrandom), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
                 SCMP_SYS(rt_sigaction), SCMP_SYS(sched_yield), SCMP_SYS(getrusage),
                 SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group)})
    allow(nr);
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer runtime probes memory through a pipe and gives each thread a signal stack.
  for (int nr : {SCMP_SYS(pipe), SCMP_SYS(pipe2), SCMP_SYS(sigaltstack)}) allow(nr);
#endif
  // glibc's fstat is newfstatat(fd, "", buf, AT_EMPTY_PATH): only that form is allowed.
  // (The comparisons are named structs: libseccomp's SCMP_A* macros are C compound literals.)
  const scmp_arg_cmp empty_path{3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH};
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1, empty_path);
  // abort() and raise() signal the calling thread only.
  const scmp_arg_cmp own_process{0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid()), 0};
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, own_process);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0)
    throw std::runtime_error(std::string("cannot install the seccomp filter: ") +
                             std::strerror(-rc));
}

std::string syscall_name(uint32_t nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(nr));
  if (name == nullptr) return "#" + std::to_string(nr);
  std::string out = name;
  std::free(name);
  return out;
}

}  // namespace secmlops::host::sandbox
