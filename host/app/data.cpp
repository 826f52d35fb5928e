#include "secmlops/app/data.hpp"
#include "secmlops/host/beside.hpp"
#include "secmlops/host/dataset_record.hpp"
#include "secmlops/host/digest.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace secmlops::app {
namespace {

std::string read_file(const std::filesystem::path& path, uint64_t max_bytes) {
  // One read of the whole file into one buffer (no stream iterators, no growth).
  std::ifstream in(path, std::ios::binary);
  if (!in) throw host::DataError(path.string() + ": cannot open");
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes)
    throw host::DataError(path.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
  std::string text;
  if (!ec) {
    text.resize(size);
    in.read(text.data(), static_cast<std::streamsize>(size));
    text.resize(static_cast<size_t>(in.gcount()));
    if (in.bad()) throw host::DataError(path.string() + ": read error");
    if (in.peek() == std::char_traits<char>::eof()) return text;
    in.clear();
  }
  // Not a regular file (a pipe), or it grew: read the rest.
  text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) throw host::DataError(path.string() + ": read error");
  if (text.size() > max_bytes)
    throw host::DataError(path.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
  return text;
}

// A label column given by header name or 0-based index.
size_t label_index(const host::CsvTable& t, const std::string& spec) {
  auto named = std::find(t.header.begin(), t.header.end(), spec);
  if (named != t.header.end()) return static_cast<size_t>(named - t.header.begin());
  size_t idx = 0;
  const char* end = spec.data() + spec.size();
  auto [p, ec] = std::from_chars(spec.data(), end, idx);
  if (ec != std::errc{} || p != end || idx >= t.fields) {
    std::string known;
    for (size_t c = 0; c < t.header.size() && c < 30; ++c) known += (c ? ", " : "") + t.header[c];
    throw host::DataError(t.source + ": label column '" + spec + "' is neither a column name" +
                          (known.empty() ? "" : " (" + known + ")") + " nor an index below " +
                          std::to_string(t.fields));
  }
  return idx;
}

void fill_record(Table& t, const std::string& label_column) {
  auto& r = t.record;
  r.set_rows(t.x.rows);
  r.set_columns(t.features.size() + (t.matrix_labels.empty() ? 0 : 1));
  r.set_label_column(label_column);
  if (!t.matrix_labels.empty()) {
    std::map<std::string, uint64_t> counts;
    for (const auto& l : t.matrix_labels) ++counts[l];
    auto classes = host::LabelEncoder::fit(t.matrix_labels).classes();
    for (const auto& c : classes) r.add_classes(c);
    for (const auto& [k, v] : counts) (*r.mutable_class_counts())[k] = v;
  }
}

}  // namespace

void require_finite(const host::DenseMatrix& m, const char* what) {
  try {
    host::require_finite(m, what);
  } catch (const std::invalid_argument& e) {
    fail(AppError::Code::invalid_argument, e.what());
  }
}

