// ONNX encoding of the MLP: MatMul + Add (+ Relu) per layer and a final Softmax, the standard
// operators; import also reads scikit-learn converters' pattern (Cast on the input, Gemm or
// MatMul + Add, Sigmoid output for two classes followed by Sub/Concat).
#include "mlp.hpp"

#include <secmlops/models/onnx_graph.hpp>
#include <secmlops/models/params.hpp>

#include <climits>
#include <cstdlib>

namespace secmlops::plugins::mlp {

using Eigen::Index;
using models::malformed;
using models::unsupported;

namespace {

const onnx::NodeProto* next_op(const models::OnnxModel& m, const std::string& name,
                               std::initializer_list<const char*> ops) {
  for (const auto* n : m.consumers(name)) {
    if (n->input_size() == 0 || n->input(0) != name) continue;
    for (const char* op : ops)
      if (n->op_type() == op) return n;
  }
  return nullptr;
}

std::vector<float> to_floats(const RowMatrix& m) {
  return std::vector<float>(m.data(), m.data() + m.size());  // weights are float-exact after fit
}

}  // namespace

std::vector<uint8_t> Mlp::to_onnx() const {
  models::OnnxBuilder b("mlp", false);
  b.input("X", onnx::TensorProto_DataType_FLOAT, {-1, static_cast<int64_t>(n_features())});
  b.output("label", onnx::TensorProto_DataType_INT64, {-1});
  b.output("probabilities", onnx::TensorProto_DataType_FLOAT,
           {-1, static_cast<int64_t>(n_classes())});
  std::string cur = "X";
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    std::string w = "coefficient" + std::to_string(l), bias = "intercepts" + std::to_string(l);
    b.initializer(w, {layer.w.rows(), layer.w.cols()}, to_floats(layer.w));
    b.initializer(bias, {1, layer.b.size()},
                  std::vector<float>(layer.b.data(), layer.b.data() + layer.b.size()));
    std::string mul = "mul_result" + std::to_string(l), add = "add_result" + std::to_string(l);
    b.node("MatMul", {cur, w}, {mul});
    b.node("Add", {mul, bias}, {add});
    cur = add;
    if (l + 1 < layers_.size()) {
      std::string act = "relu" + std::to_string(l);
      b.node("Relu", {add}, {act});
      cur = act;
    }
  }
  auto& sm = b.node("Softmax", {cur}, {"probabilities"});
  models::OnnxBuilder::set(sm, "axis", int64_t{1});
  auto& am = b.node("ArgMax", {"probabilities"}, {"label"});
  models::OnnxBuilder::set(am, "axis", int64_t{1});
  models::OnnxBuilder::set(am, "keepdims", int64_t{0});
  b.metadata(models::kMetaModel, "mlp");
  if (stats_.epochs >= 0) {
    b.metadata("secmlops.epochs", std::to_string(stats_.epochs));
    b.metadata("secmlops.final_loss", std::to_string(stats_.final_loss));
    b.metadata("secmlops.solver_converged", stats_.converged ? "1" : "0");
    b.metadata("secmlops.solver_status", stats_.reason);
  }
  return b.serialize();
}

