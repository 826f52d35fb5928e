// The host's CSV reader on arbitrary bytes (training data comes from users and from gRPC
// uploads): the first byte picks the header mode, the rest is the file. Every way of reading the
// table is exercised; DataError and the cell limit's length_error are the only allowed outcomes
// besides success.
#include "secmlops/host/csv.hpp"

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace secmlops::host;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const CsvHeader header = (data[0] & 1) ? CsvHeader::present : CsvHeader::absent;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  CsvLimits limits;
  limits.max_line_bytes = 4096;
  limits.max_columns = 256;
  limits.max_cells = 1 << 16;
  try {
    const CsvTable t = parse_csv(text, "fuzz.csv", limits, header);
    std::vector<size_t> all;
    for (size_t c = 0; c < t.fields; ++c) all.push_back(c);
    try {
      (void)t.numeric(all);
    } catch (const DataError&) {
    }
    if (t.fields > 0) {
      try {
        (void)t.class_indices(t.fields - 1);
      } catch (const DataError&) {
      }
      const auto labels = t.text(t.fields - 1);
      const auto encoder = LabelEncoder::fit(labels);
      (void)encoder.encode(labels, &t);
      for (const auto& cell : labels) (void)csv_escape(cell);
    }
    if (t.has_header && !t.header.empty()) (void)t.column(t.header.back());
    // The fast number reading accepts exactly what strtod accepts, with the same bits.
    for (size_t r = 0; r < t.rows.size(); ++r)
      for (size_t c = 0; c < t.fields; ++c) {
        const std::string_view cell = t.rows.cell(r, c);
        const size_t b = cell.find_first_not_of(" \t"), e = cell.find_last_not_of(" \t");
        const std::string trimmed =
            b == std::string_view::npos ? "" : std::string(cell.substr(b, e - b + 1));
        errno = 0;
        char* end = nullptr;
        const double expected = std::strtod(trimmed.c_str(), &end);
        const bool ok = !trimmed.empty() && end == trimmed.c_str() + trimmed.size() &&
                        errno != ERANGE && std::isfinite(expected);
        double got = 0;
        if (parse_csv_number(cell, got) != ok ||
            (ok && std::memcmp(&got, &expected, sizeof got) != 0))
          __builtin_trap();
      }
  } catch (const DataError&) {
  } catch (const std::length_error&) {
  }
  return 0;
}
