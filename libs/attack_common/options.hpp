#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

namespace secmlops::sdk {
class Config;
}

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

// The parameters each attack plugin understands (docs/attacks.md lists them per attack).
// check_parameters refuses any other key with INVALID_ARGUMENT naming it and listing these, so
// a typo or a parameter of another attack never runs silently with a default.
using ParameterList = std::initializer_list<const char*>;
inline constexpr ParameterList kFgsmParameters = {
    "norm", "eps", "eps_step", "targeted", "num_random_init", "minimal", "random_eps", "seed",
    "clip_min", "clip_max", "eps_scale", "immutable", "mask"};
inline constexpr ParameterList kPgdParameters = {
    "norm", "eps", "eps_step", "targeted", "num_random_init", "max_iter", "decay", "random_eps",
    "early_stop", "seed", "clip_min", "clip_max", "eps_scale", "immutable", "mask"};
inline constexpr ParameterList kHopSkipJumpParameters = {
    "norm", "eps", "targeted", "max_iter", "max_eval", "init_eval", "init_size", "seed",
    "clip_min", "clip_max", "immutable", "mask"};
inline constexpr ParameterList kTransferParameters = {
    "norm", "eps", "eps_step", "targeted", "num_random_init", "max_iter", "decay", "random_eps",
    "early_stop", "seed", "clip_min", "clip_max", "eps_scale", "immutable", "mask",
    "augment", "noise", "l2", "fit_iter"};
void check_parameters(const sdk::Config& config, const char* attack, ParameterList known);

Norm parse_norm(const std::string& s);
const char* norm_name(Norm n);

// Parses "a,b,c" into a vector; size must be 1 or `d` unless exact is set.
Eigen::VectorXd parse_vector(const std::string& key, const std::string& value, uint64_t d, bool allow_scalar);

}  // namespace secmlops::plugins::attacks
