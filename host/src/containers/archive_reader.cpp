// 7z and RAR archives through Debian's libarchive: members listed from the archive's own
// header, their bytes decoded under the same member, total, ratio and spill limits as every
// other container. What libarchive cannot read (an unsupported coder, encryption, a damaged
// header) leaves the archive PARTIAL with libarchive's message: never passed as clean.
#include "containers/bytes.hpp"
#include "containers/limited_output.hpp"
#include "secmlops/host/containers.hpp"
#include "secmlops/v1/report.pb.h"

#include <archive.h>
#include <archive_entry.h>

#include <fmt/format.h>

#include <dlfcn.h>
#include <iconv.h>
#include <langinfo.h>
#include <map>
#include <memory>
#include <string>
#include <type_traits>

namespace secmlops::host::containers {
namespace {

constexpr size_t kReadChunk = 1 << 20;

// libarchive is opened on first use, not linked: only 7z and RAR need it, and it brings ICU,
// libxml2, zstd and ACL with it — mapping and relocating them cost every command about a
// millisecond at start-up (docs/benchmarks.md "Start-up"). The scan workers open it in
// prepare_for_sandbox, before their file system access is taken away.
struct Libarchive {
  decltype(&archive_read_new) read_new = nullptr;
  decltype(&archive_read_free) read_free = nullptr;
  decltype(&archive_read_support_format_7zip) support_7zip = nullptr;
  decltype(&archive_read_support_format_rar) support_rar = nullptr;
  decltype(&archive_read_support_format_rar5) support_rar5 = nullptr;
  decltype(&archive_read_set_read_callback) set_read_callback = nullptr;
  decltype(&archive_read_set_seek_callback) set_seek_callback = nullptr;
  decltype(&archive_read_set_skip_callback) set_skip_callback = nullptr;
  decltype(&archive_read_set_callback_data) set_callback_data = nullptr;
  decltype(&archive_read_open1) open1 = nullptr;
  decltype(&archive_read_next_header) next_header = nullptr;
  decltype(&archive_read_data) read_data = nullptr;
  decltype(&archive_error_string) error_string = nullptr;
  decltype(&archive_entry_filetype) entry_filetype = nullptr;
  decltype(&archive_entry_pathname) entry_pathname = nullptr;
  decltype(&archive_entry_pathname_utf8) entry_pathname_utf8 = nullptr;
  decltype(&archive_entry_is_encrypted) entry_is_encrypted = nullptr;
  std::string unavailable;  // why libarchive cannot be used; empty when it can
};

const Libarchive& libarchive() {
  static const Libarchive lib = [] {
    Libarchive l;
    void* h = dlopen(SECMLOPS_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* why = dlerror();
      l.unavailable = fmt::format("libarchive is unavailable: {}",
                                  why != nullptr ? why : SECMLOPS_LIBARCHIVE_SONAME);
      return l;
    }
    auto bind = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name));
      if (fn == nullptr && l.unavailable.empty())
        l.unavailable = fmt::format("libarchive is unavailable: {} has no {}",
                                    SECMLOPS_LIBARCHIVE_SONAME, name);
    };
    bind(l.read_new, "archive_read_new");
    bind(l.read_free, "archive_read_free");
    bind(l.support_7zip, "archive_read_support_format_7zip");
    bind(l.support_rar, "archive_read_support_format_rar");
    bind(l.support_rar5, "archive_read_support_format_rar5");
    bind(l.set_read_callback, "archive_read_set_read_callback");
    bind(l.set_seek_callback, "archive_read_set_seek_callback");
    bind(l.set_skip_callback, "archive_read_set_skip_callback");
    bind(l.set_callback_data, "archive_read_set_callback_data");
    bind(l.open1, "archive_read_open1");
    bind(l.next_header, "archive_read_next_header");
    bind(l.read_data, "archive_read_data");
    bind(l.error_string, "archive_error_string");
    bind(l.entry_filetype, "archive_entry_filetype");
    bind(l.entry_pathname, "archive_entry_pathname");
    bind(l.entry_pathname_utf8, "archive_entry_pathname_utf8");
    bind(l.entry_is_encrypted, "archive_entry_is_encrypted");
    return l;  // the handle stays open for the process's lifetime
  }();
  return lib;
}

