// A zip reader that sees what every loader could see. Python's zipfile and PyTorch's reader take
// the central directory and then each local header; streaming tools walk the local headers. We
// read both, union every end record's directory, walk local headers from the start and look for
// local headers in the bytes nothing accounts for — and report each disagreement. Stored members
// are windows on the file (zero-copy); tensor bytes are never read here.
#include "containers/bytes.hpp"
#include "secmlops/host/containers.hpp"
#include "secmlops/v1/report.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace secmlops::host::containers {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kDescriptorSig = 0x08074b50;
constexpr uint16_t kFlagEncrypted = 1 << 0;
constexpr uint16_t kFlagDescriptor = 1 << 3;
constexpr uint16_t kFlagStrongEncryption = 1 << 6;
constexpr uint16_t kFlagMaskedHeader = 1 << 13;
constexpr size_t kMaxEndRecords = 8;
constexpr uint64_t kMaxAnomaliesPerRule = 20;

struct End {
  uint64_t pos = 0;  // of the classic end record
  uint64_t end = 0;  // first byte after it and its comment
  uint64_t entries = 0;
  uint64_t cd_size = 0;
  uint64_t cd_offset = 0;
  uint64_t shift = 0;  // prepended bytes the directory's offsets do not count
  bool zip64 = false;
  bool comment_overrun = false;  // the declared comment runs past the end of the stream
};

struct Entry {
  std::string name;
  uint16_t flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, lho = 0;
  bool in_directory = false;
};

struct Local {
  uint64_t pos = 0;
  std::string name;
  uint16_t flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0;
  uint64_t data = 0;  // first byte of the member data
  bool zip64 = false;
};

// Reads the zip64 extended-information field: only the values whose 32-bit field was saturated
// are present, in this order.
void apply_zip64_extra(const uint8_t* extra, size_t len, uint64_t* usize, uint64_t* csize,
                       uint64_t* lho, bool local) {
  size_t i = 0;
  while (i + 4 <= len) {
    uint16_t id = le16(extra + i), n = le16(extra + i + 2);
    const uint8_t* d = extra + i + 4;
    if (i + 4 + n > len) return;
    if (id == 0x0001) {
      size_t k = 0;
      auto take = [&](uint64_t* v) {
        if (v == nullptr) return;
        if ((local || *v == 0xffffffffu) && k + 8 <= n) {
          *v = le64(d + k);
          k += 8;
        }
      };
      take(usize);
      take(csize);
      if (!local) take(lho);
      return;
    }
    i += 4 + n;
  }
}

class ZipReader {
 public:
  ZipReader(std::shared_ptr<const Stream> s, Budget& b) : s_(std::move(s)), budget_(b) {}

  Expansion run() {
    out_.kind = Kind::zip;
    find_end_records();
    // The last end record is the archive loaders open. Other end records count only outside the
    // members it lists: an end record inside a stored member belongs to a nested archive.
    std::vector<End> kept;
    for (size_t i = 0; i < ends_.size(); ++i) {
      if (i > 0 && inside_member_data(ends_[i].pos)) continue;
      read_directory(ends_[i]);
      kept.push_back(ends_[i]);
    }
    ends_ = std::move(kept);
    if (ends_.size() > 1) {
      std::string where;
      for (const auto& e : ends_) where += (where.empty() ? "" : ",") + std::to_string(e.pos);
      anomaly(
          v1::HIGH, "HOST-ZIP-MULTIPLE-END-RECORDS",
          fmt::format("{} end-of-central-directory records: loaders that search from the end and "
                      "loaders that search from the start see different archives; every "
                      "directory is scanned",
                      ends_.size()),
          ends_.front().pos, {{"offsets", where}});
    }
    walk_local_headers();
    check_layout();
    build_members();
    return std::move(out_);
  }