Table load_csv(const Environment& env, const v1::CsvData& csv, LabelRule rule,
               const std::vector<std::string>& feature_names, Provenance provenance) {
  Table t;
  host::CsvLimits limits;
  if (env.max_matrix_values) limits.max_cells = env.max_matrix_values;
  std::string text;
  std::string source;
  if (!csv.path().empty()) {
    if (!csv.text().empty())
      fail(AppError::Code::invalid_argument, "give csv.path or csv.text, not both");
    auto path = env.files.resolve(csv.path());
    text = read_file(path, limits.max_bytes);
    source = csv.path();
    t.record.set_path(path.string());
    t.record.mutable_lineage()->set_source(host::file_uri(path));
    t.record.set_name(csv.name().empty() ? path.filename().string() : csv.name());
  } else {
    text = csv.text();
    source = csv.name().empty() ? "CSV" : csv.name();
    t.record.mutable_lineage()->set_source("grpc:upload");
    t.record.set_name(csv.name().empty() ? "upload" : csv.name());
  }
  const bool header = !csv.path().empty() || csv.has_header();
  // The digest is of the bytes as read. The parser keeps them as its cell buffer and rewrites
  // only quoted cells: text without a quote is still those bytes after parsing, and is hashed on
  // another core while the numbers are read.
  const bool hashed = provenance != Provenance::shape;
  const bool quoted = text.find('"') != std::string::npos;
  std::string digest = hashed && quoted ? host::sha256_hex(text) : "";
  try {
    t.csv = host::parse_csv(std::move(text), source, limits,
                            header ? host::CsvHeader::present : host::CsvHeader::absent);
  } catch (const std::length_error& e) {
    fail(AppError::Code::resource_exhausted, e.what());
  }
  std::optional<size_t> label;
  if (!csv.label_column().empty())
    label = label_index(t.csv, csv.label_column());
  else if (rule == LabelRule::last_by_default && t.csv.fields > 0)
    label = t.csv.fields - 1;
  auto name_of = [&](size_t c) {
    return t.csv.has_header ? t.csv.header[c] : "column " + std::to_string(c);
  };

  std::vector<size_t> cols;
  if (!feature_names.empty() && t.csv.has_header) {
    for (const auto& f : feature_names) {
      size_t c = t.csv.column(f);
      if (label && c == *label)
        throw host::DataError(source + ": column '" + f +
                              "' is both a model input and the label column");
      cols.push_back(c);
    }
  } else {
    for (size_t c = 0; c < t.csv.fields; ++c)
      if (!label || c != *label) cols.push_back(c);
    if (!feature_names.empty() && cols.size() != feature_names.size())
      throw host::DataError(source + ": " + std::to_string(cols.size()) +
                            " feature columns, the model expects " +
                            std::to_string(feature_names.size()));
  }
  if (cols.empty()) throw host::DataError(source + ": no feature columns");
  if (t.csv.rows.empty()) throw host::DataError(source + ": no data rows");
  for (size_t c : cols) t.features.push_back(name_of(c));
  auto hash = [&] { digest = host::sha256_hex(t.csv.rows.buffer()); };
  auto parse = [&] { t.x = t.csv.numeric(cols); };
  if (hashed && !quoted)
    host::run_beside(hash, parse);
  else
    parse();
  t.feature_columns = std::move(cols);
  t.record.set_sha256(digest);
  t.label_field = label;
  // Provenance: digest of the bytes as read; schema, classes, lineage and personal-data columns
  // now or on demand (describe()).
  if (label) t.label_column = name_of(*label);
  t.record.set_rows(t.x.rows);
  t.record.set_columns(t.csv.fields);
  if (t.csv.has_header) t.record.set_label_column(t.label_column);
  t.described = false;
  if (provenance == Provenance::full) describe(t);
  return t;
}

v1::DatasetRecord described_record(const Table& t, bool alongside) {
  if (t.described) return t.record;
  host::DatasetRecordOptions o;
  o.name = t.record.name();
  o.path = t.record.path();
  o.source = t.record.lineage().source();
  o.label_column = t.label_column;
  o.sha256 = t.record.sha256();
  o.numbers = &t.x;
  o.number_columns = t.feature_columns;
  o.second_thread = !alongside;
  return host::describe_dataset(t.csv, {}, o);
}

void describe(Table& t) {
  if (t.described) return;
  t.record = described_record(t);
  t.described = true;
}

