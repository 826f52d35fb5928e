#include "sklearn/sklearn_import.hpp"

#include "secmlops/host/containers.hpp"
#include "sklearn/pickle_vm.hpp"

#include <cstring>
#include <optional>
#include <string_view>

namespace secmlops::host::sklearn {

namespace {

// joblib's compressors, recognised by their magic bytes (joblib.compressor).
std::optional<containers::Codec> compression(std::span<const uint8_t> b) {
  auto starts = [&](std::initializer_list<uint8_t> m) {
    return b.size() >= m.size() && std::equal(m.begin(), m.end(), b.begin());
  };
  if (starts({0x1f, 0x8b})) return containers::Codec::gzip;
  if (starts({'B', 'Z', 'h'})) return containers::Codec::bzip2;
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return containers::Codec::xz;
  if (starts({0x04, 0x22, 0x4d, 0x18})) return containers::Codec::lz4_frame;
  if (starts({0x5d, 0x00, 0x00})) return containers::Codec::lzma_alone;
  if (b.size() >= 2 && b[0] == 0x78 && (b[0] * 256 + b[1]) % 31 == 0)
    return containers::Codec::zlib;
  return std::nullopt;
}

bool plain_pickle(std::span<const uint8_t> b) {
  if (b.size() >= 2 && b[0] == 0x80 && b[1] <= 5) return true;
  // Protocols 0 and 1 have no header: a stream that opens with an opcode they use for a
  // model's top object and ends with STOP is reported as a pickle (and refused by protocol).
  static constexpr std::string_view kP0Openers = "c(]})VSIFLNlgtX";
  return b.size() >= 2 && b.back() == '.' &&
         kP0Openers.find(static_cast<char>(b[0])) != std::string_view::npos;
}

}  // namespace

std::string other_format(std::span<const uint8_t> b) {
  auto starts = [&](std::string_view m) {
    return b.size() >= m.size() &&
           std::equal(m.begin(), m.end(), reinterpret_cast<const char*>(b.data()));
  };
  if (starts("\x93NUMPY")) return "a NumPy .npy array file";
  if (starts("PK\x03\x04") || starts("PK\x05\x06"))
    return "a zip archive (such as a PyTorch checkpoint or an .npz file)";
  if (starts("\x89HDF")) return "an HDF5 file (such as a Keras model)";
  if (starts("GGUF")) return "a GGUF file";
  return {};
}

bool looks_like_pickle(std::span<const uint8_t> bytes) {
  return plain_pickle(bytes) || compression(bytes).has_value();
}

Converted import_pickle(std::span<const uint8_t> bytes, int jobs) {
  std::vector<uint8_t> inflated;
  std::span<const uint8_t> stream = bytes;
  if (auto codec = compression(bytes); codec && !plain_pickle(bytes)) {
    auto source = std::make_shared<MemoryStream>(std::vector<uint8_t>(bytes.begin(), bytes.end()));
    containers::Limits limits;
    limits.max_total_decompressed = limits.max_member_size = 2ull << 30;
    limits.memory_threshold = 2ull << 30;  // kept in memory: the import needs contiguous bytes
    containers::Budget budget(limits);
    containers::Opened out = containers::decompress(*codec, source, 0, source->size(), budget);
    if (out.limit)
      throw ImportError("decompressing the joblib file hit a limit: " + out.limit->message, 0);
    if (!out.error.empty())
      throw ImportError("the compressed joblib file is corrupt or truncated: " + out.error, 0);
    if (out.stream == nullptr) throw ImportError("the compressed joblib file holds no data", 0);
    inflated.resize(out.stream->size());
    if (!inflated.empty() &&
        out.stream->read_at(0, inflated.data(), inflated.size()) != inflated.size())
      throw ImportError("reading the decompressed joblib data failed", 0);
    stream = inflated;
    if (!plain_pickle(stream))
      throw ImportError("the compressed file does not hold a pickle", 0, true);
  }
  Arena arena;
  Unpickled u = run_pickle(arena, stream, 0);
  // joblib pads nothing after the last array; anything else is not part of the model.
  if (u.end != stream.size())
    throw ImportError(std::to_string(stream.size() - u.end) + " bytes follow the pickle's STOP",
                      u.end);
  return convert_estimator(*u.root, jobs);
}

}  // namespace secmlops::host::sklearn
