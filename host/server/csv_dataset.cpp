#include "csv_dataset.hpp"

#include "secmlops/host/csv.hpp"

#include <algorithm>
#include <charconv>

namespace secmlops::server {

LabeledData parse_labeled_csv(const std::string& text, const std::string& label_column,
                              bool has_header, uint64_t max_values) {
  host::CsvLimits limits;
  limits.max_cells = max_values;
  auto table = host::parse_csv(text, "CSV", limits,
                               has_header ? host::CsvHeader::present : host::CsvHeader::absent);
  if (table.fields < 2)
    throw host::DataError("CSV needs at least one feature column and a label column");
  size_t label = table.fields - 1;
  if (!label_column.empty()) {
    auto named = std::find(table.header.begin(), table.header.end(), label_column);
    if (named != table.header.end()) {
      label = static_cast<size_t>(named - table.header.begin());
    } else {
      size_t idx = 0;
      const char* end = label_column.data() + label_column.size();
      auto [p, ec] = std::from_chars(label_column.data(), end, idx);
      if (ec != std::errc{} || p != end || idx >= table.fields)
        throw host::DataError("label column '" + label_column +
                              "' is neither a header name nor an index below " +
                              std::to_string(table.fields));
      label = idx;
    }
  }
  if (table.rows.empty()) throw host::DataError("CSV has no data rows");
  std::vector<size_t> features;
  for (size_t c = 0; c < table.fields; ++c)
    if (c != label) features.push_back(c);
  return {table.numeric(features), table.class_indices(label)};
}

}  // namespace secmlops::server
