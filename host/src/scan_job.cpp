#include "scan_job.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace secmlops::host {
namespace {
ScanObserver* g_observer = nullptr;
}  // namespace

void set_scan_observer(ScanObserver* observer) { g_observer = observer; }
ScanObserver* scan_observer() { return g_observer; }

ScanJobContext::ScanJobContext(std::shared_ptr<const Stream> stream, v1::FileReport& report,
                               std::vector<std::string> members, std::string scanner,
                               uint64_t max_findings)
    : stream_(std::move(stream)),
      report_(report),
      members_(std::move(members)),
      scanner_(std::move(scanner)),
      max_findings_(max_findings) {}

int64_t ScanJobContext::read(void* buf, uint64_t len) {
  try {
    size_t n = stream_->read_at(pos_, buf, static_cast<size_t>(len));
    pos_ += n;
    return static_cast<int64_t>(n);
  } catch (const std::exception& e) {
    spdlog::error("[{}] {}", id(), e.what());
    return -1;
  }
}

const uint8_t* ScanJobContext::view(uint64_t offset, uint64_t len) {
  // The ABI lets a view pointer expire at the next stream call: the part of the previous window
  // the new one does not cover is released, so scanning a large file window by window keeps the
  // resident set at about one window.
  if (view_len_ > 0) {
    if (offset > view_offset_)
      stream_->release(view_offset_, std::min(view_len_, offset - view_offset_));
    const uint64_t prev_end = view_offset_ + view_len_, new_end = offset + len;
    if (new_end < prev_end)
      stream_->release(std::max(new_end, view_offset_), prev_end - std::max(new_end, view_offset_));
  }
  const uint8_t* p = stream_->view(offset, len);
  view_offset_ = p ? offset : 0;
  view_len_ = p ? len : 0;
  return p;
}

secmlops_status ScanJobContext::seek(uint64_t offset) {
  if (offset > stream_->size()) return SECMLOPS_ERR_INVALID_ARGUMENT;
  pos_ = offset;
  return SECMLOPS_OK;
}

namespace {

// Everything a finding says, as one key: two findings with the same key are the same finding.
std::string identity(const secmlops_finding& f) {
  std::string key;
  auto add = [&key](const char* s) {
    if (s != nullptr) key += s;
    key += '\0';
  };
  add(f.rule_id);
  key += std::to_string(static_cast<int>(f.severity)) + '\0';
  add(f.message);
  key += std::to_string(f.offset) + '\0';
  add(f.detail);
  if (f.evidence != nullptr)
    for (uint32_t i = 0; i < f.evidence_count && i < 64; ++i) {
      add(f.evidence[i].key);
      add(f.evidence[i].value);
    }
  return key;
}

// "onnx" → "ONNX", "tf-savedmodel" → "TF-SAVEDMODEL": a scanner's rule prefix.
std::string rule_prefix(const std::string& scanner) {
  std::string out;
  for (char c : scanner)
    out += std::isalnum(static_cast<unsigned char>(c))
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
               : '-';
  return out;
}

}  // namespace

secmlops_status ScanJobContext::on_finding(const secmlops_finding& f) {
  if (!seen_.insert(identity(f)).second) return SECMLOPS_OK;
  if (!per_rule_.listed(per_rule_.count(f.rule_id ? f.rule_id : "UNKNOWN"))) return SECMLOPS_OK;
  ++emitted_;
  if (emitted_ > max_findings_) {
    if (emitted_ == max_findings_ + 1)
      add_host_finding(report_, members_, v1::MEDIUM, "HOST-FINDINGS-TRUNCATED",
                       "more than " + std::to_string(max_findings_) +
                           " findings in one stream; the rest are not reported");
    return SECMLOPS_OK;
  }
  auto* out = report_.add_findings();
  out->set_rule_id(f.rule_id ? f.rule_id : "UNKNOWN");
  int sev = static_cast<int>(f.severity);
  out->set_severity(sev >= v1::INFO && sev <= v1::CRITICAL ? static_cast<v1::Severity>(sev)
                                                           : v1::HIGH);
  out->set_message(f.message ? f.message : "");
  out->set_scanner(scanner_);
  auto* loc = out->mutable_location();
  loc->set_file(report_.path());
  for (const auto& m : members_) loc->add_members(m);
  if (f.offset != SECMLOPS_NO_OFFSET) loc->set_offset(f.offset);
  if (f.detail) loc->set_detail(f.detail);
  if (f.evidence != nullptr) {
    for (uint32_t i = 0; i < f.evidence_count && i < 64; ++i) {
      if (f.evidence[i].key == nullptr) continue;
      auto* e = out->add_evidence();
      e->set_key(f.evidence[i].key);
      e->set_value(f.evidence[i].value ? f.evidence[i].value : "");
    }
  }
  if (g_observer != nullptr) g_observer->finding(*out);
  return SECMLOPS_OK;
}

