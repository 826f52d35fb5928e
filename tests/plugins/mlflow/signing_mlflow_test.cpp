// `secmlops sign` and `verify` with --mlflow, as a user runs them: the signature bundle as an
// artifact and the secmlops.signature.* tags on the run and on the registered model version,
// over REST (the fake server) and in the file store; a failed verification is recorded as one
// and still exits 1. Model and file names are chosen to be hostile: they must arrive as data.
#include "fake_server.hpp"
#include "secmlops/host/digest.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>

namespace {

using nlohmann::json;
using secmlops::test::run_command;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A model directory and a file in it whose names a shell, YAML, JSON or HTML would trip on;
// the commands reach it by a glob, so the name is passed byte for byte.
const std::string kModel = "model evil\n\"<img src=x onerror=alert(1)>\" $(id) 'q'";
const std::string kWeights = "w\n'1'.bin";

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Signed {
  secmlops::test::TempDir d;
  fs::path model;
  Signed() {
    model = d.path() / kModel;
    d.write(kModel + "/" + kWeights, "weights");
    d.write(kModel + "/config.json", "{}");
    auto r =
        run_command("cd " + d.path().string() +
                    " && openssl ecparam -name prime256v1 -genkey -noout -out key.pem 2>/dev/null"
                    " && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null");
    EXPECT_EQ(r.exit_code, 0);
  }
  // `secmlops <args> model*` in the temp directory; stdout in .out, stderr in the file `stderr`.
  secmlops::test::CommandResult run(const std::string& env, const std::string& args) const {
    return run_command("cd " + d.path().string() + " && " + env +
                       " SECMLOPS_MLFLOW_SPOOL_DIR=spool " SECMLOPS_CLI
                       " --plugin-dir " SECMLOPS_FIXTURE_PLUGIN_DIR " " +
                       args + " model* 2>stderr");
  }
  [[nodiscard]] std::string err() const { return file_text(d.path() / "stderr"); }
  [[nodiscard]] std::string run_id() const {
    std::smatch m;
    std::string e = err();
    return std::regex_search(e, m, std::regex("mlflow: run ([0-9a-f]{32})")) ? std::string(m[1])
                                                                             : "";
  }
};

std::map<std::string, std::string> tags_of(const json& run) {
  std::map<std::string, std::string> tags;
  for (const auto& t : run["data"]["tags"]) tags[t["key"]] = t["value"];
  return tags;
}

json get(const std::string& url) {
  secmlops::plugins::mlflow::HttpClient http({});
  auto r = http.request("GET", url, "", "application/json");
  EXPECT_EQ(r.status, 200) << url << ": " << r.body;
  return json::parse(r.body, nullptr, false);
}

std::string artifact(const std::string& uri, const json& run, const std::string& path) {
  const std::string prefix = "mlflow-artifacts:/";
  std::string root = run["info"]["artifact_uri"];
  EXPECT_EQ(root.rfind(prefix, 0), 0u) << root;
  secmlops::plugins::mlflow::HttpClient http({});
  auto a = http.request(
      "GET", uri + "/api/2.0/mlflow-artifacts/artifacts/" + root.substr(prefix.size()) + "/" + path,
      "", "application/json");
  EXPECT_EQ(a.status, 200) << path;
  return a.body;
}

TEST(MlflowSigning, SignAndVerifyRunsOnATrackingServerAndTheModelVersion) {
  secmlops::test::FakeMlflowServer server;
  server.post("/_test/create-model-version", {{"name", "fraud"}, {"version", "3"}});
  Signed s;
  const std::string mlflow =
      "--mlflow=" + server.uri() + " --mlflow-experiment signing --mlflow-model fraud:3";

  auto sign = s.run("", "sign --format json --key key.pem " + mlflow);
  ASSERT_EQ(sign.exit_code, 0) << s.err();
  json signed_result = json::parse(sign.out);
  const std::string sig = file_text(s.model / "model.sig");
  std::string id = s.run_id();
  ASSERT_FALSE(id.empty()) << s.err();
  json run = get(server.uri() + "/api/2.0/mlflow/runs/get?run_id=" + id)["run"];
  EXPECT_EQ(run["info"]["status"], "FINISHED");
  EXPECT_EQ(run["info"]["run_name"], "sign " + kModel);
  auto tags = tags_of(run);
  EXPECT_EQ(tags["secmlops.kind"], "sign");
  EXPECT_EQ(tags["secmlops.signature.status"], "signed");
  EXPECT_EQ(tags["secmlops.signature.subject"], kModel);
  EXPECT_EQ(tags["secmlops.signature.signer"], signed_result["signer"]);
  EXPECT_THAT(tags["secmlops.signature.signer"], HasSubstr("key sha256:"));
  EXPECT_EQ(tags["secmlops.signature.algorithm"], "ecdsa-p256-sha256");
  EXPECT_EQ(tags["secmlops.signature.root_digest"], signed_result["rootDigest"]);
  EXPECT_EQ(tags["secmlops.signature.sha256"], secmlops::host::sha256_hex(sig));
  EXPECT_EQ(tags["secmlops.signature.resources"], "2");
  EXPECT_EQ(artifact(server.uri(), run, "signature/model.sig"), sig);

  // Verified as signed, then after a change to the weights: a finished run that says why.
  auto ok = s.run("", "verify --format json --public-key pub.pem " + mlflow);
  ASSERT_EQ(ok.exit_code, 0) << s.err();
  json verified = get(server.uri() + "/api/2.0/mlflow/runs/get?run_id=" + s.run_id())["run"];
  EXPECT_EQ(tags_of(verified)["secmlops.signature.verified"], "true");
  EXPECT_EQ(tags_of(verified)["secmlops.signature.status"], "verified");

  s.d.write(kModel + "/" + kWeights, "weights, changed");
  auto bad = s.run("", "verify --format json --public-key pub.pem " + mlflow);
  EXPECT_EQ(bad.exit_code, 1) << s.err();
  json failed_result = json::parse(bad.out);
  ASSERT_FALSE(s.run_id().empty()) << s.err();
  json failed = get(server.uri() + "/api/2.0/mlflow/runs/get?run_id=" + s.run_id())["run"];
  EXPECT_EQ(failed["info"]["status"], "FINISHED");
  EXPECT_EQ(failed["info"]["run_name"], "verify " + kModel);
  tags = tags_of(failed);
  EXPECT_EQ(tags["secmlops.kind"], "verify");
  EXPECT_EQ(tags["secmlops.signature.verified"], "false");
  EXPECT_EQ(tags["secmlops.signature.status"], "failed");
  EXPECT_EQ(tags["secmlops.signature.reason"],
            kWeights + ": content differs from the signed digest");
  EXPECT_EQ(tags["secmlops.signature.reason"], failed_result["reason"]);
  EXPECT_EQ(tags["secmlops.signature.signer"], signed_result["signer"]);
  EXPECT_EQ(tags["secmlops.signature.algorithm"], "ecdsa-p256-sha256");
  EXPECT_EQ(tags["secmlops.signature.root_digest"], signed_result["rootDigest"]);
  EXPECT_EQ(tags["secmlops.signature.sha256"], secmlops::host::sha256_hex(sig));
  EXPECT_EQ(artifact(server.uri(), failed, "signature/model.sig"), sig);

  // The registered model version holds the last outcome: the failed verification and its run.
  json version = server.state()["models"]["fraud/3"];
  EXPECT_EQ(version["secmlops.signature.verified"], "false");
  EXPECT_EQ(version["secmlops.signature.reason"], failed_result["reason"]);
  EXPECT_EQ(version["secmlops.signature.signer"], signed_result["signer"]);
  EXPECT_EQ(version["secmlops.signature.algorithm"], "ecdsa-p256-sha256");
  EXPECT_EQ(version["secmlops.signature.root_digest"], signed_result["rootDigest"]);
  EXPECT_EQ(version["secmlops.run_id"], s.run_id());
}

TEST(MlflowSigning, UnusableInputEndsTheRunFailed) {
  secmlops::test::FakeMlflowServer server;
  Signed s;
  s.d.write("not-a-key.pem", "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n");
  ASSERT_EQ(s.run("", "sign --key key.pem").exit_code, 0) << s.err();
  auto r = s.run("", "verify --public-key not-a-key.pem --mlflow=" + server.uri());
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_FALSE(s.run_id().empty()) << s.err();
  json run = get(server.uri() + "/api/2.0/mlflow/runs/get?run_id=" + s.run_id())["run"];
  EXPECT_EQ(run["info"]["status"], "FAILED");
  auto tags = tags_of(run);
  EXPECT_EQ(tags["secmlops.signature.status"], "unusable_input");
  EXPECT_THAT(tags["secmlops.signature.reason"], HasSubstr("public key"));
}

TEST(MlflowSigning, FileStoreHoldsTheSignatureAndTheOutcome) {
  Signed s;
  ASSERT_EQ(
      s.run("MLFLOW_TRACKING_URI= MLFLOW_EXPERIMENT_NAME=signing", "sign --key key.pem --mlflow")
          .exit_code,
      0)
      << s.err();
  const std::string sign_id = s.run_id();
  s.d.write(kModel + "/extra.py", "import os");
  auto bad = s.run("MLFLOW_TRACKING_URI= MLFLOW_EXPERIMENT_NAME=signing",
                   "verify --public-key pub.pem --mlflow");
  EXPECT_EQ(bad.exit_code, 1) << s.err();
  const std::string verify_id = s.run_id();
  ASSERT_FALSE(sign_id.empty());
  ASSERT_FALSE(verify_id.empty());

  auto check = run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                           "/tests/plugins/mlflow/check_file_store.py '" +
                           (s.d.path() / "mlruns").string() + "'");
  ASSERT_EQ(check.exit_code, 0) << check.out;
  std::map<std::string, json> runs;
  const json layout = json::parse(check.out);
  for (const auto& e : layout["experiments"])
    if (e["name"] == "signing")
      for (const auto& r : e["runs"]) runs[r["run_id"].get<std::string>()] = r;
  ASSERT_EQ(runs.size(), 2u) << check.out;
  const json& sign = runs[sign_id];
  const json& verify = runs[verify_id];
  EXPECT_EQ(sign["status"], 3);    // FINISHED
  EXPECT_EQ(verify["status"], 3);  // a failed verification is a finished run that says so
  EXPECT_EQ(sign["run_name"], "sign " + kModel);
  EXPECT_EQ(sign["tags"]["secmlops.signature.subject"], kModel);
  EXPECT_EQ(verify["tags"]["secmlops.signature.verified"], "false");
  EXPECT_EQ(verify["tags"]["secmlops.signature.reason"],
            "extra.py: in the model but not in the signature");
  EXPECT_EQ(verify["tags"]["secmlops.signature.signer"], sign["tags"]["secmlops.signature.signer"]);
  EXPECT_EQ(verify["tags"]["secmlops.signature.root_digest"],
            sign["tags"]["secmlops.signature.root_digest"]);
  EXPECT_EQ(verify["metrics"]["signing.resources"][0][1], 2.0);
  for (const auto* r : {&sign, &verify})
    EXPECT_EQ((*r)["artifacts"], json::array({"signature/model.sig"}));

