// Which operator domains and types are trusted, and which run Python or arbitrary code.
#pragma once

#include <string_view>

namespace secmlops::plugins::onnx {

enum class DomainClass {
  kStandard,        // "", "ai.onnx", "ai.onnx.ml": kernels of every conforming runtime
  kRuntimeContrib,  // allowlisted runtime domains (com.microsoft, training): shipped native kernels
  kCustom           // anything else: needs a custom-op library loaded into the process
};

DomainClass classify_domain(std::string_view domain);

// Operators whose implementation calls back into Python (or another interpreter) by design.
bool is_python_op(std::string_view domain, std::string_view op_type);

// Attribute names that carry source code or a reference to a callable in custom operators.
bool is_code_attribute(std::string_view name);

}  // namespace secmlops::plugins::onnx
