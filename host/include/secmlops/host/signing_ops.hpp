#pragma once

// Sign and verify as operations: a proto request in, a proto result out, never an exception for
// bad input (the result's status says unusable input). The CLI, the gRPC SigningService and
// pipeline steps call these.

#include "secmlops/host/proto_fwd.hpp"
#include "secmlops/host/run_recorder.hpp"
#include "secmlops/v1/signing.pb.h"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::host {

v1::SignResult sign(const v1::SignRequest& request);
// `bundle`, when given, receives the bytes of the signature that was checked (empty when none
// could be read).
v1::VerifyResult verify(const v1::VerifyRequest& request, std::string* bundle = nullptr);

// Exit status of the CLI for a result: 0 ok, 1 verification failed, 2 unusable input.
// Inline: the CLI maps a status without linking the signing code (kept in a module).
inline int signing_exit_code(v1::SigningStatus status) {
  switch (status) {
    case v1::SIGNING_OK:
      return 0;
    case v1::SIGNING_FAILED:
      return 1;
    default:
      return 2;
  }
}

// What a run records about a verification (MLflow tags of the run and of the registered model
// version): secmlops.signature.{verified,reason,signer,algorithm,subject,root_digest,
// predicate_type,method,resources,sha256}. Values are data: the recorder escapes nothing away.
std::vector<std::pair<std::string, std::string>> signature_tags(const v1::VerifyResult& result);
// The same for a signature just made: secmlops.signature.{signer,algorithm,subject,root_digest,
// method,resources,sha256}.
std::vector<std::pair<std::string, std::string>> signature_tags(const v1::SignResult& result);

// A sign or verify operation as a run: secmlops.kind sign / verify, the signature tags, the
// metrics signing.resources, signing.bytes_hashed and signing.duration_seconds, and the
// signature's bytes (`bundle`; the result's own for a signature just made) as the artifact
// signature/model.sig.
void record_signing(RunRecorder& run, const v1::SignResult& result);
void record_verification(RunRecorder& run, const v1::VerifyResult& result, std::string_view bundle);

// The rule a failed signature check reports in a scan.
inline constexpr const char* kSignatureRule = "HOST-SIGNATURE-INVALID";

// Verifies `model` (its default signature, or `signature` when given) with a public key and,
// when verification fails or cannot run, returns the CRITICAL finding a scan adds to the
// model's report. nullopt when the signature verifies.
std::optional<v1::Finding> signature_finding(const std::filesystem::path& model,
                                             const std::filesystem::path& public_key,
                                             const std::filesystem::path& signature = {});

// `scan --require-signature`: verifies every scanned path (a model file or directory, with its
// default signature) with the public key and adds a signature_finding to the report where it
// fails — to the model's own file report, else to its first file's, else to a new one — then
// summarises the report again.
void require_signatures(v1::ScanReport& report, const std::vector<std::filesystem::path>& models,
                        const std::filesystem::path& public_key);

}  // namespace secmlops::host
