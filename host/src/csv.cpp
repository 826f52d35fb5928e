#include "secmlops/host/csv.hpp"

#include "secmlops/host/beside.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

namespace secmlops::host {

namespace {

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string_view trim_view(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The reference reading: strtod on the trimmed text, all of it, no range error.
bool parse_number_strtod(std::string_view text, double& out) {
  std::string t = trim(text);
  if (t.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && errno != ERANGE;
}

// A zero that is exact: no digit 1-9 before the exponent (strtod reports no range error).
bool zero_mantissa(std::string_view t) {
  for (char c : t) {
    if (c == 'e' || c == 'E') break;
    if (c >= '1' && c <= '9') return false;
  }
  return true;
}

}  // namespace

bool parse_csv_number(std::string_view text, double& out) {
  // std::from_chars reads plain decimal numbers exactly as strtod does (both round correctly);
  // everything else — a sign '+', hexadecimal, inf/nan, out of range, subnormal — takes strtod's
  // path, so the accepted syntax and the errors stay strtod's.
  std::string_view t = trim_view(text);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc{} && p == t.data() + t.size() && !t.empty() && std::isfinite(v) &&
      (std::abs(v) >= std::numeric_limits<double>::min() || (v == 0 && zero_mantissa(t)))) {
    out = v;
    return true;
  }
  return parse_number_strtod(text, out) && std::isfinite(out);
}

void append_number(std::string& out, double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc{} ? p : buf);
}

void append_rows(std::string& out, uint64_t rows, size_t row_bytes,
                 const std::function<void(std::string&, uint64_t)>& row) {
  auto write = [&](std::string& text, uint64_t from, uint64_t to) {
    for (uint64_t r = from; r < to; ++r) row(text, r);
  };
  constexpr uint64_t kBytesForTwoThreads = 64 << 10;
  out.reserve(out.size() + rows * row_bytes);
  if (rows < 2 || rows * row_bytes < kBytesForTwoThreads ||
      std::thread::hardware_concurrency() < 2) {
    write(out, 0, rows);
    return;
  }
  const uint64_t half = rows / 2;
  std::string second;
  second.reserve((rows - half) * row_bytes);
  run_beside([&] { write(second, half, rows); }, [&] { write(out, 0, half); });
  out += second;
}

CsvTable parse_csv(const std::string& content, const std::string& source, const CsvLimits& limits,
                   CsvHeader header) {
  return parse_csv(std::string(content), source, limits, header);
}

CsvTable parse_csv(std::string&& content, const std::string& source, const CsvLimits& limits,
                   CsvHeader header) {
  CsvTable t;
  t.source = source;
  t.has_header = header == CsvHeader::present;
  bool header_pending = t.has_header;
  // Cells are found in a copy of the text; a quoted cell is unescaped in place (never longer
  // than its source), so every cell is an offset and a length into one buffer.
  std::string& buf = t.rows.text_;
  buf = std::move(content);
  size_t pos = 0;
  if (buf.size() >= 3 && buf.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 BOM
  char* const data = buf.data();

  // The records of whole lines [from, to): their cells, line numbers counted on from `line_no`,
  // and the cells counted on from `cells` against the limit. A record never spans a line break.
  struct Part {
    std::vector<CsvCells::Span> bounds;
    std::vector<uint64_t> line;
    uint64_t line_no = 0, cells = 0;
  };
  auto read_lines = [&](size_t from, const size_t to, Part& part) {
    std::vector<CsvCells::Span> record;
    while (from < to) {
      const char* nl = static_cast<const char*>(std::memchr(data + from, '\n', to - from));
      const size_t end = nl ? static_cast<size_t>(nl - data) : to;
      const uint64_t line_no = ++part.line_no;
      const size_t rec_begin = from;
      size_t rec_end = end;
      from = end + 1;
      if (rec_end > rec_begin && data[rec_end - 1] == '\r') --rec_end;
      std::string_view rec(data + rec_begin, rec_end - rec_begin);
      if (rec.size() > limits.max_line_bytes)
        throw DataError(t.where(line_no) + ": line longer than " +
                        std::to_string(limits.max_line_bytes) + " bytes");
      if (rec.find_first_not_of(" \t") == std::string_view::npos) continue;
      if (std::memchr(rec.data(), '\0', rec.size()) != nullptr)
        throw DataError(t.where(line_no) + ": NUL byte (binary file?)");

      // Splits the record: a cell opens a quoted part only at its first character; after the
      // closing quote further characters (quotes included) belong to the same cell.
      record.clear();
      size_t i = rec_begin;
      while (true) {
        const size_t cell_begin = i;
        size_t w = i;  // write position of the unescaped text
        if (i < rec_end && data[i] == '"') {
          ++i;
          bool closed = false;
          while (i < rec_end) {
            char c = data[i];
            if (c == '"') {
              if (i + 1 < rec_end && data[i + 1] == '"') {
                data[w++] = '"';
                i += 2;
                continue;
              }
              ++i;
              closed = true;
              break;
            }
            data[w++] = c;
            ++i;
          }
          if (!closed) throw DataError(t.where(line_no) + ": unterminated quoted field");
          while (i < rec_end && data[i] != ',') data[w++] = data[i++];
        } else {
          const void* comma = std::memchr(data + i, ',', rec_end - i);
          i = comma != nullptr ? static_cast<size_t>(static_cast<const char*>(comma) - data)
                               : rec_end;
          w = i;
        }
        record.push_back({cell_begin, w - cell_begin});
        if (i >= rec_end) break;
        ++i;  // the comma
        if (record.size() > limits.max_columns)
          throw DataError(t.where(line_no) + ": more than " + std::to_string(limits.max_columns) +
                          " columns");
      }

      if (header_pending) {
        header_pending = false;
        std::vector<std::string> fields;
        fields.reserve(record.size());
        for (const auto& f : record)
          fields.push_back(trim(std::string_view(data + f.offset, f.length)));
        for (size_t k = 0; k < fields.size(); ++k) {
          if (fields[k].empty())
            throw DataError(t.where(line_no) + ": header column " + std::to_string(k + 1) +
                            " has no name");
          for (size_t j = 0; j < k; ++j)
            if (fields[j] == fields[k])
              throw DataError(t.where(line_no) + ": header column '" + fields[k] +
                              "' appears twice");
        }
        t.fields = fields.size();
        t.header = std::move(fields);
        continue;
      }
      if (t.fields == 0) {
        t.fields = record.size();  // headerless: the first record sets the width
      } else if (record.size() != t.fields) {
        throw DataError(t.where(line_no) + ": expected " + std::to_string(t.fields) +
                        " fields (as in " +
                        (t.has_header ? std::string("the header") : "the first record") +
                        "), found " + std::to_string(record.size()));
      }
      if (part.bounds.capacity() == 0)  // as many records as the first one's length suggests
        part.bounds.reserve(t.fields *
                            ((to - rec_begin) / std::max<size_t>(rec.size() + 1, 1) + 1));
      part.cells += record.size();
      if (part.cells > limits.max_cells)
        throw std::length_error(source + " has more than " + std::to_string(limits.max_cells) +
                                " values (limit)");
      part.bounds.insert(part.bounds.end(), record.begin(), record.end());
      part.line.push_back(line_no);
    }
  };

  // The first line that is not blank (the header, or the record that sets the width) alone,
  // then the rest. Text without quotes is never rewritten, so a large rest is read in two halves
  // on two threads; if the second half fails, it is read again after the first, which gives the
  // error (and its line number) of reading in one pass.
  Part first;
  while (pos < buf.size() && t.fields == 0) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', buf.size() - pos));
    const size_t next = nl ? static_cast<size_t>(nl - data) + 1 : buf.size();
    read_lines(pos, next, first);
    pos = next;
  }
  constexpr size_t kBytesForTwoThreads = 256 << 10;
  const char* split_nl =
      buf.size() - pos >= kBytesForTwoThreads && std::thread::hardware_concurrency() > 1 &&
              std::memchr(data + pos, '"', buf.size() - pos) == nullptr
          ? static_cast<const char*>(std::memchr(data + pos + (buf.size() - pos) / 2, '\n',
                                                 buf.size() - pos - (buf.size() - pos) / 2))
          : nullptr;
  if (split_nl == nullptr) {
    read_lines(pos, buf.size(), first);
  } else {
    const size_t split = static_cast<size_t>(split_nl - data) + 1;
    Part second;
    std::exception_ptr second_failed;
    std::jthread reader([&] {  // joined on every path before `second` goes
      try {
        read_lines(split, buf.size(), second);
      } catch (...) {
        second_failed = std::current_exception();
      }
    });
    read_lines(pos, split, first);
    reader.join();
    if (second_failed || first.cells + second.cells > limits.max_cells) {
      read_lines(split, buf.size(), first);
    } else {
      for (auto& l : second.line) l += first.line_no;
      first.line.insert(first.line.end(), second.line.begin(), second.line.end());
      t.rows.tail_ = std::move(second.bounds);  // not copied after the first half's cells
    }
  }
  t.rows.bounds_ = std::move(first.bounds);
  t.line = std::move(first.line);
  t.rows.fields_ = t.fields;
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
  const size_t n = rows.size(), k = columns.size();
  DenseMatrix m(n, k);
  // Reads rows [r0, r1); returns the first cell that is not a number (n when there is none).
  auto read = [&](size_t r0, size_t r1, size_t& bad_column) {
    double* out = m.data.data() + r0 * k;
    for (size_t r = r0; r < r1; ++r)
      for (size_t c = 0; c < k; ++c)
        if (!parse_csv_number(rows.cell(r, columns[c]), *out++)) {
          bad_column = c;
          return r;
        }
    return n;
  };
  // Large tables are read in two halves on two threads; the error reported is the first cell in
  // reading order either way.
  size_t bad_row = n, bad_column = 0;
  if (n * k >= 16384 && std::thread::hardware_concurrency() > 1) {
    size_t half = n / 2, bad_column2 = 0, bad_row2 = n;
    run_beside([&] { bad_row2 = read(half, n, bad_column2); },
               [&] { bad_row = read(0, half, bad_column); });
    if (bad_row == n) bad_row = bad_row2, bad_column = bad_column2;
  } else {
    bad_row = read(0, n, bad_column);
  }
  if (bad_row < n) {
    std::string_view cell = rows.cell(bad_row, columns[bad_column]);
    // strtod's reading of inf/nan is a number, but not a finite one.
    std::string t = trim(cell);
    errno = 0;
    char* end = nullptr;
    double x = t.empty() ? 0 : std::strtod(t.c_str(), &end);
    bool non_finite =
        !t.empty() && end == t.c_str() + t.size() && errno != ERANGE && !std::isfinite(x);
    throw DataError(where(line[bad_row], columns[bad_column]) + ": '" + std::string(cell) +
                    (non_finite ? "' is not a finite number" : "' is not a number"));
  }
  return m;
}

std::vector<std::string_view> CsvTable::text(size_t column) const {
  std::vector<std::string_view> out(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) out[r] = trim_view(rows.cell(r, column));
  return out;
}

std::vector<int32_t> CsvTable::class_indices(size_t column) const {
  std::vector<int32_t> out;
  out.reserve(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string_view cell = rows.cell(r, column);
    double v = 0;
    if (!parse_csv_number(cell, v) || !(v >= 0 && v <= kMaxClassIndex) || v != std::floor(v))
      throw DataError(where(line[r], column) + ": label '" + std::string(cell) +
                      "' is not a class index (an integer 0.." + std::to_string(kMaxClassIndex) +
                      ")");
    out.push_back(static_cast<int32_t>(v));
  }
  return out;
}

LabelEncoder::LabelEncoder(std::vector<std::string> classes) : classes_(std::move(classes)) {
  for (size_t i = 0; i < classes_.size(); ++i) index_[classes_[i]] = static_cast<int32_t>(i);
}

LabelEncoder LabelEncoder::fit(const std::vector<std::string>& labels) {
  return fit(std::vector<std::string_view>(labels.begin(), labels.end()));
}

LabelEncoder LabelEncoder::fit(std::span<const std::string_view> labels) {
  // The distinct names in sorted order: the set grows with the classes, not with the rows.
  std::set<std::string_view> distinct(labels.begin(), labels.end());
  std::vector<std::string> classes(distinct.begin(), distinct.end());
  bool numeric = std::all_of(classes.begin(), classes.end(), [](const std::string& s) {
    double v;
    return parse_csv_number(s, v) && std::isfinite(v);
  });
  if (numeric)
    std::stable_sort(classes.begin(), classes.end(),
                     [](const std::string& a, const std::string& b) {
                       return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
                     });
  return LabelEncoder(std::move(classes));
}

std::vector<int32_t> LabelEncoder::encode(const std::vector<std::string>& labels,
                                          const CsvTable* table) const {
  return encode(std::vector<std::string_view>(labels.begin(), labels.end()), table);
}

std::vector<int32_t> LabelEncoder::encode(std::span<const std::string_view> labels,
                                          const CsvTable* table) const {
  std::vector<int32_t> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    auto it = index_.find(labels[i]);
    if (it == index_.end()) {
      std::string at = table ? table->where(table->line[i]) : "row " + std::to_string(i);
      std::string known;
      for (size_t k = 0; k < classes_.size() && k < 20; ++k) known += (k ? ", " : "") + classes_[k];
      throw DataError(at + ": label '" + std::string(labels[i]) +
                      "' is not a class the model knows (" + known + ")");
    }
    out[i] = it->second;
  }
  return out;
}

std::string csv_escape(std::string_view cell) {
  if (cell.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(cell);
  std::string out = "\"";
  for (char c : cell) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace secmlops::host
