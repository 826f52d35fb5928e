// The floor of scanning a directory of model files: a process that does nothing but what every
// scanner must do with them — list the directory tree (sorted, as `secmlops scan DIR` reports
// it), open each regular file, learn its size and read all of its bytes once, each core its own
// share of the files. No format detection, no parsing, no digest, no report. With --process it
// also starts one more process and waits for it, the least a scanner that keeps hostile files
// out of its own address space pays.
// Built twice, like bench/e2e/e2e_floor: linked statically (scan_floor), the smallest start-up a
// process has here; and linked dynamically against the shared libraries the secmlops host loads
// at start (scan_floor_linked), used for nothing.
//
//   scan_floor [--process] DIR
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

// Appends the regular files below `dir`, depth first, each directory's entries in byte order.
bool walk(const std::string& dir, std::vector<std::string>& files) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  std::vector<std::pair<std::string, unsigned char>> entries;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    entries.emplace_back(e->d_name, e->d_type);
  }
  ::closedir(d);
  std::sort(entries.begin(), entries.end());
  for (auto [name, type] : entries) {
    std::string path = dir + "/" + name;
    struct stat st {};
    if (type == DT_UNKNOWN && ::lstat(path.c_str(), &st) == 0)  // a file system without d_type
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    if (type == DT_DIR) {
      if (!walk(path, files)) return false;
    } else if (type == DT_REG) {
      files.push_back(std::move(path));
    }
  }
  return true;
}

// Reads every byte of the file; returns how many, or -1.
long long read_whole(const std::string& path, std::vector<char>& buf) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  struct stat st {};
  long long total = -1;
  if (::fstat(fd, &st) == 0) {
    if (buf.size() < static_cast<size_t>(st.st_size) + 1)
      buf.resize(static_cast<size_t>(st.st_size) + 1);
    total = 0;
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n <= 0) {
        if (n < 0) total = -1;
        break;
      }
      total += n;
    }
  }
  ::close(fd);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--child") == 0) return 0;
  const bool process = argc == 3 && std::strcmp(argv[1], "--process") == 0;
  if (argc != 2 && !process) {
    std::fprintf(stderr, "usage: scan_floor [--process] DIR\n");
    return 2;
  }
  pid_t child = 0;
  if (process) {
    char self[] = "/proc/self/exe";
    char flag[] = "--child";
    char* child_argv[] = {self, flag, nullptr};
    if (::posix_spawn(&child, self, nullptr, nullptr, child_argv, environ) != 0) {
      std::perror("posix_spawn");
      return 1;
    }
  }
  std::vector<std::string> files;
  if (!walk(argv[argc - 1], files)) {
    std::perror(argv[argc - 1]);
    return 1;
  }
  const unsigned parts = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<long long> bytes{0};
  std::atomic<size_t> failed{0};
  auto work = [&](unsigned part) {
    std::vector<char> buf;
    long long mine = 0;
    for (size_t i = part; i < files.size(); i += parts) {
      const long long n = read_whole(files[i], buf);
      if (n < 0)
        failed.fetch_add(1);
      else
        mine += n;
    }
    bytes.fetch_add(mine);
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < parts; ++i) threads.emplace_back(work, i);
  work(0);
  for (auto& t : threads) t.join();
  int status = 0;
  if (child > 0 && (::waitpid(child, &status, 0) != child || status != 0)) {
    std::fprintf(stderr, "scan_floor: the child process failed\n");
    return 1;
  }
  std::printf("%zu files, %lld bytes read, %zu unreadable\n", files.size(), bytes.load(),
              failed.load());
  return failed.load() == 0 ? 0 : 1;
}
