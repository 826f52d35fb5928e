#include "secmlops/models/linear_onnx.hpp"

#include <cmath>

namespace secmlops::models {

namespace {

bool is_passthrough(const onnx::NodeProto& n) {
  if (n.op_type() == "Identity") return true;
  if (n.op_type() == "Cast") {
    int64_t to = attr_int(n, "to", 0);
    return to == onnx::TensorProto_DataType_FLOAT || to == onnx::TensorProto_DataType_DOUBLE;
  }
  return false;
}

// The consumer of `name` that continues the score path (first one whose op is in `ops`).
const onnx::NodeProto* next_on_path(const OnnxModel& m, const std::string& name,
                                    std::initializer_list<const char*> ops) {
  for (const auto* n : m.consumers(name)) {
    if (n->input_size() == 0 || n->input(0) != name) continue;
    for (const char* op : ops)
      if (n->op_type() == op) return n;
  }
  return nullptr;
}

// Folds [-w, w] (what converters write for two classes) into a single row.
void fold_binary_pair(LinearModel& lm) {
  if (lm.coef.rows() != 2) return;
  if ((lm.coef.row(0) + lm.coef.row(1)).cwiseAbs().maxCoeff() != 0.0) return;
  if (lm.intercept(0) + lm.intercept(1) != 0.0) return;
  RowMatrix w = lm.coef.row(1);
  Vector b = lm.intercept.tail(1);
  lm.coef = w;
  lm.intercept = b;
}

}  // namespace

void LinearModel::predict_proba(kernels::LinearLink link, const ConstRowMap& x, RowMap out) const {
  using namespace kernels;
  const LinearView view{coef.data(), intercept.data(), coef.rows(), coef.cols()};
  SECMLOPS_DISPATCH(linear_predict_proba)(view, link, x.data(), x.rows(), out.data());
}

LinearGraph read_linear_graph(sdk::Bytes bytes) {
  OnnxModel m = OnnxModel::parse(bytes);
  LinearGraph g;
  g.written_by = m.metadata(kMetaModel);
  for (const auto& p : m.proto().metadata_props()) g.metadata[p.key()] = p.value();
  std::string cur = m.input_name();
  // Bounded: a cyclic graph (a node reading its own output) must not loop forever.
  for (int hops = 0; hops < 16; ++hops) {
    const auto* n = next_on_path(m, cur, {"Cast", "Identity"});
    if (n == nullptr || !is_passthrough(*n)) break;
    cur = first_output(*n);
  }
  LinearModel& lm = g.model;
  std::vector<int64_t> class_ints;
  std::vector<std::string> class_strings;
  if (const auto* lc = next_on_path(m, cur, {"LinearClassifier"})) {
    if (lc->domain() != "ai.onnx.ml") unsupported("LinearClassifier outside the ai.onnx.ml domain");
    if (lc->output_size() < 2) unsupported("LinearClassifier without a scores output");
    auto coef = attr_floats(*lc, "coefficients");
    auto icpt = attr_floats(*lc, "intercepts");
    class_ints = attr_ints(*lc, "classlabels_ints");
    class_strings = attr_strings(*lc, "classlabels_strings");
    size_t labels = class_ints.size() + class_strings.size();
    size_t rows = !icpt.empty() ? icpt.size() : (labels == 2 && coef.size() % 2 == 1 ? 1 : labels);
    if (rows == 0 || coef.empty() || coef.size() % rows != 0)
      malformed("LinearClassifier has " + std::to_string(coef.size()) + " coefficients for " +
                std::to_string(rows) + " score rows");
    lm.coef = RowMatrix::Map(coef.data(), static_cast<Eigen::Index>(rows),
                             static_cast<Eigen::Index>(coef.size() / rows));
    if (icpt.empty())
      lm.intercept = Vector::Zero(static_cast<Eigen::Index>(rows));
    else
      lm.intercept = Vector::Map(icpt.data(), static_cast<Eigen::Index>(icpt.size()));
    g.post_transform = attr_string(*lc, "post_transform", "NONE");
    // multi_class (0 = one-vs-rest, 1 = multinomial) is informational: converters set it for
    // multinomial models, and the scores are computed the same way.
    cur = lc->output(1);
  } else if (const auto* mm = next_on_path(m, cur, {"MatMul", "Gemm"})) {
    if (mm->input_size() < 2 || !m.is_initializer(mm->input(1)))
      unsupported(mm->op_type() + " on the input without constant weights");
    Tensor w = m.tensor(mm->input(1));
    if (w.dims.size() != 2) malformed(mm->op_type() + " weights are not a matrix");
    bool trans_b = mm->op_type() == "Gemm" && attr_int(*mm, "transB", 0) != 0;
    if (mm->op_type() == "Gemm" &&
        (attr_int(*mm, "transA", 0) != 0 || attr_float(*mm, "alpha", 1.0) != 1.0 ||
         attr_float(*mm, "beta", 1.0) != 1.0))
      unsupported("Gemm with transA or alpha/beta other than 1");
    RowMatrix wm = RowMatrix::Map(w.values.data(), w.dims[0], w.dims[1]);
    lm.coef = trans_b ? wm : RowMatrix(wm.transpose());
    lm.intercept = Vector::Zero(lm.coef.rows());
    cur = first_output(*mm);
    std::string bias_name;
    if (mm->op_type() == "Gemm" && mm->input_size() >= 3 && !mm->input(2).empty()) {
      bias_name = mm->input(2);
    } else if (const auto* add = next_on_path(m, cur, {"Add"})) {
      if (add->input_size() == 2 && m.is_initializer(add->input(1))) {
        bias_name = add->input(1);
        cur = first_output(*add);
      }
    }
    if (!bias_name.empty()) {
      Tensor b = m.tensor(bias_name);
      if (static_cast<Eigen::Index>(b.values.size()) != lm.coef.rows())
        malformed("bias '" + bias_name + "' has " + std::to_string(b.values.size()) +
                  " values for " + std::to_string(lm.coef.rows()) + " outputs");
      lm.intercept = Vector::Map(b.values.data(), lm.coef.rows());
    }
    // A hidden layer (Relu after the first product) means this is a network, not a linear model.
    if (next_on_path(m, cur, {"Relu", "Tanh"}) != nullptr) unsupported("graph has hidden layers");
    if (const auto* act = next_on_path(m, cur, {"Sigmoid", "Softmax"})) {
      if (act->op_type() == "Softmax" && attr_int(*act, "axis", -1) != 1 &&
          attr_int(*act, "axis", -1) != -1)
        unsupported("Softmax over an axis other than the classes");
      g.post_transform = act->op_type() == "Sigmoid" ? "LOGISTIC" : "SOFTMAX";
      cur = first_output(*act);
    }
    // A further MatMul means a multi-layer network.
    if (next_on_path(m, cur, {"MatMul", "Gemm"}) != nullptr)
      unsupported("graph has several layers");
  } else {
    unsupported("no LinearClassifier or MatMul on the input '" + m.input_name() + "'");
  }
  if (g.post_transform != "NONE" && g.post_transform != "LOGISTIC" && g.post_transform != "SOFTMAX")
    unsupported("post_transform " + g.post_transform + " is not supported");
  // What follows the scores: a Normalizer (one-vs-rest probabilities) or the positive-class
  // column that converters extract for two-class linear SVMs.
  for (int guard = 0; guard < 8; ++guard) {
    const auto* n = next_on_path(m, cur, {"Normalizer", "Cast", "Identity"});
    if (n == nullptr) break;
    if (n->op_type() == "Normalizer") {
      if (attr_string(*n, "norm", "MAX") != "L1") unsupported("Normalizer other than L1");
      g.l1_normalized = true;
    } else if (!is_passthrough(*n)) {
      break;
    }
    cur = first_output(*n);
  }
  if (m.input_features() > 0 && m.input_features() != lm.coef.cols())
    malformed("the input declares " + std::to_string(m.input_features()) +
              " features, the weights have " + std::to_string(lm.coef.cols()));
  if (!lm.coef.allFinite() || !lm.intercept.allFinite()) malformed("weights are not finite");
  fold_binary_pair(lm);
  size_t labels = class_ints.size() + class_strings.size();
  lm.n_classes = labels > 0 ? static_cast<uint32_t>(labels)
                            : static_cast<uint32_t>(lm.binary() ? 2 : lm.coef.rows());
  if (lm.binary() ? lm.n_classes != 2 : static_cast<Eigen::Index>(lm.n_classes) != lm.coef.rows())
    malformed(std::to_string(lm.n_classes) + " class labels for " + std::to_string(lm.coef.rows()) +
              " score rows");
  if (lm.n_classes < 2) malformed("a classifier needs at least two classes");
  return g;
}

std::vector<uint8_t> write_linear_classifier(const LinearModel& lm,
                                             const std::string& post_transform,
                                             const std::string& model_name,
                                             const std::map<std::string, std::string>& metadata) {
  OnnxBuilder b(model_name, true);
  const auto d = lm.coef.cols();
  const auto k = static_cast<int64_t>(lm.n_classes);
  b.input("X", onnx::TensorProto_DataType_FLOAT, {-1, d});
  b.output("label", onnx::TensorProto_DataType_INT64, {-1});
  b.output("probabilities", onnx::TensorProto_DataType_FLOAT, {-1, k});
  std::vector<float> coef, icpt;
  auto push_row = [&](Eigen::Index r, double sign) {
    for (Eigen::Index c = 0; c < d; ++c) coef.push_back(static_cast<float>(sign * lm.coef(r, c)));
    icpt.push_back(static_cast<float>(sign * lm.intercept(r)));
  };
  if (lm.binary()) {
    push_row(0, -1.0);
    push_row(0, 1.0);
  } else {
    for (Eigen::Index r = 0; r < lm.coef.rows(); ++r) push_row(r, 1.0);
  }
  std::vector<int64_t> labels(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) labels[static_cast<size_t>(i)] = i;
  auto& n = b.node("LinearClassifier", {"X"}, {"label", "probabilities"}, "ai.onnx.ml");
  OnnxBuilder::set(n, "coefficients", coef);
  OnnxBuilder::set(n, "intercepts", icpt);
  OnnxBuilder::set(n, "classlabels_ints", labels);
  OnnxBuilder::set(n, "multi_class", int64_t{0});
  OnnxBuilder::set(n, "post_transform", post_transform);
  b.metadata(kMetaModel, model_name);
  for (const auto& [k, v] : metadata) b.metadata(k, v);
  return b.serialize();
}

}  // namespace secmlops::models
