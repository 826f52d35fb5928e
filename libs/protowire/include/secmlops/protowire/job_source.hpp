// A protowire::Source over a scan job's input stream (header-only: only plugins include it).
// Reads go through the host's zero-copy view when it offers one, else through seek + read.
#pragma once

#include "secmlops/protowire/reader.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <cstring>

namespace secmlops::protowire {

class JobSource final : public Source {
 public:
  explicit JobSource(const sdk::ScanJob& job) : job_(job), size_(job.size()) {}
  [[nodiscard]] uint64_t size() const override { return size_; }
  size_t read_at(uint64_t offset, uint8_t* buf, size_t len) override {
    if (offset >= size_) return 0;
    len = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
    if (auto v = job_.view(offset, len); !v.empty()) {
      std::memcpy(buf, v.data(), len);  // the view is only valid until the next stream call
      return len;
    }
    job_.seek(offset);
    size_t done = 0;
    while (done < len) {
      size_t n = job_.read(buf + done, len - done);
      if (n == 0) break;
      done += n;
    }
    return done;
  }

 private:
  const sdk::ScanJob& job_;
  uint64_t size_;
};

}  // namespace secmlops::protowire