Mlp Mlp::from_onnx(sdk::Bytes bytes) {
  auto m = models::OnnxModel::parse(bytes);
  if (auto by = m.metadata(models::kMetaModel); by && *by != "mlp")
    unsupported("written by the " + *by + " model");
  std::string cur = m.input_name();
  for (int hops = 0; hops < 16; ++hops) {  // bounded: cyclic graphs must not loop forever
    const auto* n = next_op(m, cur, {"Cast", "Identity"});
    if (n == nullptr) break;
    if (n->op_type() == "Cast") {
      int64_t to = models::attr_int(*n, "to", 0);
      if (to != onnx::TensorProto_DataType_FLOAT && to != onnx::TensorProto_DataType_DOUBLE) break;
    }
    cur = models::first_output(*n);
  }
  Mlp net;
  std::string output_activation;
  for (int guard = 0; guard < 1000 && output_activation.empty(); ++guard) {
    const auto* mm = next_op(m, cur, {"MatMul", "Gemm"});
    if (mm == nullptr) unsupported("no MatMul/Gemm layer after '" + cur + "'");
    if (mm->input_size() < 2 || !m.is_initializer(mm->input(1)))
      unsupported("layer without constant weights");
    auto w = m.tensor(mm->input(1));
    if (w.dims.size() != 2) malformed("weights '" + mm->input(1) + "' are not a matrix");
    Layer layer;
    RowMatrix wm = RowMatrix::Map(w.values.data(), w.dims[0], w.dims[1]);
    bool trans_b = mm->op_type() == "Gemm" && models::attr_int(*mm, "transB", 0) != 0;
    if (mm->op_type() == "Gemm" &&
        (models::attr_int(*mm, "transA", 0) != 0 || models::attr_float(*mm, "alpha", 1) != 1 ||
         models::attr_float(*mm, "beta", 1) != 1))
      unsupported("Gemm with transA or alpha/beta other than 1");
    layer.w = trans_b ? RowMatrix(wm.transpose()) : wm;
    layer.b = Vector::Zero(layer.w.cols());
    cur = models::first_output(*mm);
    std::string bias;
    if (mm->op_type() == "Gemm" && mm->input_size() >= 3) {
      bias = mm->input(2);
    } else if (const auto* add = next_op(m, cur, {"Add"})) {
      if (add->input_size() == 2 && m.is_initializer(add->input(1))) {
        bias = add->input(1);
        cur = models::first_output(*add);
      }
    }
    if (!bias.empty()) {
      auto bt = m.tensor(bias);
      if (static_cast<Index>(bt.values.size()) != layer.w.cols())
        malformed("bias '" + bias + "' has " + std::to_string(bt.values.size()) + " values for " +
                  std::to_string(layer.w.cols()) + " units");
      layer.b = Vector::Map(bt.values.data(), layer.w.cols());
    }
    if (!net.layers_.empty() && net.layers_.back().w.cols() != layer.w.rows())
      malformed("layer " + std::to_string(net.layers_.size()) + " expects " +
                std::to_string(layer.w.rows()) + " inputs, the previous layer has " +
                std::to_string(net.layers_.back().w.cols()) + " units");
    if (!layer.w.allFinite() || !layer.b.allFinite()) malformed("weights are not finite");
    net.layers_.push_back(std::move(layer));
    const auto* act = next_op(m, cur, {"Relu", "Softmax", "Sigmoid", "Tanh", "LeakyRelu"});
    if (act == nullptr) unsupported("layer output '" + cur + "' has no activation (raw scores)");
    if (act->op_type() == "Relu") {
      cur = models::first_output(*act);
    } else if (act->op_type() == "Softmax" || act->op_type() == "Sigmoid") {
      if (act->op_type() == "Softmax") {
        int64_t axis = models::attr_int(*act, "axis", m.opset("") >= 13 ? -1 : 1);
        if (axis != 1 && axis != -1) unsupported("Softmax over an axis other than the classes");
      }
      output_activation = act->op_type();
    } else {
      unsupported("hidden activation " + act->op_type() + " (only Relu is supported)");
    }
  }
  if (output_activation.empty()) unsupported("more than 1000 layers, or a cyclic graph");
  if (net.layers_.size() < 2) unsupported("no hidden layer: a linear model, not an MLP");
  auto& last = net.layers_.back();
  if (output_activation == "Sigmoid") {
    // Two classes written as one logistic unit: softmax([0, z]) = [1 − σ(z), σ(z)].
    if (last.w.cols() != 1) unsupported("Sigmoid output over several units (multi-label)");
    RowMatrix w2 = RowMatrix::Zero(last.w.rows(), 2);
    w2.col(1) = last.w.col(0);
    Vector b2 = Vector::Zero(2);
    b2(1) = last.b(0);
    last.w = std::move(w2);
    last.b = std::move(b2);
  } else if (last.w.cols() < 2) {
    unsupported("softmax over a single unit");
  }
  if (m.input_features() > 0 && m.input_features() != net.layers_[0].w.rows())
    malformed("the input declares " + std::to_string(m.input_features()) +
              " features, the first layer has " + std::to_string(net.layers_[0].w.rows()) +
              " inputs");
  auto meta = [&](const char* k) { return m.metadata(k); };
  if (auto e = meta("secmlops.epochs")) {
    const auto epochs = models::parse_integer(*e);
    net.stats_.epochs =
        epochs && *epochs >= 0 && *epochs <= INT_MAX ? static_cast<int>(*epochs) : -1;
    net.stats_.final_loss =
        models::parse_number(meta("secmlops.final_loss").value_or("0")).value_or(0);
    net.stats_.converged = meta("secmlops.solver_converged").value_or("0") == "1";
    net.stats_.reason = meta("secmlops.solver_status").value_or("");
  } else {
    net.stats_.reason = "imported (no training statistics in the file)";
  }
  return net;
}

}  // namespace secmlops::plugins::mlp