// libarchive reads the host stream through callbacks (no file is opened: this also runs in the
// sandboxed scan workers).
struct Source {
  std::shared_ptr<const Stream> stream;
  uint64_t pos = 0;
  std::vector<uint8_t> buf;
};

la_ssize_t read_cb(struct archive*, void* client, const void** out) {
  auto* s = static_cast<Source*>(client);
  s->buf.resize(kReadChunk);
  size_t n =
      s->pos < s->stream->size() ? s->stream->read_at(s->pos, s->buf.data(), s->buf.size()) : 0;
  s->pos += n;
  *out = s->buf.data();
  return static_cast<la_ssize_t>(n);
}

la_int64_t seek_cb(struct archive*, void* client, la_int64_t offset, int whence) {
  auto* s = static_cast<Source*>(client);
  const auto size = static_cast<la_int64_t>(s->stream->size());
  la_int64_t base = whence == SEEK_SET   ? 0
                    : whence == SEEK_CUR ? static_cast<la_int64_t>(s->pos)
                                         : size;
  la_int64_t to = base + offset;
  if (to < 0 || to > size) return ARCHIVE_FATAL;
  s->pos = static_cast<uint64_t>(to);
  return to;
}

la_int64_t skip_cb(struct archive*, void* client, la_int64_t request) {
  auto* s = static_cast<Source*>(client);
  uint64_t left = s->stream->size() - std::min(s->pos, s->stream->size());
  auto n = static_cast<uint64_t>(std::max<la_int64_t>(request, 0));
  n = std::min(n, left);
  s->pos += n;
  return static_cast<la_int64_t>(n);
}

// One open archive positioned after `next` entries. Members are opened in order by the engine,
// so a solid 7z block is decoded once; opening an earlier member reopens the archive.
class Cursor {
 public:
  Cursor(std::shared_ptr<const Stream> stream, Kind kind) : kind_(kind) {
    src_.stream = std::move(stream);
  }
  ~Cursor() { close(); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Opens the archive (again); "" or libarchive's error.
  std::string open() {
    close();
    src_.pos = 0;
    next_ = 0;
    if (!la_.unavailable.empty()) return la_.unavailable;
    a_ = la_.read_new();
    if (a_ == nullptr) return "libarchive could not allocate a reader";
    if (kind_ == Kind::sevenzip)
      la_.support_7zip(a_);
    else
      la_.support_rar(a_), la_.support_rar5(a_);
    la_.set_read_callback(a_, read_cb);
    la_.set_seek_callback(a_, seek_cb);
    la_.set_skip_callback(a_, skip_cb);
    la_.set_callback_data(a_, &src_);
    if (la_.open1(a_) != ARCHIVE_OK) return error();
    return {};
  }
  // Next entry header, or nullptr at the end (`err` set on failure).
  archive_entry* next(std::string& err) {
    archive_entry* e = nullptr;
    int rc = la_.next_header(a_, &e);
    if (rc == ARCHIVE_EOF) return nullptr;
    if (rc < ARCHIVE_WARN) {
      err = error();
      return nullptr;
    }
    ++next_;
    return e;
  }
  [[nodiscard]] int64_t position() const { return next_; }
  [[nodiscard]] archive* handle() const { return a_; }
  [[nodiscard]] const Libarchive& lib() const { return la_; }
  [[nodiscard]] uint64_t consumed() const { return src_.pos; }
  std::string error() const {
    const char* m = a_ != nullptr ? la_.error_string(a_) : nullptr;
    return m != nullptr ? printable(m) : "unreadable archive";
  }

 private:
  void close() {
    if (a_ != nullptr) la_.read_free(a_);
    a_ = nullptr;
  }
  const Libarchive& la_ = libarchive();
  Kind kind_;
  Source src_;
  archive* a_ = nullptr;
  int64_t next_ = 0;
};

Opened read_member(Cursor& c, int64_t index, Budget& budget) {
  Opened o;
  if (c.handle() == nullptr || c.position() > index) {
    if (std::string err = c.open(); !err.empty()) {
      o.error = err;
      return o;
    }
  }
  std::string err;
  while (c.position() <= index) {
    budget.check_cancel();
    if (c.next(err) == nullptr) {
      o.error = err.empty() ? "the archive ended before this member" : err;
      return o;
    }
  }
  Output out(
      budget, [&c] { return c.consumed(); }, std::nullopt);
  std::vector<uint8_t> buf(256 << 10);
  std::string failure;
  try {
    while (true) {
      la_ssize_t n = c.lib().read_data(c.handle(), buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        failure = c.error();
        break;
      }
      out.put(buf.data(), static_cast<size_t>(n));
    }
  } catch (const LimitStop&) {
  }
  return out.finish(failure);
}

}  // namespace

