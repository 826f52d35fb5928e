// Recognising our formats by content (the probe), and the scan each format starts with.
#include "formats.hpp"

#include "format_scans.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>

namespace secmlops::plugins::pickle {
namespace {

// The first bytes of a legacy torch.save file: protocol-2 pickle of the LONG1 magic number
// 0x1950a86a20f9469cfc6c.
constexpr uint8_t kTorchLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                         0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

// Argument sizes of pickle opcodes for the probe: >= 0 fixed, -1 line, -2..-5 length-prefixed
// with a 1/2/4/8-byte length, -9 invalid.
int arg_kind(uint8_t op) {
  switch (op) {
    case '(':
    case '.':
    case '0':
    case '1':
    case '2':
    case 'N':
    case 'Q':
    case 'R':
    case 'a':
    case 'b':
    case 'd':
    case '}':
    case 'e':
    case 'l':
    case ']':
    case 'o':
    case 's':
    case 't':
    case ')':
    case 'u':
    case 0x81:
    case 0x85:
    case 0x86:
    case 0x87:
    case 0x88:
    case 0x89:
    case 0x8f:
    case 0x90:
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x97:
    case 0x98:
      return 0;
    case 'K':
    case 'h':
    case 'q':
    case 0x80:
    case 0x82:
      return 1;
    case 'M':
    case 0x83:
      return 2;
    case 'J':
    case 'j':
    case 'r':
    case 0x84:
      return 4;
    case 'G':
    case 0x95:
      return 8;
    case 'F':
    case 'I':
    case 'L':
    case 'P':
    case 'S':
    case 'V':
    case 'g':
    case 'p':
      return -1;
    case 'c':
    case 'i':
      return -6;  // two lines
    case 'U':
    case 'C':
    case 0x8c:
    case 0x8a:
      return -2;
    case 'T':
    case 'X':
    case 'B':
    case 0x8b:
      return -4;
    case 0x8d:
    case 0x8e:
    case 0x96:
      return -5;
    default:
      return -9;
  }
}

struct HeadWalk {
  uint32_t ops = 0;      // valid opcodes before the walk ended
  bool stop = false;     // reached STOP
  bool invalid = false;  // ended on an invalid opcode or argument (not just the end of the head)
  bool import = false;   // saw GLOBAL, INST or STACK_GLOBAL
  bool long_string =
      false;  // a quoted STRING (or a UNICODE after other opcodes) runs past the head
};

// Walks opcodes in the head to tell pickles from other bytes.
HeadWalk walk_head(std::span<const uint8_t> h) {
  HeadWalk w;
  size_t i = 0;
  auto result = [&](bool invalid) {
    w.invalid = invalid;
    return w;
  };
  while (i < h.size() && w.ops < 4096) {
    uint8_t op = h[i++];
    int k = arg_kind(op);
    if (k == -9) return result(true);
    ++w.ops;
    uint32_t& ops = w.ops;
    if (op == 'c' || op == 'i' || op == 0x93) w.import = true;
    if (op == '.') {
      w.stop = true;
      return w;
    }
    if (k >= 0) {
      i += static_cast<size_t>(k);
    } else if (k == -1 || k == -6) {
      for (int lines = k == -1 ? 1 : 2; lines > 0; --lines) {
        size_t start = i;
        while (i < h.size() && h[i] != '\n') {
          if (h[i] < 0x20 && h[i] != '\r') {  // lines are printable text
            ops = 0;
            return result(true);
          }
          ++i;
        }
        if (i == h.size()) {
          // Padding a protocol-0 pickle with a long string must not move it out of routing.
          bool quoted = start < h.size() && (h[start] == '\'' || h[start] == '"');
          w.long_string = (op == 'S' && quoted) || (op == 'V' && ops >= 2);
          return w;
        }
        if (i - start > 512 && (op == 'c' || op == 'i')) {
          ops = 0;
          return result(true);
        }
        ++i;
      }
    } else {
      size_t n = k == -2 ? 1 : k == -4 ? 4 : 8;
      if (i + n > h.size()) return w;
      uint64_t len = 0;
      for (size_t b = 0; b < n; ++b) len |= uint64_t{h[i + b]} << (8 * b);
      i += n;
      if (len > h.size() - std::min(i, h.size())) {  // runs past the head: plausible
        ops += 1000;
        return w;
      }
      i += len;
    }
  }
  return w;
}

// `…/data/<digits>`: a tensor storage of a PyTorch zip checkpoint. torch.load reads its bytes
// as raw tensor data, never as a pickle, so tensor bytes that happen to start like a pickle
// must not be scanned as one.
bool torch_storage_name(std::string_view name) {
  size_t slash = name.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == name.size()) return false;
  std::string_view key = name.substr(slash + 1), dir = name.substr(0, slash);
  if (!std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return dir == "data" || (dir.size() > 5 && dir.substr(dir.size() - 5) == "/data");
}
}  // namespace

uint32_t probe_format(std::span<const uint8_t> head, const char*& format, std::string_view name) {
  if (torch_storage_name(name)) {
    // Only a complete, well-formed pickle inside the head is claimed there.
    if (head.size() < 2 || head[0] != 0x80 || head[1] > 5) return 0;
    HeadWalk w = walk_head(head.subspan(0, std::min<size_t>(head.size(), 4096)));
    if (!w.stop || w.invalid || w.ops < 4) return 0;
    format = kFormatPickle;
    return 40;
  }
  if (head.size() >= 6 && std::memcmp(head.data(), "\x93NUMPY", 6) == 0) {
    format = kFormatNumpy;
    return 100;
  }
  if (head.size() >= sizeof kTorchLegacyMagic &&
      std::memcmp(head.data(), kTorchLegacyMagic, sizeof kTorchLegacyMagic) == 0) {
    format = kFormatTorchLegacy;
    return 95;
  }
  // A pickle that turns invalid after a few opcodes is still claimed: a loader runs everything
  // before the bad opcode. Only bytes that stop parsing almost at once (tensor data that happens
  // to start with 0x80) are left alone.
  if (head.size() >= 2 && head[0] == 0x80 && head[1] <= 5) {
    HeadWalk w = walk_head(head.subspan(0, std::min<size_t>(head.size(), 4096)));
    if (w.invalid && w.ops < 4) return 0;
    format = kFormatPickle;
    return 90;
  }
  if (head.size() >= 2 && std::strchr("(]})cNIKJXUTSVFLGi", head[0]) != nullptr && head[0] != 0) {
    HeadWalk w = walk_head(head.subspan(0, std::min<size_t>(head.size(), 4096)));
    format = kFormatPickle;
    if (w.stop && w.ops >= 2) return 60;
    if (w.import && w.ops >= 3) return 50;
    if (w.ops >= 64 || w.long_string) return 40;
  }
  return 0;
}

bool scan_format(ScanState& state, std::string_view format) {
  if (format == kFormatNumpy) return scan_numpy(state);
  if (format == kFormatTorchLegacy) return scan_torch_legacy(state);
  return scan_pickle_stream(state, 0, state.cursor.size(), "");
}

}  // namespace secmlops::plugins::pickle
