// A tar reader (v7, ustar, GNU long names, pax headers) for legacy PyTorch checkpoints and
// tarballs of models. Members are windows on the stream (zero-copy).
#include "containers/bytes.hpp"
#include "containers/tar_header.hpp"
#include "secmlops/host/containers.hpp"
#include "secmlops/v1/report.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace secmlops::host::containers {

std::optional<uint64_t> tar_number(const uint8_t* p, size_t n) {
  if (n == 0) return std::nullopt;
  if ((p[0] & 0x80) != 0) {                       // GNU base-256
    if ((p[0] & 0x40) != 0) return std::nullopt;  // negative
    uint64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < n; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | p[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == 0)) ++i;
  uint64_t v = 0;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + (p[i] - '0');
    any = true;
  }
  for (; i < n; ++i)
    if (p[i] != ' ' && p[i] != 0) return std::nullopt;
  return any ? std::optional<uint64_t>(v) : std::nullopt;
}

bool tar_checksum_ok(const uint8_t* h) {
  auto declared = tar_number(h + 148, 8);
  if (!declared) return false;
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    uint8_t c = (i >= 148 && i < 156) ? ' ' : h[i];
    unsigned_sum += c;
    signed_sum += static_cast<int8_t>(c);
  }
  // An all-zero block sums to 256 (the spaces): never a header.
  return unsigned_sum != 256 &&
         (*declared == unsigned_sum || static_cast<int64_t>(*declared) == signed_sum);
}

namespace {

constexpr uint64_t kMaxMetaSize = 1 << 20;  // long names and pax records

std::string field(const uint8_t* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len] != 0) ++len;
  return std::string(reinterpret_cast<const char*>(p), len);
}

// Parses "LEN key=value\n" records; returns false on malformed input.
bool parse_pax(const std::string& data, std::map<std::string, std::string>& out) {
  size_t i = 0;
  while (i < data.size()) {
    size_t sp = data.find(' ', i);
    if (sp == std::string::npos) return false;
    uint64_t len = 0;
    for (size_t k = i; k < sp; ++k) {
      if (data[k] < '0' || data[k] > '9' || len > data.size()) return false;
      len = len * 10 + static_cast<uint64_t>(data[k] - '0');
    }
    if (len <= sp - i || i + len > data.size() || data[i + len - 1] != '\n') return false;
    std::string rec = data.substr(sp + 1, i + len - sp - 2);
    size_t eq = rec.find('=');
    if (eq == std::string::npos) return false;
    out[rec.substr(0, eq)] = rec.substr(eq + 1);
    i += len;
  }
  return true;
}

}  // namespace

