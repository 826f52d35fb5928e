#include "secmlops/host/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace secmlops::host {

namespace {

// Splits one record; `table` and `line_no` for messages.
std::vector<std::string> split_record(std::string_view rec, const CsvTable& table, uint64_t line_no,
                                      const CsvLimits& limits) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < rec.size(); ++i) {
    char c = rec[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < rec.size() && rec[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cell += c;
      }
    } else if (c == '"' && cell.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
      if (out.size() > limits.max_columns)
        throw DataError(table.where(line_no) + ": more than " + std::to_string(limits.max_columns) + " columns");
    } else {
      cell += c;
    }
  }
  if (quoted) throw DataError(table.where(line_no) + ": unterminated quoted field");
  out.push_back(std::move(cell));
  return out;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool parse_number(const std::string& text, double& out) {
  std::string t = trim(text);
  if (t.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && errno != ERANGE;
}

}  // namespace

CsvTable parse_csv(const std::string& content, const std::string& source, const CsvLimits& limits,
                   CsvHeader header) {
  CsvTable t;
  t.source = source;
  t.has_header = header == CsvHeader::present;
  bool header_pending = t.has_header;
  uint64_t line_no = 0, cells = 0;
  size_t pos = 0;
  if (content.size() >= 3 && content.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 BOM
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    ++line_no;
    std::string_view rec(content.data() + pos, end - pos);
    pos = end + 1;
    if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
    if (rec.size() > limits.max_line_bytes)
      throw DataError(t.where(line_no) + ": line longer than " + std::to_string(limits.max_line_bytes) + " bytes");
    if (rec.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (rec.find('\0') != std::string_view::npos) throw DataError(t.where(line_no) + ": NUL byte (binary file?)");
    auto fields = split_record(rec, t, line_no, limits);
    if (header_pending) {
      header_pending = false;
      for (auto& f : fields) f = trim(f);
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].empty())
          throw DataError(t.where(line_no) + ": header column " + std::to_string(i + 1) + " has no name");
        for (size_t j = 0; j < i; ++j)
          if (fields[j] == fields[i])
            throw DataError(t.where(line_no) + ": header column '" + fields[i] + "' appears twice");
      }
      t.fields = fields.size();
      t.header = std::move(fields);
      continue;
    }
    if (t.fields == 0) {
      t.fields = fields.size();  // headerless: the first record sets the width
    } else if (fields.size() != t.fields) {
      throw DataError(t.where(line_no) + ": expected " + std::to_string(t.fields) + " fields (as in " +
                      (t.has_header ? std::string("the header") : "the first record") + "), found " +
                      std::to_string(fields.size()));
    }
    cells += fields.size();
    if (cells > limits.max_cells)
      throw std::length_error(source + " has more than " + std::to_string(limits.max_cells) + " values (limit)");
    t.rows.push_back(std::move(fields));
    t.line.push_back(line_no);
  }
  if (t.has_header && t.header.empty()) throw DataError(source + ": empty file (no header row)");
  if (!t.has_header && t.rows.empty()) throw DataError(source + ": no records");
  return t;
}

CsvTable read_csv(const std::filesystem::path& path, const CsvLimits& limits) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw DataError(path.string() + ": cannot read (" + ec.message() + ")");
  if (size > limits.max_bytes)
    throw DataError(path.string() + ": " + std::to_string(size) + " bytes exceeds the limit of " +
                    std::to_string(limits.max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open");
  std::string content(size, '\0');
  in.read(content.data(), static_cast<std::streamsize>(size));
  content.resize(static_cast<size_t>(in.gcount()));
  return parse_csv(content, path.string(), limits);
}

size_t CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  std::string list;
  for (const auto& h : header) list += (list.empty() ? "" : ", ") + h;
  throw DataError(source + ": no column named '" + name + "' (columns: " + list + ")");
}

std::string CsvTable::where(uint64_t line_no) const {
  return source + (has_header ? ":" : " line ") + std::to_string(line_no);
}

std::string CsvTable::where(uint64_t line_no, size_t column) const {
  if (has_header) return where(line_no) + ": column '" + header[column] + "'";
  return where(line_no) + ", column " + std::to_string(column + 1);
}

DenseMatrix CsvTable::numeric(const std::vector<size_t>& columns) const {
  DenseMatrix m(rows.size(), columns.size());
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::string& cell = rows[r][columns[c]];
      double v = 0;
      if (!parse_number(cell, v))
        throw DataError(where(line[r], columns[c]) + ": '" + cell + "' is not a number");
      if (!std::isfinite(v))
        throw DataError(where(line[r], columns[c]) + ": '" + cell + "' is not a finite number");
      m(r, c) = v;
    }
  return m;
}

std::vector<std::string> CsvTable::text(size_t column) const {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(trim(r[column]));
  return out;
}

std::vector<int32_t> CsvTable::class_indices(size_t column) const {
  std::vector<int32_t> out;
  out.reserve(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string& cell = rows[r][column];
    double v = 0;
    if (!parse_number(cell, v) || !(v >= 0 && v <= kMaxClassIndex) || v != std::floor(v))
      throw DataError(where(line[r], column) + ": label '" + cell + "' is not a class index (an integer 0.." +
                      std::to_string(kMaxClassIndex) + ")");
    out.push_back(static_cast<int32_t>(v));
  }
  return out;
}

LabelEncoder::LabelEncoder(std::vector<std::string> classes) : classes_(std::move(classes)) {
  for (size_t i = 0; i < classes_.size(); ++i) index_[classes_[i]] = static_cast<int32_t>(i);
}

LabelEncoder LabelEncoder::fit(const std::vector<std::string>& labels) {
  std::vector<std::string> classes(labels.begin(), labels.end());
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  bool numeric = std::all_of(classes.begin(), classes.end(), [](const std::string& s) {
    double v;
    return parse_number(s, v) && std::isfinite(v);
  });
  if (numeric)
    std::stable_sort(classes.begin(), classes.end(), [](const std::string& a, const std::string& b) {
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
  return LabelEncoder(std::move(classes));
}

std::vector<int32_t> LabelEncoder::encode(const std::vector<std::string>& labels, const CsvTable* table) const {
  std::vector<int32_t> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    auto it = index_.find(labels[i]);
    if (it == index_.end()) {
      std::string at = table ? table->where(table->line[i]) : "row " + std::to_string(i);
      std::string known;
      for (size_t k = 0; k < classes_.size() && k < 20; ++k) known += (k ? ", " : "") + classes_[k];
      throw DataError(at + ": label '" + labels[i] + "' is not a class the model knows (" + known + ")");
    }
    out[i] = it->second;
  }
  return out;
}

std::string csv_escape(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace secmlops::host
