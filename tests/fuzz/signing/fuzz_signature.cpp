// Signature verification on arbitrary bytes. The first byte picks what the rest is:
//   even: the signature file itself (bundle JSON, as read from model.sig);
//   odd:  the in-toto statement, which the harness signs with its own key into a valid bundle,
//         so the statement and manifest checks run past the signature check a fuzzer cannot
//         forge.
// The model is a small fixed directory. verify_model may only return an outcome (verified or a
// reason); any exception is a bug.
#include "keys.hpp"

#include <openssl/pem.h>
#include <unistd.h>
#include "secmlops/host/signing.hpp"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

using namespace secmlops::host::signing;

namespace {

struct Fixture {
  std::filesystem::path model;
  Pkey key;
  std::string public_pem;
  Fixture() {
    model =
        std::filesystem::temp_directory_path() / ("fuzz-signature-" + std::to_string(::getpid()));
    std::filesystem::create_directories(model / "d");
    std::ofstream(model / "w.bin") << "weights";
    std::ofstream(model / "d" / "c.json") << "{}";
    key.reset(EVP_EC_gen("P-256"));
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key.get());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    public_pem.assign(data, static_cast<size_t>(len));
    BIO_free(bio);
  }
  ~Fixture() { std::filesystem::remove_all(model); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  VerifyOptions o;
  o.model = f.model;
  o.public_key_pem = f.public_pem;
  o.threads = 1;
  if (data[0] & 1) {
    std::string sig = ecdsa_sign(f.key.get(), pae(kInTotoPayloadType, rest));
    o.bundle_json = std::string("{\"mediaType\":\"") + std::string(kBundleMediaType) +
                    "\",\"verificationMaterial\":{},\"dsseEnvelope\":{\"payload\":\"" +
                    base64_encode(rest) + "\",\"payloadType\":\"" +
                    std::string(kInTotoPayloadType) + "\",\"signatures\":[{\"sig\":\"" +
                    base64_encode(sig) + "\"}]}}";
  } else {
    o.bundle_json = rest;
  }
  auto out = verify_model(o);
  if (!out.verified && out.reason.empty()) __builtin_trap();
  return 0;
}
