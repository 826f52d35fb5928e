#include "cli_context.hpp"
#include "mlflow_options.hpp"
#include "option_table.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/report_render.hpp"
#include "secmlops/host/signing_ops.hpp"

#include <iostream>

namespace secmlops::cli {
namespace {

// Exit codes: 0 verified, 1 verification failed (the reason names the file), 2 unusable input.
void register_verify(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "verify", "verify a model against its signature (OpenSSF model signing format)");
  struct Args {
    std::string model, signature, public_key, format = "text";
    std::vector<std::string> roots, ignore;
    unsigned threads = 0;
  };
  auto a = std::make_shared<Args>();
  add_options(
      cmd,
      {
          {"model", &a->model, "model file or directory", kRequired},
          {"--public-key", &a->public_key, "EC public key (PEM or DER) the model was signed with"},
          {"--certificate-roots", &a->roots, "trusted root certificates (PEM, repeatable)"},
          {"--signature", &a->signature, "the signature (default: DIR/model.sig or FILE.sig)"},
          {"--ignore-paths", &a->ignore, "path relative to the model to leave out (repeatable)"},
          {"--threads", &a->threads, "hashing threads (default: every core)"},
          text_or_json(&a->format, "VerifyResult"),
      });
  // One trust anchor: a key or certificate roots.
  auto* key = cmd->get_option("--public-key");
  auto* roots = cmd->get_option("--certificate-roots");
  key->excludes(roots);
  roots->excludes(key);
  auto mlflow = add_mlflow_options(cmd);
  cmd->callback([&ctx, a, mlflow] {
    v1::VerifyRequest req;
    req.set_model_path(a->model);
    req.set_signature_path(a->signature);
    req.set_public_key_path(a->public_key);
    for (const auto& r : a->roots) req.add_certificate_root_paths(r);
    for (const auto& p : a->ignore) req.add_ignore_paths(p);
    req.set_threads(a->threads);
    *req.mutable_mlflow() = to_recording(*mlflow);
    auto result = app::verify(ctx.env(), req);
    if (a->format == "json") {
      std::cout << host::to_json(result);
    } else if (result.status() == v1::SIGNING_OK) {
      std::cout << "OK " << a->model << ": " << result.reason() << "\n  subject "
                << result.model_name() << " sha256:" << result.root_digest() << "\n  signer  "
                << result.signer() << "\n";
    } else if (result.status() == v1::SIGNING_FAILED) {
      std::cout << "FAILED " << a->model << ": " << result.reason() << "\n";
      for (size_t i = 1; i < static_cast<size_t>(result.problems_size()); ++i)
        std::cout << "  " << result.problems(static_cast<int>(i)) << "\n";
    } else {
      std::cerr << "error: " << result.reason() << "\n";
    }
    ctx.exit_code = host::signing_exit_code(result.status());
  });
}

}  // namespace

SECMLOPS_CLI_COMMAND(verify, register_verify)

}  // namespace secmlops::cli