  // The artifact's bytes are the signature file's.
  const std::string sig = file_text(s.model / "model.sig");
  size_t found = 0;
  for (const auto& f : fs::recursive_directory_iterator(s.d.path() / "mlruns"))
    if (f.path().filename() == "model.sig") {
      EXPECT_EQ(file_text(f.path()), sig) << f.path();
      ++found;
    }
  EXPECT_EQ(found, 2u);
}

TEST(MlflowSigning, ANameThatIsNotUtf8StillLeavesAReadableStore) {
  // File names are bytes; MLflow's JSON and YAML are UTF-8. The run says what happened with
  // the bytes written as \xNN, and MLflow can still read every run of the store.
  secmlops::test::TempDir d;
  d.write("model\xff\xfe bad/w.bin", "w");
  auto r = run_command(
      "cd " + d.path().string() +
      " && openssl ecparam -name prime256v1 -genkey -noout -out key.pem 2>/dev/null && "
      "MLFLOW_TRACKING_URI= " SECMLOPS_CLI " sign --key key.pem --mlflow model* 2>/dev/null");
  EXPECT_EQ(r.exit_code, 2);  // the statement cannot carry the name
  auto check = run_command("/usr/bin/python3 " SECMLOPS_SOURCE_DIR
                           "/tests/plugins/mlflow/check_file_store.py '" +
                           (d.path() / "mlruns").string() + "'");
  ASSERT_EQ(check.exit_code, 0) << check.out;
  const json layout = json::parse(check.out);
  json run;
  for (const auto& e : layout["experiments"])
    if (e["name"] == "secmlops") run = e["runs"][0];
  EXPECT_EQ(run["run_name"], "sign model\\xff\\xfe bad");
  EXPECT_EQ(run["status"], 4);  // FAILED
  EXPECT_EQ(run["tags"]["secmlops.signature.status"], "unusable_input");
  EXPECT_THAT(run["tags"]["secmlops.signature.reason"].get<std::string>(),
              HasSubstr("not valid UTF-8"));
}

}  // namespace
