#include "secmlops/host/scan_engine.hpp"
#include "secmlops/host/signing_ops.hpp"
#include "secmlops/v1/report.pb.h"

namespace secmlops::host {

void require_signatures(v1::ScanReport& report, const std::vector<std::filesystem::path>& models,
                        const std::filesystem::path& public_key) {
  for (const auto& model : models) {
    auto finding = signature_finding(model, public_key);
    if (!finding) continue;
    const std::string name = model.string();
    const std::string dir = name.empty() || name.back() == '/' ? name : name + "/";
    v1::FileReport* target = nullptr;
    for (auto& f : *report.mutable_files())
      if (f.path() == name) target = &f;
    if (!target)
      for (auto& f : *report.mutable_files())
        if (!target && f.path().rfind(dir, 0) == 0) target = &f;
    if (!target) {
      target = report.add_files();
      target->set_path(name);
      target->set_status(v1::SCANNED);
    }
    *target->add_findings() = std::move(*finding);
  }
  summarise(report);
}

}  // namespace secmlops::host
