#include "op_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace secmlops::plugins::onnx {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

DomainClass classify_domain(std::string_view domain) {
  if (domain.empty() || domain == "ai.onnx" || domain == "ai.onnx.ml")
    return DomainClass::kStandard;
  // Domains whose kernels ship inside ONNX Runtime itself (contrib, NCHWc layout, training and
  // preview-training operator sets). Loading them loads no extra library.
  static constexpr std::array<std::string_view, 6> kRuntime = {
      "com.microsoft",    "com.microsoft.nchwc",      "com.microsoft.experimental",
      "ai.onnx.training", "ai.onnx.preview.training", "com.ms.internal.nhwc"};
  if (std::find(kRuntime.begin(), kRuntime.end(), domain) != kRuntime.end())
    return DomainClass::kRuntimeContrib;
  return DomainClass::kCustom;
}

bool is_python_op(std::string_view domain, std::string_view op_type) {
  // com.microsoft::PythonOp / PythonOpGrad run a torch.autograd.Function by name (ORT training);
  // onnxruntime-extensions registers Python-implemented ops as PyOp / in ai.onnx.contrib with a
  // "Py" prefix; TensorFlow-converted graphs may keep PyFunc-style nodes.
  static constexpr std::array<std::string_view, 9> kNames = {
      "PyOp",        "PythonOp",       "PythonOpGrad", "PyFunc",  "PyFuncStateless",
      "EagerPyFunc", "PythonFunction", "PyCustomOp",   "PyOpGrad"};
  if (std::find(kNames.begin(), kNames.end(), op_type) != kNames.end()) return true;
  if (domain == "ai.onnx.contrib" && op_type.size() > 2 && op_type.substr(0, 2) == "Py" &&
      std::isupper(static_cast<unsigned char>(op_type[2])))
    return true;
  return false;
}

bool is_code_attribute(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "script", "code",      "source",   "source_code", "py_code", "python_code",
      "pycode", "func_name", "callable", "module",      "pickle",  "expression"};
  std::string n = lower(name);
  return std::find(kNames.begin(), kNames.end(), n) != kNames.end();
}

}  // namespace secmlops::plugins::onnx
