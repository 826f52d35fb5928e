#pragma once

// Tabular data as operations take it: CSV (a file or text) or a matrix with class numbers, read
// by one loader with one label rule — labels are class names, numbered in sorted order of the
// names (numerically when every name is a number), unless a model fixes the classes.
#include "secmlops/app/environment.hpp"
#include "secmlops/host/csv.hpp"
#include "secmlops/v1/dataset.pb.h"
#include "secmlops/v1/model_service.pb.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::app {

struct Table {
  host::CsvTable csv;                   // empty for matrix input; kept for line numbers in errors
  std::vector<std::string> features;    // column names in matrix order
  std::vector<size_t> feature_columns;  // the CSV columns read into x, in matrix order
  host::DenseMatrix x;
  std::optional<size_t> label_field;       // CSV: the label column's index in csv
  std::vector<std::string> matrix_labels;  // matrix input: the class numbers' names, per row
  std::vector<int32_t> label_numbers;      // matrix input: the class numbers as given
  v1::DatasetRecord record;                // digest, shape, lineage
  std::string label_column;                // the CSV's label column by name ("" without one)
  bool described = true;                   // record complete (Provenance::full or after describe())
};

enum class LabelRule {
  none_unless_named,  // prediction and attacks: a label column only when csv.label_column names one
  last_by_default,    // training: csv.label_column, else the last column
};

// How much of a CSV's DatasetRecord loading fills: all of it (schema with column statistics,
// privacy, classes); what identifies the data (name, path, source, digest, shape) — for
// operations that report no more; describe() completes it later; or no digest either, for
// operations whose results carry no record of their input (predict, describe's held-out data).
enum class Provenance { full, digest, shape };

// Reads CsvData (csv.path through env.files, or csv.text). With `feature_names` the features are
// those columns by name (a model's recorded inputs); otherwise every column but the label.
// Throws host::DataError naming the file, line and column; AppError for access and size.
Table load_csv(const Environment& env, const v1::CsvData& csv, LabelRule rule,
               const std::vector<std::string>& feature_names = {},
               Provenance provenance = Provenance::full);

// Completes the DatasetRecord of a table loaded with Provenance::digest.
void describe(Table& t);
// The complete record of the table, which is only read (so it may run on another thread while
// others read the table too; `alongside` says it does, and the record then keeps to that thread).
v1::DatasetRecord described_record(const Table& t, bool alongside = false);

// A matrix with class numbers (gRPC), validated (shape, finite values, the size limit); labels
// become their decimal names. `what` names the field in errors.
Table load_matrix(const Environment& env, const v1::Matrix& m, const std::vector<int32_t>& labels,
                  const char* what);

// The matrix the request carries: features (+labels) or csv, exactly one of them.
Table load_request_data(const Environment& env, const v1::Matrix* features,
                        const std::vector<int32_t>& labels, const v1::CsvData* csv, LabelRule rule,
                        const std::vector<std::string>& feature_names = {},
                        Provenance provenance = Provenance::full);

// The request's data as input of model `m`: columns by the model's feature names, the width
// checked against the model.
Table model_input(const Environment& env, const ModelUse& m, const v1::Matrix* features,
                  const std::vector<int32_t>& labels, const v1::CsvData* csv,
                  Provenance provenance);

// Whether the rows have labels: a CSV label column or matrix labels.
bool has_labels(const Table& t);
// Each row's class name (a CSV label cell, trimmed, or a matrix label's name) as a view into
// `t`, so no string per row; empty without labels. Valid while `t` lives where it is.
std::vector<std::string_view> label_names(const Table& t);

// Encodes the table's labels with `classes` (index = number); DataError names the row. Matrix
// input carries class numbers, which must lie below classes.size().
std::vector<int32_t> encode_labels(const Table& t, const std::vector<std::string>& classes);

// Every value finite; the first bad one is named (row and column).
void require_finite(const host::DenseMatrix& m, const char* what);

// Shortest text that reads back as the same double ("0.05", "1e-07").
std::string format_number(double v);

// A CSV file written at once from one buffer; throws AppError naming `what` when it fails.
void write_text_file(const std::filesystem::path& path, std::string_view text, const char* what);

}  // namespace secmlops::app
