// Signing: manifest → in-toto statement → DSSE signature over PAE → Sigstore bundle JSON.
#include "keys.hpp"
#include "secmlops/host/signing.hpp"
#include "signature_path.hpp"

#include <nlohmann/json.hpp>

namespace secmlops::host::signing {

SignOutcome sign_model(const SignOptions& options) {
  Pkey key = load_private_key(options.private_key_pem, options.password);
  std::vector<Cert> chain;
  if (!options.certificate_chain_pem.empty()) {
    chain = load_certificates(options.certificate_chain_pem, "certificate chain");
    Pkey cert_key(X509_get_pubkey(chain.front().get()));
    if (!cert_key || EVP_PKEY_eq(cert_key.get(), key.get()) != 1)
      throw UnusableInput(
          "certificate chain: the signing certificate (first in the chain) does not hold the "
          "private key's public key");
  }

  HashOptions hashing = options.hashing;
  if (auto rel = path_inside_model(options.model, options.signature); !rel.empty())
    hashing.ignore_paths.push_back(rel);
  SignOutcome out;
  out.manifest = hash_model(options.model, hashing);
  std::string payload;
  try {
    payload = statement_json(out.manifest);
  } catch (const nlohmann::json::exception&) {
    throw ModelError(options.model.string() +
                     ": a file name is not valid UTF-8 and cannot be recorded");
  }
  out.root_digest = root_digest(out.manifest.resources);
  std::string signature = ecdsa_sign(key.get(), pae(kInTotoPayloadType, payload));
  out.algorithm = signature_algorithm(key.get());

  nlohmann::ordered_json material;
  if (chain.empty()) {
    std::string hint = public_key_hint(key.get());
    material["publicKey"] = {{"hint", hint}};
    out.signer = "key sha256:" + hint;
  } else {
    auto certs = nlohmann::ordered_json::array();
    for (const auto& c : chain)
      certs.push_back({{"rawBytes", base64_encode(certificate_der(c.get()))}});
    material["x509CertificateChain"] = {{"certificates", certs}};
    out.signer = certificate_subject(chain.front().get());
  }
  material["tlogEntries"] = nlohmann::ordered_json::array();
  nlohmann::ordered_json bundle = {
      {"mediaType", kBundleMediaType},
      {"verificationMaterial", material},
      {"dsseEnvelope",
       {{"payload", base64_encode(payload)},
        {"payloadType", kInTotoPayloadType},
        {"signatures",
         nlohmann::ordered_json::array({{{"sig", base64_encode(signature)}, {"keyid", ""}}})}}},
  };
  out.bundle_json = bundle.dump(2) + "\n";
  return out;
}

}  // namespace secmlops::host::signing
