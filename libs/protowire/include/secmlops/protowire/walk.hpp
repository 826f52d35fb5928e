// What every scanner that walks a protobuf model (ONNX, SavedModel) does the same way: the
// window over its input, findings and polls through the plugin's hooks, the report of what was
// aggregated even when a malformed byte stops the walk, and the text of evidence.
#pragma once

#include "secmlops/protowire/reader.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace secmlops::protowire {

// How a walker talks to the outside world: the plugin binds these to host services, tests to
// vectors. Both may be empty.
struct WalkHooks {
  std::function<void(const sdk::Finding&)> emit;
  // Called regularly; throws to stop (cancellation, time limits).
  std::function<void()> poll;
};

// The state shared by a walk's steps. A walker derives from it and defines `run()` (the walk)
// and `flush()` (what it aggregated), and `stats()`; `walk()` runs them.
class Walk {
 public:
  Walk(sdk::Source& source, const WalkHooks& hooks) : src_(source, kWindowBytes), hooks_(hooks) {}

  // The whole input as one message.
  MessageReader root() { return MessageReader(src_, 0, src_.size()); }
  void emit(const sdk::Finding& f) const {
    if (hooks_.emit) hooks_.emit(f);
  }
  void poll() {
    if (++polls_ % 1024 == 0 && hooks_.poll) hooks_.poll();
  }
  [[nodiscard]] uint64_t bytes_fetched() const { return src_.bytes_fetched(); }

 protected:
  sdk::WindowReader src_;

 private:
  const WalkHooks& hooks_;
  uint64_t polls_ = 0;
};

// Runs `walker.run()` and then, or when it throws, `walker.flush()`: findings aggregated before a
// malformed byte are still reported, and the error (with its offset) still propagates. Returns
// `walker.stats()`.
template <class Walker>
auto walk(Walker& walker) {
  try {
    walker.run();
  } catch (...) {
    walker.flush();
    throw;
  }
  walker.flush();
  return walker.stats();
}

// Printable excerpt for evidence: control bytes escaped as \xNN, at most max_len characters.
std::string excerpt(std::string_view text, size_t max_len = 160);

// Why a relative path read from a model leaves its directory by its text alone ("is an absolute
// path", "contains a '..' segment", …), or "" when it does not.
std::string path_escape(std::string_view path);

}  // namespace secmlops::protowire
