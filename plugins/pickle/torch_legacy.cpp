// A legacy torch.save file (not zip): five pickles — magic number, protocol version, sys_info,
// the model, the storage keys — then each storage's raw bytes in key order, sized by the
// element type the model pickle gave it (torch_hook.cpp collects both).
#include "format_scans.hpp"

#include <algorithm>
#include <cstring>

namespace secmlops::plugins::pickle {

bool scan_torch_legacy(ScanState& s) {
  uint64_t size = s.cursor.size();
  uint64_t pos = 0;
  static const char* kParts[] = {"torch legacy magic number", "torch legacy protocol version",
                                 "torch legacy sys_info", "torch legacy model",
                                 "torch legacy storage keys"};
  for (int part = 0; part < 5; ++part) {
    if (pos >= size) {
      emit(s, "TORCH-LEGACY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
           std::string("file ends before the ") + kParts[part] + " pickle", pos, "torch legacy");
      return part >= 4;
    }
    s.collect_storages = part == 3;
    s.collect_strings = part == 4;
    PickleResult r = parse_pickle(s, pos, size, kParts[part]);
    s.collect_storages = false;
    s.collect_strings = false;
    if (!r.complete) return false;
    pos = r.end;
  }
  // Raw storages, in the order of the key list: int64 element count, then the elements.
  for (const std::string& key : s.strings) {
    auto it = s.storages.find(key);
    if (it == s.storages.end() || it->second.element_size == 0) {
      emit(s, "TORCH-LEGACY-STORAGE-UNKNOWN", SECMLOPS_SEVERITY_MEDIUM,
           "storage '" + key +
               "' has no known element type in the model pickle; the rest of the file was not "
               "analysed",
           pos, "torch legacy storages");
      return false;
    }
    const uint8_t* p = s.cursor.try_at(pos, 8);
    if (p == nullptr) {
      emit(s, "TORCH-LEGACY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
           "file ends inside the storage of '" + key + "'", pos, "torch legacy storages");
      return true;
    }
    uint64_t numel = 0;
    std::memcpy(&numel, p, 8);
    uint64_t bytes = numel;
    if (!checked_mul(bytes, it->second.element_size) || pos + 8 > size || bytes > size - pos - 8) {
      emit(s, "TORCH-LEGACY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
           "storage '" + key + "' (" + std::to_string(numel) +
               " elements) runs past the end of the file",
           pos, "torch legacy storages");
      return true;
    }
    pos += 8 + bytes;  // skipped by offset
  }
  if (pos < size) {
    const uint8_t* p = s.cursor.try_at(pos, std::min<uint64_t>(size - pos, 2));
    if (p != nullptr && size - pos >= 2 && p[0] == 0x80 && p[1] <= 5) {
      emit(s, "TORCH-LEGACY-TRAILING-PICKLE", SECMLOPS_SEVERITY_HIGH,
           "a pickle follows the storages (analysed)", pos, "after torch legacy storages");
      return scan_pickle_stream(s, pos, size, "after torch legacy storages");
    }
    inspect_trailing(s, pos, size, "the storages", "torch legacy");
  }
  return true;
}

}  // namespace secmlops::plugins::pickle
