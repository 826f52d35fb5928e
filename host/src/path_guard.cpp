#include "secmlops/host/path_guard.hpp"

#include "secmlops/host/printable.hpp"

#include <algorithm>
#include <optional>

namespace secmlops::host {
namespace {

namespace fs = std::filesystem;

// Client input in messages: bounded, control characters escaped.
std::string quoted(const std::string& s) { return "'" + printable(s, 120) + "'"; }

// A server path as the client may see it: relative to its scan root.
std::string shown(const fs::path& root, const fs::path& p) {
  auto rel = p.lexically_relative(root);
  return rel.empty() ? std::string(".") : rel.string();
}

bool is_within(const fs::path& base, const fs::path& p) {
  auto [b, q] = std::mismatch(base.begin(), base.end(), p.begin(), p.end());
  return b == base.end();
}

// Walks `lexical` component by component from `root`; every symlink met must stay inside.
RootedPath walk(const fs::path& root, const fs::path& lexical, const std::string& requested) {
  RootedPath out;
  out.root = root;
  std::error_code ec;
  fs::path at = root;
  for (const auto& part : lexical.lexically_relative(root)) {
    if (part == ".") continue;
    at /= part;
    auto st = fs::symlink_status(at, ec);
    if (ec || !fs::exists(st)) {
      out.verdict = RootedPath::Verdict::not_found;
      out.reason = quoted(requested) + ": no such file or directory under the scan roots";
      return out;
    }
    if (fs::is_symlink(st)) {
      auto target = fs::canonical(at, ec);
      if (ec) {
        out.verdict = RootedPath::Verdict::not_found;
        out.reason = quoted(requested) + ": dangling symlink " + shown(root, at);
        return out;
      }
      if (!is_within(root, target)) {
        out.verdict = RootedPath::Verdict::outside;
        out.reason =
            quoted(requested) + ": symlink " + shown(root, at) + " leads outside the scan root";
        return out;
      }
    }
  }
  auto canonical = fs::canonical(lexical, ec);
  if (ec) {
    out.verdict = RootedPath::Verdict::not_found;
    out.reason = quoted(requested) + ": " + ec.message();
    return out;
  }
  if (!is_within(root, canonical)) {  // defence in depth: the walk above should have caught it
    out.verdict = RootedPath::Verdict::outside;
    out.reason = quoted(requested) + ": resolves outside the scan root";
    return out;
  }
  out.verdict = RootedPath::Verdict::inside;
  out.path = canonical;
  return out;
}

}  // namespace

RootedPath resolve_under_roots(const std::vector<fs::path>& roots, const std::string& requested) {
  RootedPath refused;
  refused.verdict = RootedPath::Verdict::outside;
  refused.reason = quoted(requested) + ": outside every scan root";
  if (requested.empty() || requested.find('\0') != std::string::npos) {
    refused.reason = "empty or malformed path";
    return refused;
  }
  std::vector<fs::path> canonical_roots;
  for (const auto& r : roots) {
    std::error_code ec;
    auto c = fs::canonical(r, ec);
    if (!ec && fs::is_directory(c, ec)) canonical_roots.push_back(c);
  }
  fs::path req(requested);
  std::optional<RootedPath> not_found;
  for (const auto& root : canonical_roots) {
    fs::path lexical = (req.is_absolute() ? req : root / req).lexically_normal();
    if (!lexical.empty() && lexical.filename().empty()) lexical = lexical.parent_path();  // "dir/"
    if (!is_within(root, lexical)) continue;  // never stat'ed
    auto r = walk(root, lexical, requested);
    if (r.verdict != RootedPath::Verdict::not_found) return r;
    if (!not_found) not_found = r;
  }
  if (not_found) return *not_found;
  return refused;
}

}  // namespace secmlops::host
