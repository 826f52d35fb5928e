#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace secmlops::host {

// Where a requested path leads relative to a set of allowed roots.
struct RootedPath {
  enum class Verdict {
    inside,     // `path` is the canonical (symlink-free) location, under `root`
    outside,    // the path, or a symlink on it, leads out of every root
    not_found,  // inside a root lexically, but nothing is there
  };
  Verdict verdict = Verdict::not_found;
  std::filesystem::path path;  // canonical path when inside
  std::filesystem::path root;  // the root it lies under
  std::string reason;          // for outside/not_found: what happened, naming the request
};

// Resolves `requested` (absolute, or relative to each root in turn) against `roots` without
// touching anything outside them: a path that is lexically outside every root is refused
// before any stat; one that gets out through a symlink is refused too. The same walk as
// stat_sibling_in, for a list of roots. Roots that do not exist are ignored.
RootedPath resolve_under_roots(const std::vector<std::filesystem::path>& roots,
                               const std::string& requested);

}  // namespace secmlops::host
