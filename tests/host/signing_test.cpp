// The byte-level pieces of the model signing format and the manifest hashing.
#include "secmlops/host/signing.hpp"
#include "secmlops/host/signing_ops.hpp"
#include "secmlops/v1/signing.pb.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <map>
#include <random>

namespace fs = std::filesystem;
using namespace secmlops::host::signing;
using secmlops::host::sha256_hex;

namespace {

struct TempModel {
  fs::path root =
      fs::temp_directory_path() / ("signing-unit-" + std::to_string(std::random_device{}()));
  TempModel() { fs::create_directories(root / "d"); }
  ~TempModel() { fs::remove_all(root); }
  void write(const std::string& rel, const std::string& text) const {
    std::ofstream(root / rel, std::ios::binary) << text;
  }
};

}  // namespace

TEST(Signing, PaeMatchesTheDsseDefinition) {
  EXPECT_EQ(pae("application/vnd.in-toto+json", "{}"),
            "DSSEv1 28 application/vnd.in-toto+json 2 {}");
  EXPECT_EQ(pae("", ""), "DSSEv1 0  0 ");
}

TEST(Signing, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                       "foobar", std::string("\0\xff\xfe", 3)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("-_8"), base64_decode("+/8="));
  EXPECT_THROW(base64_decode("a"), std::invalid_argument);
  EXPECT_THROW(base64_decode("ab$d"), std::invalid_argument);
}

TEST(Signing, RootDigestIsSha256OfRawDigestsInOrder) {
  std::string a = sha256_hex("a"), b = sha256_hex("b");
  std::vector<Resource> rs{{"x", "sha256", a}, {"y", "sha256", b}};
  std::string raw;
  for (const auto& h : {a, b})
    for (size_t i = 0; i < h.size(); i += 2)
      raw += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  EXPECT_EQ(root_digest(rs), sha256_hex(raw));
}

TEST(Signing, SortsByPathComponentsThenShardOffsets) {
  std::vector<Resource> rs{{"a.b", "", ""},
                           {"a/b", "", ""},
                           {"f:1000:2000", "", ""},
                           {"f:0:1000", "", ""},
                           {"f:200:1000", "", ""}};
  sort_resources(rs);
  std::vector<std::string> names;
  for (const auto& r : rs) names.push_back(r.name);
  // "a" < "a.b" as a component, so a/b comes first (a byte sort would put a.b first).
  EXPECT_EQ(names,
            (std::vector<std::string>{"a/b", "a.b", "f:0:1000", "f:200:1000", "f:1000:2000"}));
}