Expansion read_tar(const std::shared_ptr<const Stream>& s, Budget& budget) {
  Expansion out;
  out.kind = Kind::tar;
  uint64_t size = s->size();
  uint64_t pos = 0;
  std::string long_name;
  std::map<std::string, std::string> pax, global_pax;
  std::map<std::string, int> names;
  bool ended = false;
  while (pos + 512 <= size) {
    budget.check_cancel();
    uint8_t h[512];
    if (!read_exact(*s, pos, h, 512)) break;
    if (std::all_of(h, h + 512, [](uint8_t c) { return c == 0; })) {
      ended = true;
      break;
    }
    if (!tar_checksum_ok(h)) {
      out.anomalies.push_back(
          {v1::MEDIUM, "HOST-TAR-BAD-HEADER",
           fmt::format("tar header checksum mismatch at offset {}; the archive is read up to here",
                       pos),
           pos});
      out.error = fmt::format("bad tar header at offset {}", pos);
      break;
    }
    char type = static_cast<char>(h[156]);
    auto declared = tar_number(h + 124, 12);
    if (!declared) {
      out.anomalies.push_back({v1::MEDIUM, "HOST-TAR-BAD-HEADER",
                               fmt::format("unreadable size field at offset {}", pos), pos});
      out.error = fmt::format("bad tar size field at offset {}", pos);
      break;
    }
    uint64_t len = *declared;
    if (auto it = pax.find("size"); it != pax.end()) {
      try {
        len = std::stoull(it->second);
      } catch (...) {
        out.anomalies.push_back({v1::MEDIUM, "HOST-TAR-BAD-HEADER", "unreadable pax size", pos});
      }
    }
    uint64_t data = pos + 512;
    uint64_t padded = len > UINT64_MAX - 511 ? UINT64_MAX : (len + 511) / 512 * 512;
    uint64_t next = data + padded < data ? UINT64_MAX : data + padded;
    if (type == 'L' || type == 'x' || type == 'g' || type == 'K') {
      if (len > kMaxMetaSize || next > size) {
        out.anomalies.push_back(
            {v1::MEDIUM, "HOST-TAR-BAD-HEADER",
             fmt::format("extended header of {} bytes at offset {} is oversized or truncated", len,
                         pos),
             pos});
        out.error = "bad tar extended header";
        break;
      }
      std::string meta(static_cast<size_t>(len), '\0');
      read_exact(*s, data, meta.data(), meta.size());
      if (type == 'L') {
        long_name = meta.substr(0, meta.find('\0'));
      } else if (type == 'x' || type == 'g') {
        auto& target = type == 'x' ? pax : global_pax;
        if (!parse_pax(meta, target))
          out.anomalies.push_back({v1::MEDIUM, "HOST-TAR-BAD-HEADER",
                                   fmt::format("malformed pax header at offset {}", pos), pos});
      }
      pos = next;
      continue;
    }
    std::string name = field(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0) {
      std::string prefix = field(h + 345, 155);
      if (!prefix.empty() && h[263] == '0') name = prefix + "/" + name;  // POSIX ustar, not GNU
    }
    if (!long_name.empty()) name = long_name;
    if (auto it = pax.find("path"); it != pax.end())
      name = it->second;
    else if (auto g = global_pax.find("path"); g != global_pax.end())
      name = g->second;
    long_name.clear();
    pax.clear();
    if (type == '0' || type == '\0' || type == '7') {
      if (budget.members >= budget.limits().max_members) {
        out.anomalies.push_back(
            {v1::MEDIUM, "HOST-LIMIT-MEMBERS",
             fmt::format("more than {} members in this file; the rest are not scanned",
                         budget.limits().max_members),
             pos});
        out.error = "member limit reached";
        break;
      }
      ++budget.members;
      uint64_t avail = data <= size ? std::min(len, size - data) : 0;
      if (avail < len)
        out.anomalies.push_back({v1::MEDIUM, "HOST-TAR-TRUNCATED",
                                 fmt::format("member '{}' declares {} bytes, {} are present",
                                             printable(name), len, avail),
                                 pos});
      if (!name.empty() && (name[0] == '/' || name.find("..") != std::string::npos))
        out.anomalies.push_back(
            {v1::MEDIUM, "HOST-TAR-SUSPICIOUS-NAME",
             fmt::format("member name '{}' is absolute or climbs directories", printable(name)),
             pos});
      std::string shown = name;
      if (int k = ++names[name]; k > 1) {
        out.anomalies.push_back(
            {v1::HIGH, "HOST-TAR-DUPLICATE-NAME",
             fmt::format(
                 "several members are named '{}': extraction keeps the last; all are scanned",
                 printable(name)),
             pos});
        shown += fmt::format(" [duplicate #{} at offset {}]", k, pos);
      }
      Member m;
      m.name = shown;
      m.offset = pos;
      uint64_t start = std::min(data, size);
      std::string cut =
          avail < len ? fmt::format("member truncated: {} of {} bytes present", avail, len) : "";
      m.open = [s, start, avail, cut](Budget&) {
        Opened o;
        o.stream = std::make_shared<SubStream>(s, start, avail);
        o.error = cut;
        return o;
      };
      out.members.push_back(std::move(m));
    }
    if (next >= size) {
      pos = size;
      break;
    }
    pos = next;
  }
  if (!ended && out.error.empty())
    out.anomalies.push_back(
        {v1::LOW, "HOST-TAR-TRUNCATED", "the archive ends without its end-of-archive blocks", pos});
  if (ended) {
    // Anything but zero padding after the end marker is data no extractor shows.
    uint64_t tail = pos + 1024;
    uint8_t buf[4096];
    for (uint64_t off = std::min(tail, size); off < size;) {
      size_t n = s->read_at(off, buf, sizeof buf);
      if (n == 0) break;
      if (auto* nz = std::find_if(buf, buf + n, [](uint8_t c) { return c != 0; }); nz != buf + n) {
        tail = off + static_cast<uint64_t>(nz - buf);
        out.anomalies.push_back({v1::MEDIUM, "HOST-TAR-TRAILING-DATA",
                                 fmt::format("non-zero bytes after the end of the archive at "
                                             "offset {}; scanned as their own stream",
                                             tail),
                                 tail});
        Member m;
        m.name = "[data after tar]";
        m.offset = tail;
        m.open = [s, tail](Budget&) {
          return Opened{std::make_shared<SubStream>(s, tail, s->size() - tail)};
        };
        out.members.push_back(std::move(m));
        break;
      }
      off += n;
      budget.check_cancel();
    }
  }
  return out;
}

}  // namespace secmlops::host::containers
