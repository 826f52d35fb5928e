#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "option_table.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/report_render.hpp"
#include "secmlops/host/signing_ops.hpp"

#include <iostream>

namespace secmlops::cli {
namespace {

// Exit codes: 0 signed, 2 unusable input (key, password, model, output path).
void register_sign(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("sign",
                                 "sign a model file or directory (OpenSSF model signing format: "
                                 "Sigstore bundle, DSSE, in-toto)");
  struct Args {
    std::string model, signature, key, password_file, format = "text", method = "files";
    std::vector<std::string> chain, ignore;
    uint64_t shard_size = 0;
    bool include_git = false, dry_run = false;
    unsigned threads = 0;
  };
  auto a = std::make_shared<Args>();
  add_options(
      cmd,
      {
          {"model", &a->model, "model file or directory", kRequired},
          {"--key", &a->key, "EC private key (PEM; P-256, P-384 or P-521)", kRequired},
          {"--password-file", &a->password_file, "file whose first line is the key's password"},
          {"--certificate-chain", &a->chain,
           "sign with a certificate: the signing certificate (PEM) first, then intermediates "
           "(repeatable)"},
          {"--signature", &a->signature,
           "where to write the signature (default: DIR/model.sig or FILE.sig)"},
          {"--ignore-paths", &a->ignore, "path relative to the model to leave out (repeatable)"},
          {"--include-git-paths", &a->include_git,
           "hash .git/, .gitattributes, .github/, .gitignore too"},
          {"--method",
           &a->method,
           "files (a digest per file) or shards (a digest per shard)",
           kShowDefault,
           {"files", "shards"}},
          {"--shard-size", &a->shard_size,
           "shard size in bytes for --method shards (default 1000000000)"},
          {"--threads", &a->threads, "hashing threads (default: every core)"},
          {"--dry-run", &a->dry_run, "hash and sign, but do not write the signature"},
          text_or_json(&a->format, "SignResult"),
      });
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, a, mlflow] {
    v1::SignRequest req;
    req.set_model_path(a->model);
    req.set_signature_path(a->signature);
    req.set_private_key_path(a->key);
    req.set_password_file(a->password_file);
    for (const auto& c : a->chain) req.add_certificate_chain_paths(c);
    auto* h = req.mutable_hashing();
    h->set_method(a->method == "shards" ? v1::SERIALIZATION_SHARDS : v1::SERIALIZATION_FILES);
    h->set_shard_size(a->shard_size);
    for (const auto& p : a->ignore) h->add_ignore_paths(p);
    h->set_include_git_paths(a->include_git);
    h->set_threads(a->threads);
    req.set_dry_run(a->dry_run);
    *req.mutable_mlflow() = to_recording(*mlflow);
    auto result = app::sign(ctx.env(), req);
    if (a->format == "json") {
      std::cout << host::to_json(result);
    } else if (result.status() == v1::SIGNING_OK) {
      std::cout << result.message() << "\n  subject " << result.model_name()
                << " sha256:" << result.root_digest() << "\n  signer  " << result.signer()
                << "\n  hashed  " << result.bytes_hashed() << " bytes in " << result.seconds()
                << " s\n";
    } else {
      std::cerr << "error: " << result.message() << "\n";
    }
    ctx.exit_code = host::signing_exit_code(result.status());
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(sign, register_sign)

}  // namespace secmlops::cli
