// Where decompressed bytes go: member, total, ratio and spill limits checked after every chunk,
// shared by the codecs of decompress.cpp and the libarchive formats (archive_reader.cpp).
#pragma once

#include "containers/spill_stream.hpp"
#include "secmlops/host/containers.hpp"
#include "secmlops/v1/report.pb.h"

#include <fmt/format.h>
#include <zlib.h>

#include <functional>
#include <optional>

namespace secmlops::host::containers {

struct LimitStop {};

// Receives output chunks, enforcing limits; throws LimitStop once a limit is reached (the bytes
// up to the limit are kept).
class Output {
 public:
  Output(Budget& b, std::function<uint64_t()> consumed, std::optional<uint32_t> crc)
      : budget_(b),
        consumed_(std::move(consumed)),
        buf_(b.limits().memory_threshold, b.limits().max_spill_bytes),
        want_crc_(crc) {}

  void put(const uint8_t* p, size_t n) {
    if (n == 0) return;
    budget_.check_cancel();
    const auto& L = budget_.limits();
    uint64_t allowed = n;
    std::optional<Anomaly> hit;
    uint64_t out = buf_.size();
    if (out + n > L.max_member_size) {
      allowed = L.max_member_size - out;
      hit = Anomaly{v1::MEDIUM, "HOST-LIMIT-MEMBER-SIZE",
                    fmt::format("decompressed member exceeds the per-member limit of {} bytes; "
                                "only that prefix is scanned",
                                L.max_member_size)};
    }
    uint64_t left =
        L.max_total_decompressed - std::min(L.max_total_decompressed, budget_.decompressed);
    if (allowed > left) {
      allowed = left;
      hit = Anomaly{v1::MEDIUM, "HOST-LIMIT-TOTAL-SIZE",
                    fmt::format("decompressed bytes of this file exceed the limit of {} bytes; "
                                "decompression stopped",
                                L.max_total_decompressed)};
    }
    // Against the compressed bytes consumed so far, not the stream's length: a long stream of
    // zeros must not be allowed max_ratio times its whole length before the check fires.
    const uint64_t consumed = consumed_();
    double ratio_cap = L.max_ratio * static_cast<double>(std::max<uint64_t>(consumed, 1));
    if (out + allowed > L.ratio_floor && static_cast<double>(out + allowed) > ratio_cap) {
      uint64_t cap = std::max<uint64_t>(L.ratio_floor, static_cast<uint64_t>(ratio_cap));
      allowed = cap > out ? std::min<uint64_t>(allowed, cap - out) : 0;
      hit = Anomaly{v1::MEDIUM, "HOST-LIMIT-RATIO",
                    fmt::format("compression ratio above {} (compressed {} bytes inflate past {} "
                                "bytes): likely a decompression bomb; decompression stopped",
                                L.max_ratio, consumed, out + allowed)};
    }
    try {
      buf_.append(p, static_cast<size_t>(allowed));
    } catch (const SpillBudgetExceeded& e) {
      limit_ = Anomaly{v1::MEDIUM, "HOST-LIMIT-SPILL",
                       std::string(e.what()) + "; decompression stopped"};
      throw LimitStop{};
    }
    budget_.decompressed += allowed;
    if (want_crc_) crc_ = ::crc32(crc_, p, static_cast<uInt>(allowed));
    if (hit) {
      limit_ = std::move(hit);
      throw LimitStop{};
    }
  }

  Opened finish(std::string error) {
    Opened o;
    o.error = std::move(error);
    o.limit = std::move(limit_);
    if (want_crc_ && o.error.empty() && !o.limit && static_cast<uint32_t>(crc_) != *want_crc_)
      o.anomalies.push_back(
          Anomaly{v1::MEDIUM, "HOST-ZIP-CRC-MISMATCH",
                  fmt::format("CRC-32 of the inflated member is {:08x}, the archive "
                              "declares {:08x}: the member was altered after "
                              "archiving (loaders that check CRCs reject it)",
                              static_cast<uint32_t>(crc_), *want_crc_)});
    o.stream = buf_.finish();
    return o;
  }

 private:
  Budget& budget_;
  std::function<uint64_t()> consumed_;  // compressed bytes read so far (for the ratio)
  SpillBuffer buf_;
  std::optional<uint32_t> want_crc_;
  uLong crc_ = ::crc32(0, nullptr, 0);
  std::optional<Anomaly> limit_;
};

}  // namespace secmlops::host::containers