 private:
  void anomaly(v1::Severity sev, const std::string& rule, std::string msg,
               std::optional<uint64_t> off = {},
               std::vector<std::pair<std::string, std::string>> ev = {}) {
    if (++rule_counts_[rule] > kMaxAnomaliesPerRule) {
      if (rule_counts_[rule] == kMaxAnomaliesPerRule + 1)
        out_.anomalies.push_back(
            {v1::INFO, rule, fmt::format("more {} anomalies not listed", rule)});
      return;
    }
    out_.anomalies.push_back({sev, rule, std::move(msg), off, std::move(ev)});
  }
  void error(const std::string& e) {
    if (out_.error.empty()) out_.error = e;
  }

  // Every structurally valid end record in the last 64 KiB (+22) of the stream, last first.
  void find_end_records() {
    uint64_t size = s_->size();
    if (size < 22) return;
    uint64_t lo = size >= 22 + 65535 ? size - 22 - 65535 : 0;
    uint64_t span = size - lo;
    std::vector<uint8_t> copy(span);
    if (s_->read_at(lo, copy.data(), span) != span) return;
    const uint8_t* tail = copy.data();
    std::vector<End> found;
    // memrchr finds candidate 'P' bytes at memory speed (tensor bytes rarely hold many).
    for (uint64_t limit = span - 22 + 1; limit > 0;) {
      const auto* hit = static_cast<const uint8_t*>(::memrchr(tail, 'P', limit));
      if (hit == nullptr) break;
      uint64_t i = static_cast<uint64_t>(hit - tail);
      limit = i;
      const uint8_t* p = hit;
      if (le32(p) != kEndSig) continue;
      End e;
      e.pos = lo + i;
      uint16_t comment = le16(p + 20);
      e.end = e.pos + 22 + comment;
      // Python's zipfile reads whatever comment bytes are there: a record whose comment runs
      // past the end still opens the archive, so it counts when it points at a directory.
      e.comment_overrun = e.end > size;
      e.end = std::min(e.end, size);
      e.entries = le16(p + 10);
      e.cd_size = le32(p + 12);
      e.cd_offset = le32(p + 16);
      read_zip64_end(e);
      found.push_back(e);
      if (found.size() > kMaxEndRecords) break;
    }
    if (found.empty()) {
      anomaly(
          v1::MEDIUM, "HOST-ZIP-NO-CENTRAL-DIRECTORY",
          "no end-of-central-directory record (truncated or stripped archive); members are found "
          "from local headers only",
          std::nullopt);
      return;
    }
    // Records that point at a central directory (or an empty archive) count; the rest is noise.
    for (auto& e : found) {
      if (e.entries == 0 && e.cd_size == 0) {
        if (e.comment_overrun) continue;  // a stray signature in data, not a record
        ends_.push_back(e);
        continue;
      }
      uint8_t sig[4];
      bool direct = read_exact(*s_, e.cd_offset, sig, 4) && le32(sig) == kCentralSig;
      if (!direct) {
        // Data prepended to the archive (self-extractors, polyglots): Python's zipfile shifts
        // every offset by the difference; do the same and say so.
        uint64_t where = e.zip64 ? zip64_record_pos_ : e.pos;
        if (where >= e.cd_size) {
          uint64_t cd = where - e.cd_size;
          if (cd > e.cd_offset && read_exact(*s_, cd, sig, 4) && le32(sig) == kCentralSig) {
            uint64_t shift = cd - e.cd_offset;
            anomaly(
                v1::MEDIUM, "HOST-ZIP-SHIFTED-OFFSETS",
                fmt::format("the archive's offsets are off by {} bytes: data was prepended to it "
                            "(some loaders compensate, others do not)",
                            shift),
                e.pos, {{"shift", std::to_string(shift)}});
            e.cd_offset = cd;
            e.shift = shift;
            direct = true;
          }
        }
      }
      if (direct && e.comment_overrun)
        anomaly(v1::MEDIUM, "HOST-ZIP-COMMENT-OVERRUN",
                "the end record declares a comment longer than the bytes after it: Python's "
                "zipfile opens "
                "the archive anyway, readers that check the length do not see it",
                e.pos);
      if (direct) ends_.push_back(e);
    }
    if (ends_.empty()) {
      anomaly(
          v1::MEDIUM, "HOST-ZIP-NO-CENTRAL-DIRECTORY",
          "no end record points at a central directory; members are found from local headers only",
          found.front().pos);
      return;
    }
    trailing_from_ = ends_.front().end;
  }