Table load_matrix(const Environment& env, const v1::Matrix& m, const std::vector<int32_t>& labels,
                  const char* what) {
  if (m.rows() == 0 || m.cols() == 0)
    fail(AppError::Code::invalid_argument,
         std::string(what) + " is empty (rows and cols must be > 0)");
  if (m.cols() > 0 && m.rows() > UINT64_MAX / m.cols())
    fail(AppError::Code::invalid_argument, std::string(what) + ": rows × cols overflows");
  const uint64_t n = m.rows() * m.cols();
  if (static_cast<uint64_t>(m.values_size()) != n)
    fail(AppError::Code::invalid_argument,
         std::string(what) + " has " + std::to_string(m.values_size()) + " values, shape " +
             std::to_string(m.rows()) + "x" + std::to_string(m.cols()) + " needs " +
             std::to_string(n));
  if (env.max_matrix_values && n > env.max_matrix_values)
    fail(AppError::Code::resource_exhausted, std::string(what) + " has " + std::to_string(n) +
                                                 " values; the limit is " +
                                                 std::to_string(env.max_matrix_values));
  Table t;
  t.x = host::DenseMatrix(m.rows(), m.cols(),
                          std::vector<double>(m.values().begin(), m.values().end()));
  require_finite(t.x, what);
  for (uint64_t c = 0; c < m.cols(); ++c) t.features.push_back("f" + std::to_string(c));
  if (!labels.empty()) {
    if (labels.size() != m.rows())
      fail(AppError::Code::invalid_argument, "got " + std::to_string(labels.size()) +
                                                 " labels for " + std::to_string(m.rows()) +
                                                 " rows: one per row, or none");
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] < 0 || labels[i] > host::CsvTable::kMaxClassIndex)
        fail(AppError::Code::invalid_argument,
             "label " + std::to_string(labels[i]) + " of row " + std::to_string(i) +
                 " is not a class number 0.." + std::to_string(host::CsvTable::kMaxClassIndex));
      t.matrix_labels.push_back(std::to_string(labels[i]));
      t.label_numbers.push_back(labels[i]);
    }
  }
  // The digest of a matrix is over its little-endian doubles, row-major.
  std::string bytes(reinterpret_cast<const char*>(t.x.data.data()),
                    t.x.data.size() * sizeof(double));
  t.record.set_sha256(host::sha256_hex(bytes));
  t.record.set_name(what);
  t.record.mutable_lineage()->set_source("grpc:matrix");
  fill_record(t, labels.empty() ? "" : "label");
  return t;
}

Table load_request_data(const Environment& env, const v1::Matrix* features,
                        const std::vector<int32_t>& labels, const v1::CsvData* csv, LabelRule rule,
                        const std::vector<std::string>& feature_names, Provenance provenance) {
  const bool has_csv = csv && (!csv->text().empty() || !csv->path().empty());
  const bool has_matrix =
      (features && (features->rows() || features->cols() || features->values_size())) ||
      !labels.empty();
  if (has_csv == has_matrix)
    fail(AppError::Code::invalid_argument, has_csv
                                               ? "give either features (+ labels) or csv, not both"
                                               : "no data given: set features (+ labels) or csv");
  if (has_csv) {
    auto t = load_csv(env, *csv, rule, feature_names, provenance);
    require_finite(t.x, "data");
    return t;
  }
  auto t = load_matrix(env, *features, labels, "features");
  if (!feature_names.empty()) t.features = feature_names;
  return t;
}

std::vector<int32_t> encode_labels(const Table& t, const std::vector<std::string>& classes) {
  if (!t.label_numbers.empty()) {
    for (size_t i = 0; i < t.label_numbers.size(); ++i)
      if (static_cast<size_t>(t.label_numbers[i]) >= classes.size())
        fail(AppError::Code::invalid_argument,
             "label " + std::to_string(t.label_numbers[i]) + " of row " + std::to_string(i) +
                 " is outside 0.." + std::to_string(classes.size() - 1));
    return t.label_numbers;
  }
  host::LabelEncoder enc(classes);
  return enc.encode(label_names(t), t.csv.rows.empty() ? nullptr : &t.csv);
}

bool has_labels(const Table& t) { return t.label_field || !t.matrix_labels.empty(); }

std::vector<std::string_view> label_names(const Table& t) {
  if (t.label_field) return t.csv.text(*t.label_field);
  return {t.matrix_labels.begin(), t.matrix_labels.end()};
}

void write_text_file(const std::filesystem::path& path, std::string_view text, const char* what) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) fail(AppError::Code::failed_precondition, path.string() + ": cannot write the " + what);
}

std::string format_number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, p) : std::to_string(v);
}

}  // namespace secmlops::app
