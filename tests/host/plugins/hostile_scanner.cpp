// A scanner that misbehaves on purpose, for the sandbox tests. It claims streams starting with
// "HOSTILE", emits one finding (which the host must keep), then does what the stream's next word
// says: "segv" (write through a null pointer), "abort", "loop" (spins, ignoring cancellation),
// "alloc" (asks for 30 GB and touches it), "passwd" (opens /etc/passwd), "socket" (opens a TCP
// socket), "bus" (reads a view after the file was truncated: the test truncates it meanwhile).
#include <secmlops/sdk/plugin.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sdk = secmlops::sdk;

namespace {

// Not checked by UBSan's null check in a sanitizer build: the fixture is a plugin that really
// faults, which the sandbox must contain, not a report from the sanitizer.
__attribute__((noinline, no_sanitize("undefined"))) void write_through_null() {
  volatile int* p = nullptr;
  *p = 42;
}

class HostileScanner : public sdk::Scanner {
 public:
  static constexpr const char* name = "fixture-hostile";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "test scanner that crashes, loops or escapes on demand";
  static constexpr const char* formats[] = {"hostile", nullptr};
  static uint32_t probe(sdk::Bytes head, std::string_view, const char*& format) {
    format = "hostile";
    constexpr std::string_view magic = "HOSTILE ";
    return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin()) ? 90
                                                                                               : 0;
  }
  explicit HostileScanner(const sdk::Config&) {}
  void scan(sdk::ScanJob& job) {
    char buf[32] = {};
    job.read_exact(buf, 14);
    std::string word(buf + 8, 6);
    while (!word.empty() && word.back() == ' ') word.pop_back();
    job.emit(
        {SECMLOPS_SEVERITY_HIGH, "FIXTURE-HOSTILE", "seen before misbehaving: " + word, 0, "", {}});
    if (word == "segv") {
      write_through_null();
    } else if (word == "abort") {
      std::abort();
    } else if (word == "loop") {
      volatile uint64_t n = 0;
      for (;;) n = n + 1;
    } else if (word == "alloc") {
      size_t size = 30ull << 30;
      auto* p = static_cast<char*>(std::malloc(size));
      if (p == nullptr) throw std::runtime_error("cannot allocate 30 GB");
      for (size_t i = 0; i < size; i += 4096) p[i] = 1;
      std::free(p);
    } else if (word == "passwd") {
      int fd = ::open("/etc/passwd", O_RDONLY);
      char line[64] = {};
      if (fd >= 0 && ::read(fd, line, sizeof line - 1) > 0)
        job.emit({SECMLOPS_SEVERITY_CRITICAL,
                  "FIXTURE-LEAK",
                  std::string("read /etc/passwd: ") + line,
                  0,
                  "",
                  {}});
    } else if (word == "socket") {
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      if (s >= 0)
        job.emit({SECMLOPS_SEVERITY_CRITICAL, "FIXTURE-LEAK", "opened a socket", 0, "", {}});
    } else if (word == "bus") {
      // Views the whole stream slowly: the test truncates the file meanwhile.
      uint64_t size = job.size();
      sdk::Bytes v = job.view(0, size);
      volatile uint8_t sum = 0;
      for (int round = 0; round < 200 && !v.empty(); ++round) {
        for (uint64_t i = 0; i < size; i += 4096) sum = sum + v[i];
        ::usleep(10000);
      }
    }
  }
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(HostileScanner)
