// Reads the CSV and JSON fixtures the model fixture scripts write (numeric CSV, last column the
// label).
#pragma once

#include "secmlops/host/matrix.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace secmlops::test {

struct Dataset {
  host::DenseMatrix x;
  std::vector<int32_t> y;
};

inline std::vector<std::vector<double>> read_rows(const std::string& path, bool header) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  std::vector<std::vector<double>> rows;
  std::string line;
  if (header) std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

inline Dataset read_dataset(const std::string& path) {
  auto rows = read_rows(path, true);
  Dataset d;
  const uint64_t cols = rows.empty() ? 0 : rows[0].size() - 1;
  d.x = host::DenseMatrix(rows.size(), cols);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (uint64_t c = 0; c < cols; ++c) d.x(r, c) = rows[r][c];
    d.y.push_back(static_cast<int32_t>(rows[r][cols]));
  }
  return d;
}

inline host::DenseMatrix read_matrix(const std::string& path) {
  auto rows = read_rows(path, false);
  host::DenseMatrix m(rows.size(), rows.empty() ? 0 : rows[0].size());
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < rows[r].size(); ++c) m(r, c) = rows[r][c];
  return m;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  return nlohmann::json::parse(in);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline double accuracy(const std::vector<int32_t>& predicted, const std::vector<int32_t>& truth) {
  size_t ok = 0;
  for (size_t i = 0; i < truth.size(); ++i) ok += predicted[i] == truth[i];
  return static_cast<double>(ok) / static_cast<double>(truth.size());
}

}  // namespace secmlops::test