  void read_zip64_end(End& e) {
    if (e.pos < 20) return;
    uint8_t loc[20];
    if (!read_exact(*s_, e.pos - 20, loc, 20) || le32(loc) != kZip64LocatorSig) return;
    uint64_t rec = le64(loc + 8);
    uint8_t r[56];
    if (!read_exact(*s_, rec, r, 56) || le32(r) != kZip64EndSig) {
      // The locator's offset may be shifted by prepended data too: the record sits right before it.
      if (e.pos < 20 + 56) return;
      rec = e.pos - 20 - 56;
      if (!read_exact(*s_, rec, r, 56) || le32(r) != kZip64EndSig) return;
    }
    e.zip64 = true;
    zip64_record_pos_ = rec;
    e.entries = le64(r + 32);
    e.cd_size = le64(r + 40);
    e.cd_offset = le64(r + 48);
  }

  void read_directory(const End& e) {
    uint64_t pos = e.cd_offset, end = std::min<uint64_t>(e.cd_offset + e.cd_size, s_->size());
    if (e.cd_offset + e.cd_size > s_->size() || e.cd_offset + e.cd_size < e.cd_offset) {
      anomaly(v1::MEDIUM, "HOST-ZIP-TRUNCATED",
              "the central directory extends past the end of the stream", e.pos);
      end = s_->size();
    }
    cd_ranges_.push_back({e.cd_offset, std::max(e.end, end)});
    uint64_t count = 0;
    uint64_t shift = e.shift;
    std::vector<uint8_t> var;
    while (pos + 46 <= end) {
      budget_.check_cancel();
      uint8_t h[46];
      if (!read_exact(*s_, pos, h, 46) || le32(h) != kCentralSig) break;
      Entry en;
      en.in_directory = true;
      en.flags = le16(h + 8);
      en.method = le16(h + 10);
      en.crc = le32(h + 16);
      en.csize = le32(h + 20);
      en.usize = le32(h + 24);
      size_t nl = le16(h + 28), xl = le16(h + 30), cl = le16(h + 32);
      en.lho = le32(h + 42);
      var.resize(nl + xl);
      if (!read_exact(*s_, pos + 46, var.data(), nl + xl)) {
        anomaly(v1::MEDIUM, "HOST-ZIP-TRUNCATED", "a central directory entry is cut off", pos);
        error(fmt::format("central directory entry at offset {} is truncated", pos));
        break;
      }
      en.name.assign(reinterpret_cast<const char*>(var.data()), nl);
      apply_zip64_extra(var.data() + nl, xl, &en.usize, &en.csize, &en.lho, false);
      en.lho += shift;
      uint64_t at = pos;
      pos += 46 + nl + xl + cl;
      ++count;
      if (!seen_directory_.insert({en.lho, en.name}).second)
        continue;  // same entry, other end record
      if (budget_.members >= budget_.limits().max_members) {
        anomaly(v1::MEDIUM, "HOST-LIMIT-MEMBERS",
                fmt::format("more than {} members in this file; the rest are not scanned",
                            budget_.limits().max_members),
                at);
        error("member limit reached");
        return;
      }
      ++budget_.members;
      entries_.push_back(std::move(en));
      directory_offsets_.push_back(at);
    }
    if (count != e.entries)
      anomaly(v1::MEDIUM, "HOST-ZIP-ENTRY-COUNT-MISMATCH",
              fmt::format("the end record declares {} entries, the central directory holds {}",
                          e.entries, count),
              e.pos);
  }

