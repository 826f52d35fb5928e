// Helpers of the model plugin tests: fixtures, plugin sessions through the real host, and the
// checks every model family shares (finite differences, ONNX checker).
#pragma once

#include "secmlops/host/csv.hpp"
#include "secmlops/host/model_eval.hpp"
#include "secmlops/host/model_session.hpp"
#include "secmlops/host/registry.hpp"
#include "support/run_command.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <memory>
#include <random>
#include <string>

namespace secmlops::test {

inline std::string fixture(const std::string& name) {
  return std::string(SECMLOPS_MODEL_FIXTURES) + "/" + name;
}

struct Data {
  host::DenseMatrix x;
  std::vector<int32_t> y;
};

inline Data load_csv(const std::string& name) {
  auto t = host::read_csv(fixture(name));
  std::vector<size_t> cols;
  for (size_t c = 0; c + 1 < t.header.size(); ++c) cols.push_back(c);
  Data d{t.numeric(cols), {}};
  for (const auto& s : t.text(t.header.size() - 1)) d.y.push_back(std::stoi(std::string(s)));
  return d;
}

inline host::DenseMatrix load_matrix(const std::string& name, uint64_t cols) {
  std::ifstream in(fixture(name));
  std::vector<double> v;
  std::string line;
  while (std::getline(in, line)) {
    size_t pos = 0;
    while (pos <= line.size()) {
      size_t end = line.find(',', pos);
      if (end == std::string::npos) end = line.size();
      v.push_back(std::stod(line.substr(pos, end - pos)));
      pos = end + 1;
    }
  }
  return host::DenseMatrix(v.size() / cols, cols, v);
}

inline nlohmann::json expected() {
  std::ifstream in(fixture("expected.json"));
  return nlohmann::json::parse(in);
}

// Parameters of a family from expected.json as key=value strings.
inline host::KeyValues params_of(const std::string& family) {
  host::KeyValues kv;
  const nlohmann::json all = expected();  // a range-for would not keep the temporary alive
  for (const auto& [k, v] : all["params"][family].items()) {
    if (v.is_array()) {
      std::string s;
      for (const auto& e : v) s += (s.empty() ? "" : ",") + std::to_string(e.get<int64_t>());
      kv.emplace_back(k, s);
    } else if (v.is_number_integer()) {
      kv.emplace_back(k, std::to_string(v.get<int64_t>()));
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
      kv.emplace_back(k, buf);
    }
  }
  return kv;
}

inline const host::Registry& registry() {
  static host::Registry r = [] {
    host::Registry reg;
    reg.load_directories({SECMLOPS_PLUGIN_DIR});
    return reg;
  }();
  return r;
}

inline std::unique_ptr<host::ModelSession> session(const std::string& plugin) {
  auto p = registry().find(SECMLOPS_KIND_MODEL, plugin);
  if (!p) throw std::runtime_error("plugin " + plugin + " not found in " SECMLOPS_PLUGIN_DIR);
  return std::make_unique<host::ModelSession>(*p);
}

inline double accuracy(const host::ModelSession& s, const Data& d) {
  return host::classification_metrics(s.predict_proba(d.x), d.y).accuracy;
}

// Checks the analytic input gradient against central differences of `loss(row, label)`.
template <class Loss>
void expect_gradient_matches(const host::DenseMatrix& x, const std::vector<int32_t>& y,
                             const host::DenseMatrix& grad, Loss loss, double h = 1e-5,
                             double tol = 1e-5) {
  ASSERT_EQ(grad.rows, x.rows);
  ASSERT_EQ(grad.cols, x.cols);
  for (uint64_t r = 0; r < x.rows; ++r) {
    host::DenseMatrix row(
        1, x.cols,
        std::vector<double>(x.data.begin() + static_cast<long>(r * x.cols),
                            x.data.begin() + static_cast<long>((r + 1) * x.cols)));
    for (uint64_t c = 0; c < x.cols; ++c) {
      auto plus = row, minus = row;
      plus.data[c] += h;
      minus.data[c] -= h;
      double fd = (loss(plus, y[r]) - loss(minus, y[r])) / (2 * h);
      double an = grad(r, c);
      EXPECT_NEAR(an, fd, tol * std::max(1.0, std::abs(fd))) << "row " << r << " column " << c;
    }
  }
}

// Writes bytes to a file and runs python3-onnx's checker on it; returns the checker's verdict.
inline bool onnx_checker_accepts(const std::vector<uint8_t>& bytes, const std::string& path) {
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  auto r = run_command(
      "/usr/bin/python3 -c 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1])); "
      "print(\"checker-ok\")' " +
      path + " 2>&1");
  if (r.out.find("checker-ok") == std::string::npos) ADD_FAILURE() << r.out;
  return r.exit_code == 0;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace secmlops::test

namespace secmlops::test {

// Hostile-input smoke test: truncations and random byte mutations of a valid file must either
// import or fail with a status, never crash or hang. Returns how many mutants imported.
inline int import_mutants(host::ModelSession& s, const std::vector<uint8_t>& valid, int count,
                          uint64_t seed) {
  std::mt19937_64 rng(seed);
  int imported = 0;
  for (int i = 0; i < count; ++i) {
    auto bytes = valid;
    if (i % 4 == 0) {
      bytes.resize(rng() % (bytes.size() + 1));
    } else {
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips && !bytes.empty(); ++f)
        bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    }
    try {
      imported += s.import_onnx(bytes) ? 1 : 0;
    } catch (const host::PluginError& e) {
      EXPECT_NE(e.status(), SECMLOPS_ERR_INTERNAL) << e.what();
    }
  }
  return imported;
}

}  // namespace secmlops::test
