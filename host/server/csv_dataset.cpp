#include "csv_dataset.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace secmlops::server {
namespace {

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  for (;;) {
    auto comma = line.find(',', start);
    auto cell = line.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t' || cell.back() == '\r'))
      cell.remove_suffix(1);
    cells.push_back(cell);
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

std::string where(size_t line, size_t col) {
  return "CSV line " + std::to_string(line) + ", column " + std::to_string(col + 1);
}

}  // namespace

LabeledData parse_labeled_csv(std::string_view text, const std::string& label_column,
                              bool has_header, uint64_t max_values) {
  LabeledData out;
  std::vector<double> values;
  size_t cols = 0, label = 0, line_no = 0;
  bool header_pending = has_header;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line == "\r") continue;
    auto cells = split(line);
    if (cols == 0) {
      cols = cells.size();
      if (cols < 2)
        throw std::invalid_argument("CSV needs at least one feature column and a label column");
      label = cols - 1;
      if (!label_column.empty()) {
        bool found = false;
        if (header_pending)
          for (size_t c = 0; c < cols; ++c)
            if (cells[c] == label_column) label = c, found = true;
        if (!found) {
          size_t idx = 0;
          auto [p, ec] =
              std::from_chars(label_column.data(), label_column.data() + label_column.size(), idx);
          if (ec != std::errc{} || p != label_column.data() + label_column.size() || idx >= cols)
            throw std::invalid_argument("label column '" + label_column +
                                        "' is neither a header name nor an index below " +
                                        std::to_string(cols));
          label = idx;
        }
      }
    } else if (cells.size() != cols) {
      throw std::invalid_argument("CSV line " + std::to_string(line_no) + " has " +
                                  std::to_string(cells.size()) + " columns, expected " +
                                  std::to_string(cols));
    }
    if (header_pending) {
      header_pending = false;
      continue;
    }
    if (values.size() + cols - 1 > max_values)
      throw std::length_error("CSV has more than " + std::to_string(max_values) +
                              " values (server limit)");
    for (size_t c = 0; c < cols; ++c) {
      double v = 0;
      auto [p, ec] = std::from_chars(cells[c].data(), cells[c].data() + cells[c].size(), v);
      if (ec != std::errc{} || p != cells[c].data() + cells[c].size() || !std::isfinite(v))
        throw std::invalid_argument(where(line_no, c) + ": '" +
                                    std::string(cells[c].substr(0, 40)) +
                                    "' is not a finite number");
      if (c == label) {
        if (v != std::floor(v) || v < 0 || v > 1e6)
          throw std::invalid_argument(where(line_no, c) +
                                      ": label must be a non-negative integer class");
        out.y.push_back(static_cast<int32_t>(v));
      } else {
        values.push_back(v);
      }
    }
  }
  if (out.y.empty()) throw std::invalid_argument("CSV has no data rows");
  out.x = host::DenseMatrix(out.y.size(), cols - 1, std::move(values));
  return out;
}

}  // namespace secmlops::server