void ScanJobContext::finish() {
  for (const auto& [rule, total] : per_rule_.over()) {
    const std::string more = std::to_string(total - per_rule_.cap());
    const std::string message =
        more + " more " + rule + " findings of the same kind are not listed";
    const std::string total_text = std::to_string(total);
    const std::string id = rule_prefix(scanner_) + "-FINDINGS-CAPPED";
    secmlops_kv evidence[] = {{"rule_id", rule.c_str()}, {"total", total_text.c_str()}};
    secmlops_finding summary{};
    summary.struct_size = sizeof(summary);
    summary.severity = SECMLOPS_SEVERITY_INFO;
    summary.rule_id = id.c_str();
    summary.message = message.c_str();
    summary.offset = SECMLOPS_NO_OFFSET;
    summary.evidence = evidence;
    summary.evidence_count = 2;
    on_finding(summary);
  }
}

secmlops_status ScanJobContext::stat_sibling(const char* relative, secmlops_sibling_info& out) {
  if (!base_dir_) {
    out.flags = SECMLOPS_SIBLING_NO_CONTEXT;
    return SECMLOPS_OK;
  }
  auto info = g_observer != nullptr ? g_observer->stat_sibling(relative)
                                    : stat_sibling_in(*base_dir_, relative);
  out.flags = info.flags;
  out.size = info.size;
  return SECMLOPS_OK;
}

secmlops_sibling_info stat_sibling_in(const std::filesystem::path& base_dir,
                                      const std::string& relative) {
  namespace fs = std::filesystem;
  secmlops_sibling_info info{};
  info.struct_size = sizeof(info);
  fs::path rel(relative);
  if (rel.is_absolute()) {
    info.flags = SECMLOPS_SIBLING_ABSOLUTE | SECMLOPS_SIBLING_OUTSIDE;
    return info;
  }
  std::error_code ec;
  fs::path base = fs::weakly_canonical(base_dir, ec);
  if (ec) base = base_dir.lexically_normal();
  fs::path lexical = (base / rel).lexically_normal();
  auto inside = [&](const fs::path& p) {
    auto [b, q] = std::mismatch(base.begin(), base.end(), p.begin(), p.end());
    return b == base.end();
  };
  if (!inside(lexical)) {
    info.flags = SECMLOPS_SIBLING_OUTSIDE;
    return info;
  }
  // Walk the components: any symlink on the way is reported, and one that leads out stops us.
  fs::path walk = base;
  for (const auto& part : lexical.lexically_relative(base)) {
    walk /= part;
    auto st = fs::symlink_status(walk, ec);
    if (ec || !fs::exists(st)) return info;  // does not exist: flags stay 0
    if (fs::is_symlink(st)) {
      info.flags |= SECMLOPS_SIBLING_SYMLINK;
      auto target = fs::weakly_canonical(walk, ec);
      if (ec || !inside(target)) {
        info.flags |= SECMLOPS_SIBLING_OUTSIDE;
        return info;
      }
    }
  }
  auto st = fs::status(lexical, ec);
  if (ec || !fs::exists(st)) return info;
  info.flags |= SECMLOPS_SIBLING_EXISTS;
  if (fs::is_regular_file(st)) {
    info.size = fs::file_size(lexical, ec);
  } else {
    info.flags |= SECMLOPS_SIBLING_NOT_REGULAR;
  }
  return info;
}

void add_host_finding(v1::FileReport& report, const std::vector<std::string>& members,
                      v1::Severity severity, const std::string& rule_id, const std::string& message,
                      std::optional<uint64_t> offset,
                      const std::vector<std::pair<std::string, std::string>>& evidence) {
  auto* out = report.add_findings();
  out->set_rule_id(rule_id);
  out->set_severity(severity);
  out->set_message(message);
  out->set_scanner("host");
  auto* loc = out->mutable_location();
  loc->set_file(report.path());
  for (const auto& m : members) loc->add_members(m);
  if (offset) loc->set_offset(*offset);
  for (auto& [k, v] : evidence) {
    auto* e = out->add_evidence();
    e->set_key(k);
    e->set_value(v);
  }
  if (g_observer != nullptr) g_observer->finding(*out);
}

}  // namespace secmlops::host
