#pragma once

#include "secmlops/host/matrix.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::host {

// A CSV or data error that names the file, the line (1-based, the header is line 1) and the
// column.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CsvLimits {
  uint64_t max_bytes = 4ull << 30;    // whole file
  uint64_t max_line_bytes = 1 << 20;  // one record
  uint64_t max_columns = 100000;
  // Data cells (every field of every record after the header) in the whole file; more throws
  // std::length_error rather than DataError, so callers can answer "too large" apart from
  // "malformed" (the gRPC server maps it to RESOURCE_EXHAUSTED).
  uint64_t max_cells = UINT64_MAX;
};

struct CsvTable;
enum class CsvHeader;
CsvTable parse_csv(std::string&& content, const std::string& source, const CsvLimits& limits,
                   CsvHeader header);

// Whether the first non-blank record names the columns (CLI files) or is already data
// (headerless uploads, whose columns are known by position only).
enum class CsvHeader { present, absent };

// The data records of a CSV file as text cells, all in one buffer: rows[r][c] is a view of the
// cell's text (quotes removed) that lives as long as the table. No allocation per cell.
class CsvCells {
 public:
  class Row {
   public:
    Row(const CsvCells& cells, size_t row) : cells_(&cells), row_(row) {}
    [[nodiscard]] std::string_view operator[](size_t column) const {
      return cells_->cell(row_, column);
    }
    [[nodiscard]] size_t size() const { return cells_->fields_; }

   private:
    const CsvCells* cells_;
    size_t row_;
  };
  class Iterator {
   public:
    Iterator(const CsvCells& cells, size_t row) : cells_(&cells), row_(row) {}
    Row operator*() const { return {*cells_, row_}; }
    Iterator& operator++() {
      ++row_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return row_ != o.row_; }

   private:
    const CsvCells* cells_;
    size_t row_;
  };

  [[nodiscard]] size_t size() const {
    return fields_ ? (bounds_.size() + tail_.size()) / fields_ : 0;
  }
  [[nodiscard]] bool empty() const { return bounds_.empty() && tail_.empty(); }
  [[nodiscard]] Row operator[](size_t row) const { return {*this, row}; }
  [[nodiscard]] Iterator begin() const { return {*this, 0}; }
  [[nodiscard]] Iterator end() const { return {*this, size()}; }
  // The bytes the cells are views of: the parsed text itself when it held no quote.
  [[nodiscard]] std::string_view buffer() const { return text_; }
  [[nodiscard]] std::string_view cell(size_t row, size_t column) const {
    const size_t i = row * fields_ + column;
    const Span& s = i < bounds_.size() ? bounds_[i] : tail_[i - bounds_.size()];
    return {text_.data() + s.offset, s.length};
  }

 private:
  friend CsvTable parse_csv(std::string&&, const std::string&, const CsvLimits&, CsvHeader);
  struct Span {
    uint64_t offset;
    uint64_t length;
  };
  std::string text_;          // the file's bytes; quoted cells unescaped in place
  std::vector<Span> bounds_;  // row-major, `fields_` per row
  std::vector<Span> tail_;    // the rows after bounds_ (a text read in two halves), kept apart
  size_t fields_ = 0;
};

// A CSV file as text cells: a header row (unless CsvHeader::absent), then records with exactly
// as many fields (as the first record, without a header). Fields may be double-quoted ("" is a
// quote inside a quoted field); blank lines are skipped; CRLF works.
struct CsvTable {
  std::string source;  // the path (or a name for in-memory text), for messages
  bool has_header = true;
  std::vector<std::string> header;  // empty when has_header is false
  size_t fields = 0;                // fields of every record
  CsvCells rows;
  std::vector<uint64_t> line;  // line number of each row

  // Index of a header column; throws DataError listing the columns when absent.
  [[nodiscard]] size_t column(const std::string& name) const;
  // Parses the given columns as finite numbers into a rows × columns.size() matrix; a bad cell
  // throws DataError("file:line: column 'name': 'text' is not a number"), without a header
  // DataError("file line L, column C: 'text' is not a number").
  [[nodiscard]] DenseMatrix numeric(const std::vector<size_t>& columns) const;
  // The text of one column, blanks and tabs around it trimmed, as views of the table's cells.
  [[nodiscard]] std::vector<std::string_view> text(size_t column) const;
  // One column read as class indices, integers 0..kMaxClassIndex; any other cell throws
  // DataError at its location.
  [[nodiscard]] std::vector<int32_t> class_indices(size_t column) const;
  static constexpr int32_t kMaxClassIndex = 1000000;
  // Where a row or a cell is, for messages: with a header "d.csv:3" and "d.csv:3: column 'b'";
  // without one (columns have no names) "d.csv line 3" and "d.csv line 3, column 2" (1-based).
  [[nodiscard]] std::string where(uint64_t line) const;
  [[nodiscard]] std::string where(uint64_t line, size_t column) const;
};

CsvTable read_csv(const std::filesystem::path& path, const CsvLimits& limits = {});
CsvTable parse_csv(const std::string& content, const std::string& source,
                   const CsvLimits& limits = {}, CsvHeader header = CsvHeader::present);
// The same, keeping `content` as the table's cell buffer instead of a copy.
CsvTable parse_csv(std::string&& content, const std::string& source, const CsvLimits& limits = {},
                   CsvHeader header = CsvHeader::present);

// Maps label text to class indices 0..k-1. Classes are sorted numerically when every label is
// a number ("2" < "10"), lexicographically otherwise, so the encoding does not depend on row
// order.
class LabelEncoder {
 public:
  LabelEncoder() = default;
  explicit LabelEncoder(std::vector<std::string> classes);
  // Learns the classes from the labels.
  static LabelEncoder fit(std::span<const std::string_view> labels);
  static LabelEncoder fit(const std::vector<std::string>& labels);
  // Throws DataError naming the row's line for a label the encoder does not know.
  [[nodiscard]] std::vector<int32_t> encode(std::span<const std::string_view> labels,
                                            const CsvTable* table = nullptr) const;
  [[nodiscard]] std::vector<int32_t> encode(const std::vector<std::string>& labels,
                                            const CsvTable* table = nullptr) const;
  [[nodiscard]] const std::vector<std::string>& classes() const { return classes_; }
  [[nodiscard]] const std::string& decode(int32_t index) const {
    return classes_.at(static_cast<size_t>(index));
  }

 private:
  std::vector<std::string> classes_;
  std::map<std::string, int32_t, std::less<>> index_;
};

// Writes CSV cells, quoting when needed.
std::string csv_escape(std::string_view cell);

// Reads a number as the CSV loader does: blanks and tabs around it ignored, otherwise the whole
// text a finite double within range (strtod's syntax: a sign, decimal or hexadecimal, exponent).
// False for anything else, including overflow and underflow.
bool parse_csv_number(std::string_view text, double& out);

// Appends the shortest text that reads back as the same double ("0.05", "1e-07").
void append_number(std::string& out, double v);

// Appends rows 0..rows-1, each written by `row(text, r)`, in order. About `row_bytes` each: a
// large body is written in two halves on two threads (shortest-form numbers cost ~60 ns each).
void append_rows(std::string& out, uint64_t rows, size_t row_bytes,
                 const std::function<void(std::string&, uint64_t)>& row);

}  // namespace secmlops::host
