#pragma once

#include "secmlops/host/matrix.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace secmlops::host {

// A CSV or data error that names the file, the line (1-based, the header is line 1) and the
// column.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CsvLimits {
  uint64_t max_bytes = 4ull << 30;     // whole file
  uint64_t max_line_bytes = 1 << 20;   // one record
  uint64_t max_columns = 100000;
};

// A CSV file as text cells: a header row, then records with exactly as many fields. Fields may
// be double-quoted ("" is a quote inside a quoted field); blank lines are skipped; CRLF works.
struct CsvTable {
  std::string source;  // the path, for messages
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<uint64_t> line;  // line number of each row

  // Index of a header column; throws DataError listing the columns when absent.
  [[nodiscard]] size_t column(const std::string& name) const;
  // Parses the given columns as finite numbers into a rows × columns.size() matrix; a bad cell
  // throws DataError("file:line: column 'name': 'text' is not a number").
  [[nodiscard]] DenseMatrix numeric(const std::vector<size_t>& columns) const;
  // The text of one column.
  [[nodiscard]] std::vector<std::string> text(size_t column) const;
};

CsvTable read_csv(const std::filesystem::path& path, const CsvLimits& limits = {});
CsvTable parse_csv(const std::string& content, const std::string& source, const CsvLimits& limits = {});

// Maps label text to class indices 0..k-1. Classes are sorted numerically when every label is
// a number ("2" < "10"), lexicographically otherwise, so the encoding does not depend on row
// order.
class LabelEncoder {
 public:
  LabelEncoder() = default;
  explicit LabelEncoder(std::vector<std::string> classes);
  // Learns the classes from the labels and encodes them.
  static LabelEncoder fit(const std::vector<std::string>& labels);
  // Throws DataError naming the row's line for a label the encoder does not know.
  [[nodiscard]] std::vector<int32_t> encode(const std::vector<std::string>& labels, const CsvTable* table = nullptr) const;
  [[nodiscard]] const std::vector<std::string>& classes() const { return classes_; }
  [[nodiscard]] const std::string& decode(int32_t index) const { return classes_.at(static_cast<size_t>(index)); }

 private:
  std::vector<std::string> classes_;
  std::map<std::string, int32_t> index_;
};

// Writes CSV cells, quoting when needed.
std::string csv_escape(const std::string& cell);

}  // namespace secmlops::host
