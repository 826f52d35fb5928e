#pragma once

// Text rendering of model results shared by train, describe and pipelines.
#include "secmlops/v1/attack_service.pb.h"
#include "secmlops/v1/model_service.pb.h"

#include <ostream>
#include <string>

namespace secmlops::cli {

void print_metrics(std::ostream& out, const std::string& what, const v1::ClassificationMetrics& m);
void print_overfitting(std::ostream& out, const v1::OverfittingReport& r);
void print_attack(std::ostream& out, const v1::AttackReport& r);

}  // namespace secmlops::cli