TEST(Signing, HashesFilesAndShardsAlike) {
  TempModel m;
  std::string big(1000003, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
  m.write("big.bin", big);
  m.write("d/small.txt", "hello");
  m.write("d/empty", "");
  m.write(".gitignore", "*.o");
  HashOptions o;
  o.threads = 3;
  auto files = hash_model(m.root, o);
  ASSERT_EQ(files.resources.size(), 3u);
  EXPECT_EQ(files.resources[0].name, "big.bin");
  EXPECT_EQ(files.resources[0].digest, sha256_hex(big));
  EXPECT_EQ(files.resources[1].name, "d/empty");
  EXPECT_EQ(files.resources[2].digest, sha256_hex("hello"));
  EXPECT_EQ(files.bytes_hashed, big.size() + 5);

  o.method = Method::shards;
  o.shard_size = 300000;
  auto shards = hash_model(m.root, o);
  // 4 shards of big.bin, none of the empty file, one of small.txt.
  ASSERT_EQ(shards.resources.size(), 5u);
  EXPECT_EQ(shards.resources[3].name, "big.bin:900000:1000003");
  EXPECT_EQ(shards.resources[3].digest, sha256_hex(big.substr(900000)));

  o.method = Method::files;
  o.threads = 1;
  o.ignore_paths = {"d"};
  auto ignored = hash_model(m.root, o);
  ASSERT_EQ(ignored.resources.size(), 1u);
}

TEST(Signing, RefusesSymlinksAndNamesThem) {
  TempModel m;
  m.write("a", "1");
  fs::create_symlink(m.root / "a", m.root / "d" / "link");
  EXPECT_THROW(
      {
        try {
          hash_model(m.root, {});
        } catch (const ModelError& e) {
          EXPECT_STREQ(e.what(), "d/link: is a symbolic link (symlinks are refused)");
          throw;
        }
      },
      ModelError);
  EXPECT_THROW(hash_model(m.root / "missing", {}), UnusableInput);
}

TEST(Signing, StatementCarriesSubjectAndPredicate) {
  Manifest m;
  m.model_name = "bert";
  m.ignore_paths = {".git"};
  m.resources = {{"w", "sha256", sha256_hex("w")}};
  auto st = statement_json(m);
  EXPECT_NE(st.find("\"_type\":\"https://in-toto.io/Statement/v1\""), std::string::npos);
  EXPECT_NE(st.find("\"predicateType\":\"https://model_signing/signature/v1.0\""),
            std::string::npos);
  EXPECT_NE(
      st.find("\"name\":\"bert\",\"digest\":{\"sha256\":\"" + root_digest(m.resources) + "\"}"),
      std::string::npos);
  EXPECT_NE(st.find("\"method\":\"files\""), std::string::npos);
}

TEST(SigningOps, SignVerifyAndTagsThroughRequests) {
  TempModel m;
  m.write("w.bin", "weights");
  EVP_PKEY* key = EVP_EC_gen("P-384");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string priv(data, static_cast<size_t>(len));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  len = BIO_get_mem_data(bio, &data);
  std::string pub(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);

  secmlops::v1::SignRequest s;
  s.set_model_path(m.root.string());
  s.set_private_key_pem(priv);
  auto sr = secmlops::host::sign(s);
  ASSERT_EQ(sr.status(), secmlops::v1::SIGNING_OK) << sr.message();
  EXPECT_TRUE(fs::exists(m.root / "model.sig"));
  EXPECT_EQ(secmlops::host::signing_exit_code(sr.status()), 0);

  secmlops::v1::VerifyRequest v;
  v.set_model_path(m.root.string());
  v.set_public_key_pem(pub);
  std::string checked;
  auto vr = secmlops::host::verify(v, &checked);
  EXPECT_TRUE(vr.verified()) << vr.reason();
  EXPECT_EQ(vr.root_digest(), sr.root_digest());
  EXPECT_EQ(sr.algorithm(), "ecdsa-p384-sha384");
  EXPECT_EQ(vr.algorithm(), "ecdsa-p384-sha384");
  EXPECT_EQ(checked, sr.bundle_json());  // the bytes a run logs as signature/model.sig
  auto tags = secmlops::host::signature_tags(vr);
  EXPECT_EQ(tags.front(),
            (std::pair<std::string, std::string>{"secmlops.signature.verified", "true"}));
  std::map<std::string, std::string> by_key(tags.begin(), tags.end());
  EXPECT_EQ(by_key["secmlops.signature.subject"], m.root.filename().string());
  EXPECT_EQ(by_key["secmlops.signature.sha256"], secmlops::host::sha256_hex(sr.bundle_json()));

  m.write("w.bin", "other weights");
  vr = secmlops::host::verify(v);
  EXPECT_EQ(vr.status(), secmlops::v1::SIGNING_FAILED);
  EXPECT_EQ(secmlops::host::signing_exit_code(vr.status()), 1);
  EXPECT_EQ(vr.reason(), "w.bin: content differs from the signed digest");

  v.set_public_key_pem("garbage");
  vr = secmlops::host::verify(v);
  EXPECT_EQ(vr.status(), secmlops::v1::SIGNING_UNUSABLE_INPUT);
  EXPECT_EQ(secmlops::host::signing_exit_code(vr.status()), 2);
}
