// Hashing a model into a manifest: the files (or shards) of the model with their SHA-256.
#include "secmlops/host/signing.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace secmlops::host::signing {
namespace fs = std::filesystem;

namespace {

constexpr size_t kReadBytes = 1 << 20;

struct Work {
  fs::path file;
  std::string name;  // relative, '/' separated
  uint64_t start = 0, end = 0;
  bool shard = false;
};

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// SHA-256 of bytes [start, end) of a file. O_NOFOLLOW: a file swapped for a symlink between the
// walk and the read is refused, not followed.
std::string hash_range(const Work& w, std::vector<unsigned char>& buf, uint64_t& bytes) {
  int fd = ::open(w.file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) throw ModelError(w.name + ": is a symbolic link (symlinks are refused)");
    throw ModelError(w.name + ": cannot open: " + std::strerror(errno));
  }
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw ModelError(w.name + ": is not a regular file");
  uint64_t end = w.shard ? w.end : static_cast<uint64_t>(st.st_size);
  if (w.shard && static_cast<uint64_t>(st.st_size) < end)
    throw ModelError(w.name + ": file shrank while it was hashed");
  ::posix_fadvise(fd, static_cast<off_t>(w.start), static_cast<off_t>(end - w.start),
                  POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  uint64_t pos = w.start;
  for (;;) {
    size_t want =
        w.shard ? static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos)) : buf.size();
    if (want == 0) break;
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ModelError(w.name + ": read error at offset " + std::to_string(pos) + ": " +
                       std::strerror(errno));
    }
    if (n == 0) {
      if (w.shard) throw ModelError(w.name + ": file shrank while it was hashed");
      break;
    }
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
  }
  bytes += pos - w.start;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string normalise(std::string p) {
  std::replace(p.begin(), p.end(), '\\', '/');
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  return p;
}

bool ignored(const std::string& rel, const std::vector<std::string>& ignore) {
  for (const auto& i : ignore) {
    if (i.empty()) continue;
    if (rel == i) return true;
    if (rel.size() > i.size() && rel.compare(0, i.size(), i) == 0 && rel[i.size()] == '/')
      return true;
  }
  return false;
}

