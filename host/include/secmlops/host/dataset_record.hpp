#pragma once

// Data provenance: the DatasetRecord of a CSV table — digest, shape, schema with column types,
// lineage and the personal data it appears to hold (counts only: no cell value is copied).

#include "secmlops/host/csv.hpp"
#include "secmlops/host/proto_fwd.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secmlops::host {

struct DatasetRecordOptions {
  std::string name;          // default: the file name of table.source
  std::string path;          // where the CSV was read from or written to, when it is a file
  std::string source;        // lineage.source; default: file_uri(path) when a path is given
  std::string label_column;  // fills classes and class_counts when set (and present)
  std::string generator;     // generated data: the generator and its parameters (seed included)
  std::map<std::string, std::string> parameters;
  std::vector<std::string> parent_digests;
  std::vector<std::string> transformations;
  std::string sha256;  // the digest of the bytes when already known (raw_bytes then unread)
  size_t max_distinct = 10000;  // distinct values are counted up to this cap
  size_t category_max = 20;  // a text column with at most this many distinct values is "category"
  // Columns the caller already read with CsvTable::numeric: column j of `numbers` holds table
  // column number_columns[j]. Their plain decimal cells are not parsed a second time; the record
  // is the same with or without them.
  const DenseMatrix* numbers = nullptr;
  std::vector<size_t> number_columns;
  // A large table's columns are shared with a second thread, unless the caller already reads
  // the record on a core of its own while other work goes on.
  bool second_thread = true;
};

// `raw_bytes` are the bytes the table was parsed from (the digest is theirs).
v1::DatasetRecord describe_dataset(const CsvTable& table, std::string_view raw_bytes,
                                   const DatasetRecordOptions& options = {});

// Columns that look like personal data: e-mail addresses, phone numbers, national identifiers
// (US SSN, UK NINO), card numbers (13–19 digits passing Luhn), IP addresses, and names of people
// (by column name). A column is reported when at least half of its non-empty cells match a
// pattern, or when its name says what it holds.
v1::PrivacyReport privacy_report(const CsvTable& table);

// The lineage of a dataset derived from `parent` by `transformation` (e.g. a split): the
// parent's digest and transformations first, then this step.
void derive_lineage(v1::DatasetRecord& child, const v1::DatasetRecord& parent,
                    const std::string& transformation);

// What MLflow's log-inputs call takes for a dataset (a DatasetInput): the reporter that records
// runs sends these fields as they are. digest: the first 32 hex digits of the SHA-256 (MLflow
// stores at most 36 characters; the whole digest is in the profile). schema: an mlflow_colspec
// JSON; profile: rows, elements, sha256 and the privacy counts as JSON. tags:
// mlflow.data.context = `context` ("training", "evaluation", …) when given.
struct MlflowDatasetInput {
  std::string name, digest, source_type, source, schema, profile;
  std::vector<std::pair<std::string, std::string>> tags;
};
MlflowDatasetInput mlflow_dataset_input(const v1::DatasetRecord& record,
                                        const std::string& context = {});

// "file:///abs/path" with the path made absolute and percent-encoded where needed.
std::string file_uri(const std::filesystem::path& path);

// The individual content checks, exposed for tests.
namespace personal_data {
bool is_email(std::string_view cell);
bool is_phone(std::string_view cell);
bool is_national_id(std::string_view cell);
bool is_card_number(std::string_view cell);
bool is_ip_address(std::string_view cell);
bool luhn_valid(std::string_view digits);
}  // namespace personal_data

}  // namespace secmlops::host
