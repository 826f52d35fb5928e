#include "svm_onnx.hpp"

// GCC 12 reports a bogus -Wrestrict inside libstdc++'s string copy inlined from protobuf's
// setters here (GCC bug 105329); the code copies short literals.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <secmlops/models/onnx_io.hpp>

#include <cmath>

namespace secmlops::plugins::rbf_svm {

namespace onnx_io = secmlops::models::onnx_io;
namespace {

using sdk::Error;

[[noreturn]] void invalid(const std::string& m) {
  std::string message = "SVMClassifier: ";
  message += m;
  throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, message);
}

constexpr size_t kMaxClasses = 1000;

std::vector<float> to_floats(const double* v, size_t n) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(v[i]);
  return out;
}

}  // namespace

std::vector<uint8_t> export_onnx(const SvmModel& m) {
  if (!m.fitted()) throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the SVM is not fitted");
  const uint32_t C = m.n_classes();
  auto model = onnx_io::skeleton("rbf_svm", m.n_features());
  auto* g = model.mutable_graph();
  auto* node = g->add_node();
  node->set_op_type("SVMClassifier");
  node->set_domain("ai.onnx.ml");
  node->set_name("SVMc");
  node->add_input("X");
  node->add_output("label");
  node->add_output("probabilities");
  std::vector<int64_t> labels(C), per_class;
  for (uint32_t c = 0; c < C; ++c) labels[c] = c;
  for (int n : m.n_support()) per_class.push_back(n);
  const auto& sv = m.support_vectors();
  const auto& dual = m.dual_coef();
  onnx_io::set_ints(*node, "classlabels_ints", labels);
  onnx_io::set_floats(*node, "coefficients",
                      to_floats(dual.data(), static_cast<size_t>(dual.size())));
  const Kernel& k = m.kernel();
  onnx_io::set_floats(
      *node, "kernel_params",
      {static_cast<float>(k.gamma), static_cast<float>(k.coef0), static_cast<float>(k.degree)});
  onnx_io::set_string(*node, "kernel_type", k.onnx_name());
  onnx_io::set_string(*node, "post_transform", "NONE");
  if (!m.prob_a().empty()) {
    onnx_io::set_floats(*node, "prob_a", to_floats(m.prob_a().data(), m.prob_a().size()));
    onnx_io::set_floats(*node, "prob_b", to_floats(m.prob_b().data(), m.prob_b().size()));
  }
  onnx_io::set_floats(*node, "rho", to_floats(m.intercept().data(), m.intercept().size()));
  onnx_io::set_floats(*node, "support_vectors",
                      to_floats(sv.data(), static_cast<size_t>(sv.size())));
  onnx_io::set_ints(*node, "vectors_per_class", per_class);
  onnx_io::add_output(*g, "label", onnx::TensorProto::INT64, {-1});
  onnx_io::add_output(*g, "probabilities", onnx::TensorProto::FLOAT, {-1, static_cast<int64_t>(C)});
  return onnx_io::serialize(model);
}

SvmModel import_onnx(sdk::Bytes bytes) {
  auto model = onnx_io::parse(bytes);
  const auto& g = model.graph();
  // Besides the classifier, skl2onnx may append ZipMap, casts and the arithmetic that turns
  // pairwise scores into one-vs-rest scores; none of them changes the SVM itself.
  const auto& n =
      onnx_io::find_ml_node(g, "SVMClassifier",
                            {"ZipMap", "Cast", "Identity", "Less", "ArrayFeatureExtractor", "Neg",
                             "Sum", "Concat", "Abs", "Add", "Mul", "Div"});
  const auto kernel_type = onnx_io::string_attr(n, "kernel_type", "LINEAR");
  Kernel kernel;
  if (kernel_type == "RBF")
    kernel.type = Kernel::rbf;
  else if (kernel_type == "LINEAR")
    kernel.type = Kernel::linear;
  else if (kernel_type == "POLY")
    kernel.type = Kernel::poly;
  else if (kernel_type == "SIGMOID")
    kernel.type = Kernel::sigmoid;
  else
    throw Error(SECMLOPS_ERR_UNSUPPORTED,
                "SVMClassifier kernel " + kernel_type + " is not RBF, LINEAR, POLY or SIGMOID");
  const auto post = onnx_io::string_attr(n, "post_transform", "NONE");
  if (post != "NONE")
    throw Error(SECMLOPS_ERR_UNSUPPORTED,
                "SVMClassifier post_transform " + post + " is not supported");
  // [gamma, coef0, degree]; the linear kernel needs none of them.
  auto kp = onnx_io::floats(n, "kernel_params", kernel.type == Kernel::rbf);
  if (kp.empty() && kernel.type != Kernel::linear) invalid("kernel_params is empty");
  if (!kp.empty()) kernel.gamma = kp[0];
  if (kp.size() > 1) kernel.coef0 = kp[1];
  if (kp.size() > 2) kernel.degree = kp[2];
  if (kernel.type == Kernel::linear) kernel = Kernel{Kernel::linear, kernel.gamma, 0, 3};
  auto per_class = onnx_io::ints(n, "vectors_per_class");
  size_t C = onnx_io::ints(n, "classlabels_ints", false).size();
  if (C == 0) C = onnx_io::strings(n, "classlabels_strings", false).size();
  if (C == 0) invalid("no classlabels_ints or classlabels_strings");
  if (C > kMaxClasses) invalid("too many classes (" + std::to_string(C) + ")");
  if (per_class.size() != C)
    invalid("vectors_per_class has " + std::to_string(per_class.size()) + " entries for " +
            std::to_string(C) + " classes");
  uint64_t nsv = 0;
  std::vector<int> n_support;
  for (int64_t v : per_class) {
    if (v < 0 || v > (1LL << 30))
      invalid("vectors_per_class entry " + std::to_string(v) + " out of range");
    nsv += static_cast<uint64_t>(v);
    n_support.push_back(static_cast<int>(v));
  }
  if (nsv == 0) invalid("no support vectors");
  auto svs = onnx_io::floats(n, "support_vectors");
  if (svs.size() % nsv != 0)
    invalid("support_vectors length " + std::to_string(svs.size()) + " is not a multiple of " +
            std::to_string(nsv));
  const uint64_t d = svs.size() / nsv;
  const uint64_t declared = onnx_io::input_columns(g);
  if (declared != 0 && declared != d)
    invalid("support vectors have " + std::to_string(d) + " features, the input " +
            std::to_string(declared));
  auto coef = onnx_io::floats(n, "coefficients");
  if (coef.size() != (C - 1) * nsv)
    invalid("coefficients has " + std::to_string(coef.size()) +
            " values, expected (n_classes-1) × n_sv = " + std::to_string((C - 1) * nsv));
  auto rho = onnx_io::floats(n, "rho");
  auto pa = onnx_io::floats(n, "prob_a", false);
  auto pb = onnx_io::floats(n, "prob_b", false);
  RowMatrix sv = Eigen::Map<const RowMatrix>(svs.data(), static_cast<Eigen::Index>(nsv),
                                             static_cast<Eigen::Index>(d));
  RowMatrix dual = Eigen::Map<const RowMatrix>(coef.data(), static_cast<Eigen::Index>(C - 1),
                                               static_cast<Eigen::Index>(nsv));
  SvmModel m;
  try {
    m.assign(std::move(sv), std::move(n_support), std::move(dual), std::move(rho), std::move(pa),
             std::move(pb), kernel);
  } catch (const Error& e) {
    invalid(e.what());
  }
  return m;
}

}  // namespace secmlops::plugins::rbf_svm