std::vector<std::string> split_path(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    auto slash = s.find('/', start);
    parts.emplace_back(
        s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

// "path:start:end" → (path, start, end); a plain file name → (name, 0, 0).
struct Key {
  std::vector<std::string> parts;
  uint64_t start = 0, end = 0;
};
Key key_of(const std::string& name) {
  Key k;
  auto c2 = name.rfind(':');
  auto c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : name.rfind(':', c2 - 1);
  if (c1 != std::string::npos) {
    auto digits = [](std::string_view v) {
      return !v.empty() && v.size() < 20 &&
             std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    };
    std::string_view a(name.data() + c1 + 1, c2 - c1 - 1),
        b(name.data() + c2 + 1, name.size() - c2 - 1);
    if (digits(a) && digits(b)) {
      k.parts = split_path(std::string_view(name).substr(0, c1));
      k.start = std::stoull(std::string(a));
      k.end = std::stoull(std::string(b));
      return k;
    }
  }
  k.parts = split_path(name);
  return k;
}

}  // namespace

void sort_resources(std::vector<Resource>& resources) {
  std::vector<std::pair<Key, size_t>> keys;
  keys.reserve(resources.size());
  for (size_t i = 0; i < resources.size(); ++i) keys.emplace_back(key_of(resources[i].name), i);
  std::sort(keys.begin(), keys.end(), [](const auto& x, const auto& y) {
    if (x.first.parts != y.first.parts) return x.first.parts < y.first.parts;
    if (x.first.start != y.first.start) return x.first.start < y.first.start;
    return x.first.end < y.first.end;
  });
  std::vector<Resource> sorted;
  sorted.reserve(resources.size());
  for (auto& [k, i] : keys) sorted.push_back(std::move(resources[i]));
  resources = std::move(sorted);
}

std::string model_name(const fs::path& model) {
  fs::path abs = fs::absolute(model).lexically_normal();
  std::string name = abs.filename().string();
  return name.empty() ? abs.parent_path().filename().string() : name;
}

Manifest hash_model(const fs::path& model, const HashOptions& options) {
  std::error_code ec;
  auto st = fs::symlink_status(model, ec);
  if (ec || !fs::exists(st)) throw UnusableInput(model.string() + ": no such file or directory");
  if (fs::is_symlink(st))
    throw ModelError(model.string() + ": is a symbolic link (symlinks are refused)");
  if (options.method == Method::shards && options.shard_size == 0)
    throw UnusableInput("shard size must be positive");

  Manifest m;
  m.method = options.method;
  m.shard_size = options.shard_size;
  std::vector<std::string> ignore;
  for (const auto& p : options.ignore_paths) ignore.push_back(normalise(p));
  if (options.ignore_git_paths)
    for (const char* g : {".git", ".gitattributes", ".github", ".gitignore"})
      ignore.emplace_back(g);
  std::sort(ignore.begin(), ignore.end());
  ignore.erase(std::unique(ignore.begin(), ignore.end()), ignore.end());
  ignore.erase(std::remove(ignore.begin(), ignore.end(), std::string()), ignore.end());
  m.ignore_paths = ignore;

  m.model_name = model_name(model);

  std::vector<Work> work;
  auto add_file = [&](const fs::path& file, const std::string& rel, uint64_t size) {
    if (options.method == Method::files) {
      work.push_back({file, rel, 0, size, false});
      return;
    }
    for (uint64_t start = 0; start < size; start += options.shard_size) {
      uint64_t end = std::min(size, start + options.shard_size);
      work.push_back(
          {file, rel + ":" + std::to_string(start) + ":" + std::to_string(end), start, end, true});
    }
  };
  if (fs::is_regular_file(st)) {
    // A single-file model: the resource is named "." (the file relative to itself).
    add_file(model, ".", fs::file_size(model));
  } else if (fs::is_directory(st)) {
    fs::recursive_directory_iterator it(model, fs::directory_options::none, ec), end;
    if (ec) throw UnusableInput(model.string() + ": cannot list: " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) throw ModelError(model.string() + ": cannot list: " + ec.message());
      std::string rel = normalise(it->path().lexically_relative(model).generic_string());
      if (ignored(rel, ignore)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
        continue;
      }
      auto s = it->symlink_status(ec);
      if (fs::is_symlink(s)) throw ModelError(rel + ": is a symbolic link (symlinks are refused)");
      if (fs::is_directory(s)) continue;
      if (!fs::is_regular_file(s)) throw ModelError(rel + ": is not a regular file or directory");
      add_file(it->path(), rel, it->file_size(ec));
    }
  } else {
    throw UnusableInput(model.string() + ": is not a regular file or directory");
  }
  if (work.empty() && options.method == Method::files)
    throw ModelError(model.string() + ": contains no regular files after applying exclusions");

  // Largest first, so the last worker is not left alone with a big file.
  std::vector<size_t> order(work.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return work[a].end - work[a].start > work[b].end - work[b].start;
  });

  // More threads than a few per core only add contention (and a request must not be able to ask
  // a server for thousands).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned threads = options.threads ? std::min(options.threads, 4 * cores) : cores;
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(1, work.size())));
  std::vector<std::string> digests(work.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<uint64_t> total{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    std::vector<unsigned char> buf(kReadBytes);
    uint64_t bytes = 0;
    try {
      for (size_t i; !failed && (i = next.fetch_add(1)) < order.size();)
        digests[order[i]] = hash_range(work[order[i]], buf, bytes);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
    total += bytes;
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  m.bytes_hashed = total;
  m.resources.reserve(work.size());
  for (size_t i = 0; i < work.size(); ++i)
    m.resources.push_back({work[i].name, "sha256", std::move(digests[i])});
  sort_resources(m.resources);
  return m;
}

fs::path default_signature_path(const fs::path& model) {
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(model, ec))) return model / "model.sig";
  fs::path p = model;
  p += ".sig";
  return p;
}

}  // namespace secmlops::host::signing
