#pragma once

#include "norms.hpp"

namespace secmlops::plugins::attacks {

// FGSM/FGM with ART 1.20's semantics (FastGradientMethod.generate). `y` holds true labels
// (untargeted) or targets (targeted); empty = the model's own predictions. The adversarial
// examples are written to `out` (x's shape; the plugins pass the host's buffer).
void fgsm(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o,
          Eigen::Ref<RowMatrix> out);
RowMatrix fgsm(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o);

// PGD with ART 1.20's semantics (ProjectedGradientDescentNumpy.generate).
void pgd(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o,
         Eigen::Ref<RowMatrix> out);
RowMatrix pgd(Oracle& model, const ConstRows& x, Labels y, GradientAttackOptions o);

// The labels an attack works with: y when given, the model's predictions otherwise; a targeted
// attack without targets is an error.
Labels attack_labels(Oracle& model, const ConstRows& x, Labels y, bool targeted);

}  // namespace secmlops::plugins::attacks
