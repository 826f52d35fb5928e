// SigningService on a live secmlopsd: sign and verify server paths under the scan root.
#include "daemon.hpp"
#include "support/temp_dir.hpp"

#include "secmlops/v1/signing_service.grpc.pb.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace fs = std::filesystem;
using namespace secmlops;
using ::testing::HasSubstr;

namespace {

// A fresh P-256 key as (private PEM, public PEM).
std::pair<std::string, std::string> ec_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  auto pem = [&](bool priv) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (priv)
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    else
      PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
  };
  auto out = std::make_pair(pem(true), pem(false));
  EVP_PKEY_free(key);
  return out;
}

class SigningLive : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() / "root";
    tmp_.write("root/model/weights.bin", std::string(100000, 'w'));
    tmp_.write("root/model/config.json", "{}");
    tmp_.write("outside/model/weights.bin", "x");
    daemon_ = std::make_unique<test::Daemon>(
        SECMLOPSD,
        std::vector<std::string>{"--plugin-dir", SECMLOPS_FIXTURE_PLUGIN_DIR, "--scan-root",
                                 root_.string(), "--log-level", "warn", "--listen",
                                 "unix:" + (tmp_.path() / "api.sock").string()},
        tmp_.path() / "ready");
    ASSERT_TRUE(daemon_->running());
    stub_ = v1::SigningService::NewStub(
        grpc::CreateChannel(daemon_->address(true), grpc::InsecureChannelCredentials()));
  }
  grpc::Status sign(const v1::SignRequest& req, v1::SignResult* out) {
    grpc::ClientContext ctx;
    return stub_->Sign(&ctx, req, out);
  }
  grpc::Status verify(const v1::VerifyRequest& req, v1::VerifyResult* out) {
    grpc::ClientContext ctx;
    return stub_->Verify(&ctx, req, out);
  }

  test::TempDir tmp_;
  fs::path root_;
  std::unique_ptr<test::Daemon> daemon_;
  std::unique_ptr<v1::SigningService::Stub> stub_;
};

TEST_F(SigningLive, SignsThenVerifiesAndCatchesAChange) {
  auto [priv, pub] = ec_key();
  v1::SignRequest s;
  s.set_model_path("model");
  s.set_private_key_pem(priv);
  v1::SignResult sr;
  ASSERT_TRUE(sign(s, &sr).ok());
  EXPECT_EQ(sr.status(), v1::SIGNING_OK);
  EXPECT_EQ(sr.resources(), 2u);
  EXPECT_TRUE(fs::exists(root_ / "model" / "model.sig"));

  v1::VerifyRequest v;
  v.set_model_path("model");
  v.set_public_key_pem(pub);
  v1::VerifyResult vr;
  ASSERT_TRUE(verify(v, &vr).ok());
  EXPECT_TRUE(vr.verified()) << vr.reason();

  tmp_.write("root/model/config.json", "{\"changed\": true}");
  ASSERT_TRUE(verify(v, &vr).ok());
  EXPECT_FALSE(vr.verified());
  EXPECT_EQ(vr.status(), v1::SIGNING_FAILED);
  EXPECT_THAT(vr.reason(), HasSubstr("config.json: content differs"));
}

TEST_F(SigningLive, RefusesPathsOutsideTheRootsAndServerKeyFiles) {
  auto [priv, pub] = ec_key();
  v1::SignRequest s;
  s.set_private_key_pem(priv);
  v1::SignResult sr;
  s.set_model_path((tmp_.path() / "outside" / "model").string());
  EXPECT_EQ(sign(s, &sr).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s.set_model_path("model");
  s.set_signature_path((tmp_.path() / "outside" / "model.sig").string());
  EXPECT_EQ(sign(s, &sr).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s.set_signature_path("model/weights.bin");
  EXPECT_EQ(sign(s, &sr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(std::string(100000, 'w').size(), fs::file_size(root_ / "model" / "weights.bin"));
  s.clear_signature_path();
  s.clear_private_key_pem();
  s.set_private_key_path((root_ / "model" / "config.json").string());
  auto st = sign(s, &sr);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("private_key_path"));

  v1::VerifyRequest v;
  v.set_model_path("model");
  v.set_public_key_pem("not a key");
  v1::VerifyResult vr;
  EXPECT_EQ(verify(v, &vr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
