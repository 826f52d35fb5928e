#include "options.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <cmath>
#include <sstream>

namespace secmlops::plugins::attacks {

using sdk::Error;

void check_parameters(const sdk::Config& config, const char* attack, ParameterList known) {
  for (const auto& entry : config.entries()) {
    bool ok = false;
    for (const auto& k : known) ok = ok || entry.first == k.name;
    if (ok) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + std::string(k.name);
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                "unknown parameter '" + entry.first + "' for " + attack + " (valid: " + list + ")");
  }
}

Norm parse_norm(const std::string& s) {
  if (s == "inf" || s == "Inf" || s == "np.inf" || s == "linf") return Norm::Inf;
  if (s == "2" || s == "l2") return Norm::L2;
  if (s == "1" || s == "l1") return Norm::L1;
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
              "parameter 'norm' must be inf, 1 or 2, got '" + s + "'");
}

const char* norm_name(Norm n) {
  switch (n) {
    case Norm::Inf:
      return "inf";
    case Norm::L2:
      return "2";
    case Norm::L1:
      return "1";
  }
  return "?";
}

Eigen::VectorXd parse_vector(const std::string& key, const std::string& value, uint64_t d,
                             bool allow_scalar) {
  std::vector<double> values;
  std::stringstream ss(value);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      values.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                  "parameter '" + key + "': '" + item + "' is not a number");
    }
  }
  if (values.size() == 1 && allow_scalar) return Eigen::VectorXd::Constant(1, values[0]);
  if (values.size() != d)
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                "parameter '" + key + "' has " + std::to_string(values.size()) +
                    " values, the model has " + std::to_string(d) + " features" +
                    (allow_scalar ? " (or give one value)" : ""));
  return Eigen::Map<Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

GradientAttackOptions GradientAttackOptions::from_config(const sdk::Config& c, uint64_t d) {
  GradientAttackOptions o;
  o.norm = parse_norm(c.get_string("norm", "inf"));
  o.eps = c.get_double("eps", o.eps);
  o.eps_step = c.get_double("eps_step", o.eps_step);
  if (!(o.eps >= 0)) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "parameter 'eps' must be >= 0");
  if (!(o.eps_step > 0))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "parameter 'eps_step' must be > 0");
  o.targeted = c.get_bool("targeted", false);
  o.num_random_init = static_cast<int>(c.get_int("num_random_init", 0));
  if (o.num_random_init < 0 || o.num_random_init > 1000)
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "parameter 'num_random_init' must be in 0..1000");
  o.max_iter = static_cast<int>(c.get_int("max_iter", o.max_iter));
  if (o.max_iter < 1 || o.max_iter > 100000)
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "parameter 'max_iter' must be in 1..100000");
  if (c.has("decay")) {
    o.decay = c.get_double("decay", 0);
    if (!(*o.decay >= 0) || !std::isfinite(*o.decay))
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "parameter 'decay' must be a number >= 0");
  }
  o.minimal = c.get_bool("minimal", false);
  o.random_eps = c.get_bool("random_eps", false);
  o.early_stop = c.get_bool("early_stop", false);
  o.seed = static_cast<uint64_t>(c.get_int("seed", 0));
  if (auto v = c.get("eps_scale")) {
    o.eps_scale = parse_vector("eps_scale", *v, d, false);
    if ((o.eps_scale.array() < 0).any())
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "parameter 'eps_scale' must be >= 0");
  }
  if (auto v = c.get("clip_min")) o.clip_min = parse_vector("clip_min", *v, d, true);
  if (auto v = c.get("clip_max")) o.clip_max = parse_vector("clip_max", *v, d, true);
  if (o.clip_min.size() > 0 && o.clip_max.size() > 0) {
    Eigen::VectorXd lo =
        o.clip_min.size() == 1 ? Eigen::VectorXd::Constant(d, o.clip_min[0]) : o.clip_min;
    Eigen::VectorXd hi =
        o.clip_max.size() == 1 ? Eigen::VectorXd::Constant(d, o.clip_max[0]) : o.clip_max;
    if ((lo.array() > hi.array()).any())
      throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "clip_min is above clip_max for some feature");
  }
  if (auto v = c.get("mask")) {
    o.mask = parse_vector("mask", *v, d, false);
  }
  if (auto v = c.get("immutable")) {
    // Feature indices that must not change: a friendlier spelling of the mask.
    if (o.mask.size() == 0) o.mask = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(d));
    std::stringstream ss(*v);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      int64_t idx = -1;
      try {
        size_t used = 0;
        idx = std::stoll(item, &used);
        if (used != item.size()) idx = -1;
      } catch (const std::exception&) {
      }
      if (idx < 0 || static_cast<uint64_t>(idx) >= d)
        throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "parameter 'immutable': '" + item +
                                                       "' is not a feature index in 0.." +
                                                       std::to_string(d - 1));
      o.mask[idx] = 0;
    }
  }
  return o;
}

Eigen::VectorXd GradientAttackOptions::eps_vector(uint64_t d) const {
  if (eps_scale.size() == 0) return Eigen::VectorXd::Constant(static_cast<Eigen::Index>(d), eps);
  return eps * eps_scale;
}

Eigen::VectorXd GradientAttackOptions::step_vector(uint64_t d) const {
  if (eps_scale.size() == 0)
    return Eigen::VectorXd::Constant(static_cast<Eigen::Index>(d), eps_step);
  return eps_step * eps_scale;
}

}  // namespace secmlops::plugins::attacks
