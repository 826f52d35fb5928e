// The pickle plugin end to end through `secmlops scan`, as a user runs it.
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

using namespace pickle_test;
using nlohmann::json;
using secmlops::test::run_command;

struct CliScan {
  int exit_code = -1;
  json report;
  // Findings of every file as (rule, global) with severity.
  [[nodiscard]] bool has(const std::string& rule, const std::string& global = {}) const {
    for (const auto& file : report.value("files", json::array()))
      for (const auto& f : file.value("findings", json::array())) {
        if (f.value("ruleId", "") != rule) continue;
        if (global.empty()) return true;
        for (const auto& e : f.value("evidence", json::array()))
          if (e.value("key", "") == "global" && e.value("value", "") == global) return true;
      }
    return false;
  }
  [[nodiscard]] std::string worst() const {
    static const char* order[] = {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"};
    int w = -1;
    for (const auto& file : report.value("files", json::array()))
      for (const auto& f : file.value("findings", json::array()))
        for (int i = 0; i < 5; ++i)
          if (f.value("severity", "") == order[i]) w = std::max(w, i);
    return w < 0 ? "NONE" : order[w];
  }
  [[nodiscard]] std::string status() const {
    const auto& files = report.value("files", json::array());
    return files.empty() ? "" : files[0].value("status", "");
  }
};

CliScan scan(const std::string& args) {
  auto r = run_command(std::string(SECMLOPS_CLI) + " scan --format json " + args + " 2>/dev/null");
  CliScan s;
  s.exit_code = r.exit_code;
  try {
    s.report = json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out;
  }
  return s;
}

std::string fx(const std::string& name) { return fixtures() + "/" + name; }

TEST(PickleCli, MaliciousPickleExitsOneWithEvidence) {
  auto s = scan(fx("reduce_os_system_p2.pkl"));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_TRUE(s.has("PICKLE-CODE-EXEC", "os.system")) << s.report.dump(2);
  const auto& f = s.report["files"][0]["findings"][0];
  EXPECT_EQ(f.value("scanner", ""), "pickle");
  EXPECT_TRUE(f.contains("location")) << f.dump(2);
}

TEST(PickleCli, RoutesByContentNotExtension) {
  secmlops::test::TempDir d;
  auto renamed = d.write("weights.txt", read_file(fx("reduce_os_system_p4.pkl")));
  auto s = scan(renamed.string());
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_TRUE(s.has("PICKLE-CODE-EXEC", "os.system")) << s.report.dump(2);
  auto npy = d.write("data.bin", read_file(fx("malicious_object.npy")));
  EXPECT_TRUE(scan(npy.string()).has("NUMPY-OBJECT-ARRAY"));
}

TEST(PickleCli, BenignModelsPassAtMedium) {
  for (const char* name :
       {"benign_sklearn_pipeline.pkl", "benign_sklearn_pipeline.joblib", "benign_array.npy",
        "benign_torch_state_dict_legacy.pt", "benign_torch_full_model_legacy.pt",
        "benign_array_p4.pkl", "benign_plain_p0.pkl"}) {
    auto s = scan("--fail-on MEDIUM " + fx(name));
    EXPECT_EQ(s.exit_code, 0) << name << "\n" << s.report.dump(2);
    EXPECT_EQ(s.status(), "SCANNED") << name;
  }
}

TEST(PickleCli, LegacyTorchJoblibAndNumpyPayloads) {
  for (const char* name : {"malicious_torch_legacy.pt", "malicious_after_arrays.joblib",
                           "malicious_object_array.joblib", "malicious_object.npy"}) {
    auto s = scan(fx(name));
    EXPECT_EQ(s.exit_code, 1) << name;
    EXPECT_TRUE(s.has("PICKLE-CODE-EXEC", "os.system")) << name << "\n" << s.report.dump(2);
  }
}

TEST(PickleCli, MalformedPickleIsPartialButPayloadWins) {
  secmlops::test::TempDir d;
  auto truncated = d.write("t.pkl", read_file(fx("reduce_os_system_p2.pkl")).substr(0, 40));
  auto s = scan(truncated.string());
  EXPECT_EQ(s.exit_code, 1) << s.report.dump(2);  // the import was seen before the cut
  EXPECT_EQ(s.status(), "PARTIAL");
  auto junk = d.write("j.pkl", std::string("\x80\x02}q\x00N\xff\xfe", 8));
  EXPECT_EQ(scan("--fail-on CRITICAL " + junk.string()).exit_code, 2);
}

// Containers are expanded by the host: the pickle reaches the scanner as a member stream.
bool host_expanded(const CliScan& s) {
  bool expanded = false;
  for (const auto& file : s.report.value("files", json::array()))
    for (const auto& st : file.value("streams", json::array()))
      expanded |= !st.value("members", json::array()).empty();
  return expanded;
}

TEST(PickleCli, CompressedJoblibIsDecompressedByTheHost) {
  for (const char* m : {"zlib", "gzip", "bz2", "xz"}) {
    auto s = scan(fx(std::string("malicious_") + m + ".joblib"));
    EXPECT_TRUE(host_expanded(s)) << m << "\n" << s.report.dump(2);
    EXPECT_TRUE(s.has("PICKLE-CODE-EXEC", "os.system")) << m << "\n" << s.report.dump(2);
    auto b =
        scan("--fail-on MEDIUM " + fx(std::string("benign_sklearn_pipeline_") + m + ".joblib"));
    EXPECT_EQ(b.exit_code, 0) << m << "\n" << b.report.dump(2);
  }
}

TEST(PickleCli, TorchZipIsExpandedByTheHost) {
  auto s = scan(fx("malicious_torch.pt"));
  EXPECT_TRUE(host_expanded(s)) << s.report.dump(2);
  EXPECT_TRUE(s.has("PICKLE-CODE-EXEC", "os.system")) << s.report.dump(2);
  for (const char* name :
       {"benign_torch_state_dict.pt", "benign_torch_full_model.pt", "benign_torch_checkpoint.pt"})
    EXPECT_EQ(scan("--fail-on MEDIUM " + fx(name)).exit_code, 0) << name;
}

TEST(PickleCli, AllowlistAndPolicyFlags) {
  secmlops::test::TempDir d;
  auto unknown = d.write("u.pkl", "\x80\x02" + glob("mylib", "Thing") + ")R.");
  EXPECT_EQ(scan(unknown.string()).exit_code, 0);
  auto strict = scan("--allowlist " + unknown.string());
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_TRUE(strict.has("PICKLE-NOT-ALLOWLISTED", "mylib.Thing")) << strict.report.dump(2);
  auto policy =
      d.write("policy.yaml", "pickle:\n  deny:\n    - global: mylib\n      severity: CRITICAL\n");
  auto denied = scan("--policy " + policy.string() + " --fail-on CRITICAL " + unknown.string());
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_TRUE(denied.has("PICKLE-POLICY-DENY", "mylib.Thing")) << denied.report.dump(2);
}

// Every real model of the benign corpus through the whole CLI (zip checkpoints, compressed
// joblib files and npz expanded by the host): scanned to the end, nothing at MEDIUM or above.
TEST(PickleCli, RealModelCorpusScansCleanAndComplete) {
  std::string paths;
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(fixtures())) {
    std::string name = entry.path().filename().string();
    if (name.rfind("benign_real_", 0) != 0) continue;
    paths += " " + entry.path().string();
    ++n;
  }
  ASSERT_GE(n, 50u);
  auto s = scan("--fail-on medium" + paths);
  EXPECT_EQ(s.exit_code, 0);
  for (const auto& file : s.report.value("files", json::array())) {
    EXPECT_EQ(file.value("status", ""), "SCANNED") << file.dump(1);
    for (const auto& f : file.value("findings", json::array())) {
      std::string sev = f.value("severity", "");
      EXPECT_TRUE(sev == "LOW" || sev == "INFO") << file.value("path", "") << ": " << f.dump(1);
    }
  }
}

}  // namespace