  // True when `pos` lies in the data of a member listed so far.
  bool inside_member_data(uint64_t pos) {
    for (const auto& e : entries_) {
      auto l = read_local(e.lho);
      if (!l) continue;
      if (pos >= l->data && pos - l->data < std::max(e.csize, l->csize)) return true;
    }
    return false;
  }

  std::optional<Local> read_local(uint64_t pos) {
    if (auto it = locals_.find(pos); it != locals_.end()) return it->second;
    // One read covers the fixed header and, usually, the name and extra field.
    uint8_t buf[30 + 226];
    if (pos > s_->size()) return std::nullopt;
    size_t got = s_->read_at(pos, buf,
                             static_cast<size_t>(std::min<uint64_t>(sizeof buf, s_->size() - pos)));
    if (got < 30 || le32(buf) != kLocalSig) return std::nullopt;
    const uint8_t* h = buf;
    Local l;
    l.pos = pos;
    l.flags = le16(h + 6);
    l.method = le16(h + 8);
    l.crc = le32(h + 14);
    l.csize = le32(h + 18);
    l.usize = le32(h + 22);
    size_t nl = le16(h + 26), xl = le16(h + 28);
    std::vector<uint8_t> var(nl + xl);
    // An empty name and no extra field leave `var` without storage (data() may be null).
    if (var.empty()) {
    } else if (30 + var.size() <= got) {
      std::memcpy(var.data(), buf + 30, var.size());
    } else if (!read_exact(*s_, pos + 30, var.data(), var.size())) {
      return std::nullopt;
    }
    l.name.assign(reinterpret_cast<const char*>(var.data()), nl);
    if (l.csize == 0xffffffffu || l.usize == 0xffffffffu) {
      l.zip64 = true;
      apply_zip64_extra(var.data() + nl, xl, &l.usize, &l.csize, nullptr, true);
    }
    l.data = pos + 30 + nl + xl;
    return l;
  }

  // Size of a data descriptor at `pos` (optional signature; 32- or 64-bit sizes).
  uint64_t descriptor_size(uint64_t pos, bool zip64) {
    uint8_t sig[4];
    bool has_sig = read_exact(*s_, pos, sig, 4) && le32(sig) == kDescriptorSig;
    return (has_sig ? 4 : 0) + 4 + (zip64 ? 16 : 8);
  }

  // Where a local-header walk goes after the member at `l` (0 when it cannot tell).
  uint64_t next_after(const Local& l, const Entry* dir) {
    uint64_t csize = l.csize;
    if ((l.flags & kFlagDescriptor) != 0 && csize == 0) {
      if (dir == nullptr) return 0;  // a streaming reader would have to inflate to find the end
      csize = dir->csize;
    }
    uint64_t end = l.data + csize;
    if (end < l.data || end > s_->size()) return 0;
    if ((l.flags & kFlagDescriptor) != 0)
      end += descriptor_size(end, l.zip64 || (dir && dir->csize > 0xfffffffeu));
    return end;
  }