Expansion read_libarchive(Kind kind, const std::shared_ptr<const Stream>& stream, Budget& budget) {
  Expansion ex;
  ex.kind = kind;
  const char* kname = format_name(kind);
  const Libarchive& la = libarchive();
  auto cursor = std::make_shared<Cursor>(stream, kind);
  auto unreadable = [&](const std::string& why) {
    ex.anomalies.push_back(
        {v1::MEDIUM, "HOST-ARCHIVE-UNREADABLE",
         fmt::format("libarchive cannot read this {} archive ({}): members it may hold are not "
                     "scanned",
                     kname, why)});
    ex.error = why;
  };
  if (std::string err = cursor->open(); !err.empty()) {
    unreadable(err);
    return ex;
  }
  std::map<std::string, int> names;
  std::string err;
  while (archive_entry* e = cursor->next(err)) {
    budget.check_cancel();
    const int64_t index = cursor->position() - 1;
    if (la.entry_filetype(e) == AE_IFDIR) continue;
    const char* raw = la.entry_pathname_utf8(e);
    if (raw == nullptr) raw = la.entry_pathname(e);
    std::string name = raw != nullptr ? raw : fmt::format("[unnamed #{}]", index);
    if (budget.members >= budget.limits().max_members) {
      ex.anomalies.push_back(
          {v1::MEDIUM, "HOST-LIMIT-MEMBERS",
           fmt::format("more than {} members in this file; the rest are not scanned",
                       budget.limits().max_members)});
      ex.error = "member limit reached";
      break;
    }
    ++budget.members;
    if (!name.empty() &&
        (name[0] == '/' || name[0] == '\\' || name.find("..") != std::string::npos))
      ex.anomalies.push_back({v1::MEDIUM, "HOST-ARCHIVE-SUSPICIOUS-NAME",
                              fmt::format("{} member name '{}' is absolute or climbs directories",
                                          kname, printable(name))});
    std::string shown = name;
    if (int k = ++names[name]; k > 1) {
      ex.anomalies.push_back(
          {v1::HIGH, "HOST-ARCHIVE-DUPLICATE-NAME",
           fmt::format("several {} members are named '{}': extraction keeps one; all are scanned",
                       kname, printable(name))});
      shown += fmt::format(" [duplicate #{}]", k);
    }
    if (la.entry_is_encrypted(e) != 0) {
      ex.anomalies.push_back(
          {v1::MEDIUM, "HOST-ARCHIVE-ENCRYPTED",
           fmt::format("{} member '{}' is encrypted: its content cannot be scanned", kname,
                       printable(name))});
      Member m;
      m.name = shown;
      m.open = [](Budget&) {
        Opened o;
        o.error = "encrypted member: not scanned";
        return o;
      };
      ex.members.push_back(std::move(m));
      continue;
    }
    Member m;
    m.name = shown;
    m.open = [cursor, index](Budget& b) { return read_member(*cursor, index, b); };
    ex.members.push_back(std::move(m));
  }
  if (!err.empty() && ex.error.empty()) unreadable(err);
  return ex;
}

// libarchive converts 7z member names (UTF-16LE) to the locale's charset through iconv, which
// loads gconv modules from /usr/lib on first use: the sandboxed scan workers may not open them.
// One conversion descriptor opened before the sandbox (and kept) keeps the modules loaded;
// volatile, so that the compiler stores the descriptor it never reads and the leak checker finds
// it. libarchive itself is opened here too, for the same reason.
void prepare_for_sandbox() {
  static iconv_t volatile keep = iconv_open(nl_langinfo(CODESET), "UTF-16LE");
  (void)keep;
  (void)libarchive();
}

}  // namespace secmlops::host::containers
