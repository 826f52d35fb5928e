#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>

#include <secmlops/sdk/plugin.hpp>

namespace secmlops::plugins::attacks {

enum class Norm { L1, L2, Inf };

// Parameters of the gradient attacks (FGSM, PGD) with ART 1.20's names and defaults, plus the
// tabular extensions (per-feature eps scale, per-feature bounds, immutable features, early stop).
struct GradientAttackOptions {
  Norm norm = Norm::Inf;
  double eps = 0.3;
  double eps_step = 0.1;
  // Per-feature multipliers of eps and eps_step (empty: 1 everywhere).
  Eigen::VectorXd eps_scale;
  bool targeted = false;
  int num_random_init = 0;
  int max_iter = 100;  // PGD only
  // PGD only: momentum (ART's `decay`, Dong et al. 2018); unset = plain PGD.
  std::optional<double> decay;
  bool minimal = false;  // FGSM only
  bool random_eps = false;
  bool early_stop = false;  // PGD: freeze a sample once it is adversarial (not in ART)
  // Value bounds, scalar (size 1) or per feature (size d); empty = unbounded.
  Eigen::VectorXd clip_min;
  Eigen::VectorXd clip_max;
  // 1 = may be perturbed, 0 = immutable (size d); empty = all mutable.
  Eigen::VectorXd mask;
  uint64_t seed = 0;

  // Reads the parameters an attack plugin receives; `n_features` sizes the per-feature ones.
  // Throws sdk::Error(INVALID_ARGUMENT) naming the parameter on a bad value.
  static GradientAttackOptions from_config(const sdk::Config& config, uint64_t n_features);
  // Per-feature eps and eps_step vectors (eps × eps_scale).
  [[nodiscard]] Eigen::VectorXd eps_vector(uint64_t d) const;
  [[nodiscard]] Eigen::VectorXd step_vector(uint64_t d) const;
};

// The parameters each attack plugin understands, with their types and defaults: the plugins
// declare them (the host checks keys and types before generate and lists them in `secmlops
// plugins --json`), and check_parameters refuses any other key with INVALID_ARGUMENT naming it,
// so a typo or a parameter of another attack never runs silently with a default.
using ParameterList = std::span<const secmlops_option>;
namespace param {
using sdk::option;
inline constexpr secmlops_option norm =
    option(SECMLOPS_OPTION_STRING, "norm", "inf, 1 or 2", "inf");
inline constexpr secmlops_option norm2 = option(SECMLOPS_OPTION_STRING, "norm", "2 or inf", "2");
inline constexpr secmlops_option eps =
    option(SECMLOPS_OPTION_DOUBLE, "eps", "perturbation budget", "0.3");
inline constexpr secmlops_option eps_step =
    option(SECMLOPS_OPTION_DOUBLE, "eps_step", "step size", "0.1");
inline constexpr secmlops_option targeted =
    option(SECMLOPS_OPTION_BOOL, "targeted", "labels are targets", "false");
inline constexpr secmlops_option num_random_init =
    option(SECMLOPS_OPTION_INT, "num_random_init", "random starts inside the eps ball", "0");
inline constexpr secmlops_option max_iter =
    option(SECMLOPS_OPTION_INT, "max_iter", "iterations", "100");
inline constexpr secmlops_option decay =
    option(SECMLOPS_OPTION_DOUBLE, "decay", "momentum (unset: plain PGD)");
inline constexpr secmlops_option minimal =
    option(SECMLOPS_OPTION_BOOL, "minimal", "smallest eps (in eps_step steps) that flips each row",
           "false");
inline constexpr secmlops_option random_eps =
    option(SECMLOPS_OPTION_BOOL, "random_eps", "draw eps per row", "false");
inline constexpr secmlops_option early_stop =
    option(SECMLOPS_OPTION_BOOL, "early_stop", "freeze a row once it is adversarial", "false");
inline constexpr secmlops_option seed = option(SECMLOPS_OPTION_INT, "seed", "random seed", "0");
inline constexpr secmlops_option clip_min =
    option(SECMLOPS_OPTION_STRING, "clip_min", "lower bound, one value or one per feature");
inline constexpr secmlops_option clip_max =
    option(SECMLOPS_OPTION_STRING, "clip_max", "upper bound, one value or one per feature");
inline constexpr secmlops_option eps_scale =
    option(SECMLOPS_OPTION_STRING, "eps_scale", "per-feature multipliers of eps");
inline constexpr secmlops_option immutable =
    option(SECMLOPS_OPTION_STRING, "immutable", "comma-separated feature indices kept unchanged");
inline constexpr secmlops_option mask =
    option(SECMLOPS_OPTION_STRING, "mask", "per-feature 1 (may change) or 0");
}  // namespace param

inline constexpr secmlops_option kFgsmParameters[] = {
    param::norm,      param::eps,        param::eps_step, param::targeted, param::num_random_init,
    param::minimal,   param::random_eps, param::seed,     param::clip_min, param::clip_max,
    param::eps_scale, param::immutable,  param::mask};
inline constexpr secmlops_option kPgdParameters[] = {
    param::norm,     param::eps,      param::eps_step,   param::targeted,   param::num_random_init,
    param::max_iter, param::decay,    param::random_eps, param::early_stop, param::seed,
    param::clip_min, param::clip_max, param::eps_scale,  param::immutable,  param::mask};
inline constexpr secmlops_option kHopSkipJumpParameters[] = {
    param::norm2,
    sdk::option(SECMLOPS_OPTION_DOUBLE, "eps",
                "optional budget: project onto the eps ball (0: none)", "0"),
    param::targeted,
    sdk::option(SECMLOPS_OPTION_INT, "max_iter", "boundary-walk iterations", "10"),
    sdk::option(SECMLOPS_OPTION_INT, "max_eval",
                "gradient-estimation queries per row and iteration", "1000"),
    sdk::option(SECMLOPS_OPTION_INT, "init_eval",
                "gradient-estimation queries at the first iteration", "64"),
    sdk::option(SECMLOPS_OPTION_INT, "init_size", "random draws to find an adversarial start",
                "100"),
    param::seed,
    param::clip_min,
    param::clip_max,
    param::immutable,
    param::mask};
inline constexpr secmlops_option kTransferParameters[] = {
    param::norm,
    param::eps,
    param::eps_step,
    param::targeted,
    param::num_random_init,
    sdk::option(SECMLOPS_OPTION_INT, "max_iter", "PGD iterations on the surrogate", "40"),
    param::decay,
    param::random_eps,
    param::early_stop,
    param::seed,
    param::clip_min,
    param::clip_max,
    param::eps_scale,
    param::immutable,
    param::mask,
    sdk::option(SECMLOPS_OPTION_INT, "augment",
                "perturbed copies of each row queried on the target", "10"),
    sdk::option(SECMLOPS_OPTION_DOUBLE, "noise",
                "their Gaussian noise, in feature standard deviations", "0.1"),
    sdk::option(SECMLOPS_OPTION_DOUBLE, "l2", "surrogate regularisation", "0.001"),
    sdk::option(SECMLOPS_OPTION_INT, "fit_iter", "surrogate optimisation steps", "200")};
void check_parameters(const sdk::Config& config, const char* attack, ParameterList known);

Norm parse_norm(const std::string& s);
const char* norm_name(Norm n);

// Parses "a,b,c" into a vector; size must be 1 or `d` unless exact is set.
Eigen::VectorXd parse_vector(const std::string& key, const std::string& value, uint64_t d,
                             bool allow_scalar);

}  // namespace secmlops::plugins::attacks