  void walk_local_headers() {
    std::map<uint64_t, size_t> by_offset;
    for (size_t i = 0; i < entries_.size(); ++i) by_offset.emplace(entries_[i].lho, i);
    std::vector<uint64_t> work;
    uint8_t sig[4];
    if (read_exact(*s_, 0, sig, 4) && le32(sig) == kLocalSig) work.push_back(0);
    for (const auto& e : entries_) work.push_back(e.lho);
    // Local headers in bytes that no entry and no directory accounts for (hidden members).
    scan_gaps_for_headers(work);
    std::set<uint64_t> visited;
    while (!work.empty()) {
      budget_.check_cancel();
      uint64_t pos = work.back();
      work.pop_back();
      if (!visited.insert(pos).second) continue;
      auto l = read_local(pos);
      auto it = by_offset.find(pos);
      const Entry* dir = it == by_offset.end() ? nullptr : &entries_[it->second];
      if (!l) {
        if (dir)
          anomaly(v1::HIGH, "HOST-ZIP-BAD-LOCAL-HEADER",
                  fmt::format("entry '{}' points at offset {} where there is no local header",
                              printable(dir->name), pos),
                  pos);
        continue;
      }
      if (in_directory_range(pos)) continue;  // a signature inside the central directory bytes
      if (dir == nullptr) {
        if (budget_.members >= budget_.limits().max_members) {
          error("member limit reached");
          break;
        }
        ++budget_.members;
        Entry h;
        h.name = l->name;
        h.flags = l->flags;
        h.method = l->method;
        h.crc = l->crc;
        h.csize = l->csize;
        h.usize = l->usize;
        h.lho = pos;
        hidden_.push_back(entries_.size());
        by_offset.emplace(pos, entries_.size());
        entries_.push_back(h);
        dir = &entries_.back();
        anomaly(
            v1::HIGH, "HOST-ZIP-HIDDEN-MEMBER",
            fmt::format(
                "local header for '{}' at offset {} is not listed in the central directory: "
                "streaming extractors see a member that directory-based tools hide; scanned anyway",
                printable(l->name), pos),
            pos, {{"member", printable(l->name)}});
      }
      locals_[pos] = *l;
      if (uint64_t next = next_after(*l, dir); next != 0 && next + 4 <= s_->size())
        work.push_back(next);
    }
  }

  bool in_directory_range(uint64_t pos) const {
    for (const auto& [a, b] : cd_ranges_)
      if (pos >= a && pos < b) return true;
    return false;
  }

  // Searches the bytes between known entries (bounded: only bytes nothing accounts for) for
  // local header signatures.
  void scan_gaps_for_headers(std::vector<uint64_t>& work) {
    std::vector<std::pair<uint64_t, uint64_t>> covered = cd_ranges_;
    for (const auto& e : entries_) {
      auto l = read_local(e.lho);
      if (!l) continue;
      uint64_t end = l->data + std::max(e.csize, l->csize);
      covered.push_back({e.lho, std::min(std::max(end, l->data), s_->size())});
    }
    std::sort(covered.begin(), covered.end());
    uint64_t pos = 0;
    auto search = [&](uint64_t a, uint64_t b) {
      for (uint64_t off = a; off + 4 <= b;) {
        budget_.check_cancel();
        uint64_t n = std::min<uint64_t>(b - off, 1 << 20);
        std::vector<uint8_t> copy(n);
        n = s_->read_at(off, copy.data(), n);
        const uint8_t* p = copy.data();
        if (n < 4) break;
        for (uint64_t i = 0; i + 4 <= n; ++i)
          if (p[i] == 'P' && le32(p + i) == kLocalSig) work.push_back(off + i);
        off += n - 3;
      }
    };
    for (const auto& [a, b] : covered) {
      if (a > pos) search(pos, a);
      pos = std::max(pos, b);
    }
    uint64_t last = trailing_from_ ? trailing_from_ : s_->size();
    if (pos < last) search(pos, last);
  }

