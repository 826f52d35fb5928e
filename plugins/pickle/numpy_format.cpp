// A .npy file: its header, then either an object array — a pickle that numpy.load runs with
// allow_pickle=True, scanned — or the array bytes, skipped by size; whatever follows them is
// described (a pickle there is scanned).
#include "format_scans.hpp"
#include "formats.hpp"

#include <algorithm>

namespace secmlops::plugins::pickle {

bool scan_numpy(ScanState& s) {
  uint64_t size = s.cursor.size();
  const uint8_t* head = s.cursor.try_at(0, std::min<uint64_t>(size, 12));
  auto bad = [&](const std::string& why, uint64_t off) {
    emit(s, "NUMPY-HEADER-INVALID", SECMLOPS_SEVERITY_MEDIUM, "invalid .npy header: " + why, off,
         "npy header");
    return false;
  };
  if (head == nullptr || size < 10) return bad("file shorter than the header", 0);
  uint32_t major = head[6];
  uint64_t hlen = 0, prefix = 0;
  if (major == 1) {
    hlen = head[8] | (head[9] << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return bad("file shorter than the header", 0);
    hlen = uint64_t{head[8]} | (uint64_t{head[9]} << 8) | (uint64_t{head[10]} << 16) |
           (uint64_t{head[11]} << 24);
    prefix = 12;
  } else {
    return bad("unsupported format version " + std::to_string(major), 6);
  }
  if (hlen > (1u << 20)) return bad("header length " + std::to_string(hlen) + " exceeds 1 MiB", 8);
  if (prefix + hlen > size) return bad("header runs past the end of the file", 8);
  const uint8_t* h = s.cursor.try_at(0, prefix + hlen);
  NpyHeader hdr;
  if (auto err = parse_npy_header(h, prefix + hlen, hdr)) return bad(*err, prefix);
  uint64_t data = hdr.data_offset;
  if (hdr.has_object) {
    emit(s, "NUMPY-OBJECT-ARRAY", SECMLOPS_SEVERITY_LOW,
         "object array: its data is a pickle that numpy.load runs with allow_pickle=True (analysed "
         "below)",
         data, "npy data", {{"descr", hdr.descr}});
    ++s.depth;
    bool ok = scan_pickle_stream(s, data, size, "npy object array");
    --s.depth;
    return ok;
  }
  uint64_t expected = hdr.itemsize;
  for (uint64_t d : hdr.shape)
    if (!checked_mul(expected, d)) return bad("shape × item size overflows", prefix);
  uint64_t actual = size - data;
  if (actual < expected) {
    emit(s, "NUMPY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
         "array data holds " + std::to_string(actual) + " bytes but shape × item size needs " +
             std::to_string(expected),
         data, "npy data", {{"descr", hdr.descr}});
    return true;
  }
  if (actual > expected) {
    uint64_t tail = data + expected;
    const uint8_t* p = s.cursor.try_at(tail, std::min<uint64_t>(size - tail, 2));
    if (p != nullptr && size - tail >= 2 && p[0] == 0x80 && p[1] <= 5) {
      emit(s, "NUMPY-TRAILING-DATA", SECMLOPS_SEVERITY_HIGH,
           "a pickle follows the array data (analysed)", tail, "after npy data",
           {{"bytes", std::to_string(size - tail)}});
      ++s.depth;
      bool ok = scan_pickle_stream(s, tail, size, "after npy data");
      --s.depth;
      return ok;
    }
    inspect_trailing(s, tail, size, "the array data", "npy");
  }
  return true;  // the array bytes themselves are never read
}

}  // namespace secmlops::plugins::pickle