  void check_layout() {
    // Disagreements between each directory entry and its local header.
    for (size_t i = 0; i < entries_.size(); ++i) {
      auto& e = entries_[i];
      auto it = locals_.find(e.lho);
      if (it == locals_.end() || !e.in_directory) continue;
      const Local& l = it->second;
      std::string n = printable(e.name);
      if (l.name != e.name)
        anomaly(v1::HIGH, "HOST-ZIP-NAME-MISMATCH",
                fmt::format("central directory names the member '{}', its local header '{}'", n,
                            printable(l.name)),
                e.lho, {{"directory_name", n}, {"local_name", printable(l.name)}});
      if (l.method != e.method)
        anomaly(v1::HIGH, "HOST-ZIP-METHOD-MISMATCH",
                fmt::format(
                    "'{}': compression method {} in the directory, {} in the local header; both "
                    "readings are scanned",
                    n, e.method, l.method),
                e.lho);
      bool descriptor = (l.flags & kFlagDescriptor) != 0;
      if (!descriptor && (l.csize != e.csize || l.usize != e.usize))
        anomaly(v1::HIGH, "HOST-ZIP-SIZE-MISMATCH",
                fmt::format(
                    "'{}': sizes {}/{} (compressed/uncompressed) in the directory, {}/{} in the "
                    "local header; both readings are scanned",
                    n, e.csize, e.usize, l.csize, l.usize),
                e.lho);
      if (!descriptor && l.crc != e.crc)
        anomaly(v1::MEDIUM, "HOST-ZIP-CRC-DISAGREEMENT",
                fmt::format("'{}': CRC {:08x} in the directory, {:08x} in the local header", n,
                            e.crc, l.crc),
                e.lho);
      uint16_t relevant =
          kFlagEncrypted | kFlagDescriptor | kFlagStrongEncryption | kFlagMaskedHeader;
      if ((l.flags & relevant) != (e.flags & relevant))
        anomaly(
            v1::MEDIUM, "HOST-ZIP-FLAGS-MISMATCH",
            fmt::format(
                "'{}': general-purpose flags {:#06x} in the directory, {:#06x} in the local header",
                n, e.flags, l.flags),
            e.lho);
    }
    // Flags, names and duplicates.
    std::map<std::string, int> names;
    for (auto& e : entries_) {
      uint16_t f = e.flags;
      auto lit = locals_.find(e.lho);
      if (lit != locals_.end()) f |= lit->second.flags;
      std::string n = printable(e.name);
      if ((f & (kFlagEncrypted | kFlagStrongEncryption | kFlagMaskedHeader)) != 0)
        anomaly(
            v1::MEDIUM, "HOST-ZIP-ENCRYPTED",
            fmt::format("'{}' is encrypted (flags {:#06x}): its content cannot be scanned", n, f),
            e.lho);
      // Data descriptors are normal (PyTorch's writer uses them); one that contradicts the
      // directory is not.
      if ((f & kFlagDescriptor) != 0 && e.in_directory && lit != locals_.end())
        check_descriptor(e, lit->second);
      if (!e.name.empty() &&
          (e.name[0] == '/' || e.name.find("..") != std::string::npos ||
           e.name.find('\\') != std::string::npos || e.name.find('\0') != std::string::npos))
        anomaly(
            v1::MEDIUM, "HOST-ZIP-SUSPICIOUS-NAME",
            fmt::format("member name '{}' is absolute, climbs directories or holds NUL/backslash "
                        "(path traversal on extraction)",
                        n),
            e.lho);
      if (++names[e.name] == 2)
        anomaly(v1::HIGH, "HOST-ZIP-DUPLICATE-NAME",
                fmt::format(
                    "several members are named '{}': loaders disagree on which one they load; all "
                    "are scanned",
                    n),
                e.lho, {{"member", n}});
    }
    // Overlapping members (zip bombs that reuse one payload, or members hidden inside others).
    struct Span {
      uint64_t a, b;
      size_t i;
    };
    std::vector<Span> spans;
    for (size_t i = 0; i < entries_.size(); ++i) {
      auto lit = locals_.find(entries_[i].lho);
      if (lit == locals_.end()) continue;
      uint64_t csize = std::max(entries_[i].csize,
                                (lit->second.flags & kFlagDescriptor) ? 0 : lit->second.csize);
      spans.push_back({entries_[i].lho, lit->second.data + csize, i});
    }
    std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) { return x.a < y.a; });
    uint64_t reach = 0;
    size_t reach_i = 0;
    for (size_t k = 0; k < spans.size(); ++k) {
      if (k > 0 && spans[k].a < reach)
        anomaly(v1::HIGH, "HOST-ZIP-OVERLAPPING-MEMBERS",
                fmt::format(
                    "member '{}' at offset {} overlaps member '{}': overlapping entries are a zip "
                    "bomb and hiding technique",
                    printable(entries_[spans[k].i].name), spans[k].a,
                    printable(entries_[reach_i].name)),
                spans[k].a);
      if (spans[k].b > reach) {
        reach = spans[k].b;
        reach_i = spans[k].i;
      }
      if (spans[k].b > s_->size())
        anomaly(v1::MEDIUM, "HOST-ZIP-TRUNCATED",
                fmt::format("member '{}' extends {} bytes past the end of the stream",
                            printable(entries_[spans[k].i].name), spans[k].b - s_->size()),
                spans[k].a);
      for (const auto& [ca, cb] : cd_ranges_)
        if (spans[k].a < cb && spans[k].b > ca)
          anomaly(v1::HIGH, "HOST-ZIP-OVERLAPPING-MEMBERS",
                  fmt::format("member '{}' overlaps the central directory",
                              printable(entries_[spans[k].i].name)),
                  spans[k].a);
    }
    // Bytes before the first member and after the end record: polyglots and appended payloads.
    uint64_t first =
        spans.empty() ? (ends_.empty() ? s_->size() : ends_.back().cd_offset) : spans.front().a;
    if (!ends_.empty() || !spans.empty()) {
      first = std::min(first, s_->size());
      if (first > 0) {
        prefix_ = first;
        anomaly(
            v1::MEDIUM, "HOST-ZIP-PREFIX-DATA",
            fmt::format("{} bytes before the first member (a file that is both a zip and something "
                        "else); they are scanned as their own stream",
                        first),
            0);
      }
      if (trailing_from_ != 0 && trailing_from_ < s_->size())
        anomaly(v1::MEDIUM, "HOST-ZIP-TRAILING-DATA",
                fmt::format("{} bytes after the end record; they are scanned as their own stream",
                            s_->size() - trailing_from_),
                trailing_from_);
    }
  }

  void check_descriptor(const Entry& e, const Local& l) {
    uint64_t at = l.data + e.csize;
    uint8_t d[28];
    if (at < l.data ||
        !read_exact(*s_, at, d,
                    std::min<uint64_t>(sizeof d, s_->size() - std::min(at, s_->size()))))
      return;
    size_t avail = static_cast<size_t>(std::min<uint64_t>(sizeof d, s_->size() - at));
    size_t k = (avail >= 4 && le32(d) == kDescriptorSig) ? 4 : 0;
    bool wide = l.zip64 || e.csize > 0xfffffffeu || e.usize > 0xfffffffeu;
    if (avail < k + (wide ? 20 : 12)) return;
    uint32_t crc = le32(d + k);
    uint64_t csize = wide ? le64(d + k + 4) : le32(d + k + 4);
    uint64_t usize = wide ? le64(d + k + 12) : le32(d + k + 8);
    if (crc != e.crc || csize != e.csize || usize != e.usize)
      anomaly(v1::MEDIUM, "HOST-ZIP-DESCRIPTOR-MISMATCH",
              fmt::format(
                  "'{}': the data descriptor says CRC {:08x}, sizes {}/{}; the directory says CRC "
                  "{:08x}, sizes {}/{} (streaming extractors believe the descriptor)",
                  printable(e.name), crc, csize, usize, e.crc, e.csize, e.usize),
              at);
  }

  void add_member(std::string name, uint64_t header, uint16_t method, uint16_t flags, uint64_t data,
                  uint64_t csize, uint64_t usize, uint32_t crc) {
    Member m;
    m.name = std::move(name);
    m.offset = header;
    auto s = s_;
    m.open = [s, method, flags, data, csize, usize, crc, label = m.name](Budget& b) {
      Opened o;
      if ((flags & (kFlagEncrypted | kFlagStrongEncryption | kFlagMaskedHeader)) != 0) {
        o.error = "encrypted member: content not scanned";
        return o;
      }
      uint64_t start = std::min(data, s->size());
      uint64_t len = std::min(csize, s->size() - start);
      std::string cut =
          len < csize ? fmt::format("member data truncated: {} of {} bytes present", len, csize)
                      : "";
      switch (method) {
        case 0:
          o.stream = std::make_shared<SubStream>(s, start, len);
          o.error = cut;
          if (cut.empty()) o.crc_to_verify = crc;
          (void)usize;
          return o;
        case 8:
          o = decompress(Codec::deflate_raw, s, start, len, b,
                         cut.empty() ? std::optional<uint32_t>(crc) : std::nullopt);
          break;
        case 12:
          o = decompress(Codec::bzip2, s, start, len, b,
                         cut.empty() ? std::optional<uint32_t>(crc) : std::nullopt);
          break;
        case 14:
          o = decompress(Codec::lzma_zip, s, start, len, b,
                         cut.empty() ? std::optional<uint32_t>(crc) : std::nullopt);
          break;
        default:
          o.error =
              fmt::format("compression method {} is not supported; content not scanned", method);
          return o;
      }
      if (o.error.empty()) o.error = cut;
      return o;
    };
    out_.members.push_back(std::move(m));
  }

  void build_members() {
    if (prefix_ > 0) {
      Member m;
      m.name = "[data before zip]";
      m.offset = 0;
      m.is_prefix = true;
      auto s = s_;
      uint64_t n = prefix_;
      m.open = [s, n](Budget&) { return Opened{std::make_shared<SubStream>(s, 0, n)}; };
      out_.members.push_back(std::move(m));
    }
    std::map<std::string, int> seen;
    for (auto& e : entries_) {
      budget_.check_cancel();
      auto lit = locals_.find(e.lho);
      if (lit == locals_.end()) continue;  // no local header: reported, nothing a loader could read
      const Local& l = lit->second;
      std::string name = e.name;
      if (int k = ++seen[e.name]; k > 1)
        name += fmt::format(" [duplicate #{} at offset {}]", k, e.lho);
      if (!e.in_directory) name += " [hidden]";
      add_member(name, e.lho, e.method, e.flags | l.flags, l.data, e.csize, e.usize, e.crc);
      // A local header that reads differently: expose that reading too (streaming extractors).
      bool descriptor = (l.flags & kFlagDescriptor) != 0;
      if (e.in_directory && (l.method != e.method || (!descriptor && l.csize != e.csize)))
        add_member(e.name + " [as the local header says]", e.lho, l.method, l.flags, l.data,
                   descriptor ? e.csize : l.csize, l.usize, l.crc);
    }
    if (trailing_from_ != 0 && trailing_from_ < s_->size()) {
      Member m;
      m.name = "[data after zip]";
      m.offset = trailing_from_;
      auto s = s_;
      uint64_t a = trailing_from_;
      m.open = [s, a](Budget&) { return Opened{std::make_shared<SubStream>(s, a, s->size() - a)}; };
      out_.members.push_back(std::move(m));
    }
    if (out_.members.empty() && ends_.empty() && out_.error.empty())
      error("not a zip archive: no end record and no local header");
  }

  std::shared_ptr<const Stream> s_;
  Budget& budget_;
  Expansion out_;
  std::vector<End> ends_;
  std::vector<Entry> entries_;
  std::vector<uint64_t> directory_offsets_;
  std::vector<size_t> hidden_;
  std::set<std::pair<uint64_t, std::string>> seen_directory_;
  std::map<uint64_t, Local> locals_;
  std::vector<std::pair<uint64_t, uint64_t>> cd_ranges_;
  std::map<std::string, uint64_t> rule_counts_;
  uint64_t zip64_record_pos_ = 0;
  uint64_t trailing_from_ = 0;
  uint64_t prefix_ = 0;
};

}  // namespace

Expansion read_zip(const std::shared_ptr<const Stream>& stream, Budget& budget) {
  return ZipReader(stream, budget).run();
}

}  // namespace secmlops::host::containers
