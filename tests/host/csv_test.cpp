#include "secmlops/host/csv.hpp"
#include "secmlops/host/model_eval.hpp"
#include "secmlops/host/model_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace secmlops::host;
using ::testing::HasSubstr;

std::string error_of(const std::string& content) {
  try {
    auto t = parse_csv(content, "d.csv");
    std::vector<size_t> cols;
    for (size_t c = 0; c < t.header.size(); ++c) cols.push_back(c);
    (void)t.numeric(cols);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, ParsesQuotesCrlfBlankLinesAndBom) {
  auto t = parse_csv("\xEF\xBB\xBFx,\"la,bel\"\r\n1.5,\"a \"\"q\"\"\"\r\n\r\n-2e3,b\n", "d.csv");
  ASSERT_EQ(t.header, (std::vector<std::string>{"x", "la,bel"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "a \"q\"");
  EXPECT_EQ(t.line[1], 4u);
  auto m = t.numeric({0});
  EXPECT_EQ(m(1, 0), -2000);
}

TEST(Csv, BadRowsNameLineAndColumn) {
  EXPECT_EQ(error_of("a,b\n1,2\n3\n"), "d.csv:3: expected 2 fields (as in the header), found 1");
  EXPECT_EQ(error_of("a,b\n1,2\n3,x4\n"), "d.csv:3: column 'b': 'x4' is not a number");
  EXPECT_EQ(error_of("a,b\n1,\n"), "d.csv:2: column 'b': '' is not a number");
  EXPECT_EQ(error_of("a,b\n1,nan\n"), "d.csv:2: column 'b': 'nan' is not a finite number");
  EXPECT_EQ(error_of("a,b\n1,1e999\n"), "d.csv:2: column 'b': '1e999' is not a number");
  EXPECT_EQ(error_of("a,a\n1,2\n"), "d.csv:1: header column 'a' appears twice");
  EXPECT_EQ(error_of("a,b\n1,\"2\n"), "d.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of(""), "d.csv: empty file (no header row)");
  CsvLimits small;
  small.max_line_bytes = 8;
  EXPECT_THROW(parse_csv("a,b\n1,22222222222\n", "d.csv", small), DataError);
}

TEST(Csv, NumbersReadAsStrtodReadsThem) {
  // The fast reading must accept exactly what strtod accepts, with the same value.
  for (const char* text : {"0",
                           "-0",
                           "1",
                           "+1",
                           " 2.5\t",
                           "1e-7",
                           "1E+300",
                           "0x1p3",
                           "0X1.8P1",
                           ".5",
                           "5.",
                           "-.5e-3",
                           "4.9406564584124654e-324",
                           "2.2250738585072014e-308",
                           "1e-400",
                           "1e400",
                           "0e999999",
                           "0.000e-5",
                           "1.7976931348623157e308",
                           "0.1",
                           "3.14159265358979323846",
                           "nan",
                           "inf",
                           "-Infinity",
                           "",
                           " ",
                           "1,5",
                           "1 2",
                           "--1",
                           "1e",
                           "e1",
                           "0x",
                           "12abc"}) {
    std::string t(text);
    size_t b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
    std::string trimmed = b == std::string::npos ? "" : t.substr(b, e - b + 1);
    errno = 0;
    char* end = nullptr;
    double expected = std::strtod(trimmed.c_str(), &end);
    bool ok = !trimmed.empty() && end == trimmed.c_str() + trimmed.size() && errno != ERANGE &&
              std::isfinite(expected);
    double got = -1;
    EXPECT_EQ(parse_csv_number(t, got), ok) << text;
    if (ok) {
      EXPECT_EQ(std::memcmp(&got, &expected, sizeof got), 0)
          << text;  // same bits, sign of zero too
    }
  }
}

TEST(Csv, QuotedCellsAreUnescapedInPlace) {
  auto t = parse_csv("a,b,c\n\"x,\"\"y\"\"\",\"\"\"\",\"q\"r\"s\n \"k\",\"\",z\n", "d.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][0], "x,\"y\"");
  EXPECT_EQ(t.rows[0][1], "\"");
  EXPECT_EQ(t.rows[0][2], "qr\"s");   // after the closing quote the rest belongs to the cell
  EXPECT_EQ(t.rows[1][0], " \"k\"");  // a quote opens a quoted part only at the cell's start
  EXPECT_EQ(t.rows[1][1], "");
  EXPECT_EQ(t.rows[1][2], "z");
  size_t cells = 0;
  for (const auto& row : t.rows) cells += row.size();
  EXPECT_EQ(cells, 6u);
}

TEST(Csv, NumbersWriteInTheirShortestExactForm) {
  std::string out;
  for (double v : {0.1, 1e-7, -2.5, 1.0 / 3, 123456789.0, 5e-324}) {
    out.clear();
    append_number(out, v);
    double back = 0;
    ASSERT_TRUE(parse_csv_number(out, back) || v == 5e-324) << out;
    if (v != 5e-324) {
      EXPECT_EQ(back, v) << out;
    }
  }
  out.clear();
  append_number(out, 0.05);
  EXPECT_EQ(out, "0.05");
}

TEST(Csv, MissingColumnListsColumns) {
  auto t = parse_csv("a,b\n1,2\n", "d.csv");
  try {
    (void)t.column("label");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "d.csv: no column named 'label' (columns: a, b)");
  }
}

TEST(Csv, HeaderlessRecordsAreDataAndNamedByPosition) {
  auto t = parse_csv("1,2,0\n\n3,4,1\n", "up", {}, CsvHeader::absent);
  EXPECT_FALSE(t.has_header);
  EXPECT_TRUE(t.header.empty());
  EXPECT_EQ(t.fields, 3u);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.line, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(t.numeric({0, 1})(1, 1), 4.0);
  auto bad = parse_csv("1,0\n2,zz\n", "CSV", {}, CsvHeader::absent);
  try {
    (void)bad.numeric({1});
    FAIL();
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "CSV line 2, column 2: 'zz' is not a number");
  }
  try {
    (void)parse_csv("1,0\n2\n", "CSV", {}, CsvHeader::absent);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "CSV line 2: expected 2 fields (as in the first record), found 1");
  }
  EXPECT_THROW((void)parse_csv("\n \n", "CSV", {}, CsvHeader::absent), DataError);
}

TEST(Csv, ClassIndicesAreSmallNonNegativeIntegers) {
  auto t = parse_csv("x,y\n1, 2\n2,0\n", "d.csv");
  EXPECT_EQ(t.class_indices(1), (std::vector<int32_t>{2, 0}));
  for (const char* label : {"0.5", "-1", "1000001", "cat", "", "inf"}) {
    auto bad = parse_csv(std::string("x,y\n1,0\n2,") + label + "\n", "d.csv");
    try {
      (void)bad.class_indices(1);
      ADD_FAILURE() << label;
    } catch (const DataError& e) {
      EXPECT_THAT(e.what(), HasSubstr("d.csv:3: column 'y': label '")) << label;
      EXPECT_THAT(e.what(), HasSubstr("is not a class index")) << label;
    }
  }
}

TEST(Csv, CellLimitIsALengthError) {
  CsvLimits limits;
  limits.max_cells = 4;
  EXPECT_EQ(parse_csv("a,b\n1,2\n3,4\n", "d.csv", limits).rows.size(), 2u);  // header not counted
  try {
    (void)parse_csv("1,2\n3,4\n5,6\n", "CSV", limits, CsvHeader::absent);
    FAIL();
  } catch (const std::length_error& e) {
    EXPECT_STREQ(e.what(), "CSV has more than 4 values (limit)");
  }
}

// A large text without quotes is read in two halves on two threads. A text with one quote is
// read in one pass; both must give the same cells, line numbers and errors.
std::string large_csv(size_t rows, bool blank_lines) {
  std::string csv = "\n\na,b,c\n";
  for (size_t r = 0; r < rows; ++r) {
    csv += std::to_string(r) + "," + std::to_string(r * 0.5) + ",x" + std::to_string(r % 9) + "\n";
    if (blank_lines && r % 1000 == 7) csv += "\r\n \t\n";
  }
  return csv;
}

std::string parse_error(const std::string& csv, const CsvLimits& limits = {}) {
  try {
    (void)parse_csv(csv, "d.csv", limits);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, LargeTextReadInTwoHalvesAsInOnePass) {
  const std::string csv = large_csv(60000, true);
  ASSERT_GE(csv.size(), 600000u);
  std::string quoted = csv;
  quoted.replace(quoted.find(",x0\n"), 4, ",\"x0\"\n");  // row 0
  auto halves = parse_csv(csv, "d.csv");
  auto one_pass = parse_csv(quoted, "d.csv");
  ASSERT_EQ(halves.rows.size(), 60000u);
  ASSERT_EQ(one_pass.rows.size(), 60000u);
  EXPECT_EQ(halves.line, one_pass.line);
  for (size_t r = 0; r < 60000; r += 997)
    for (size_t c = 0; c < 3; ++c) EXPECT_EQ(halves.rows[r][c], one_pass.rows[r][c]);
  EXPECT_EQ(halves.rows[59999][1], "29999.500000");
  EXPECT_EQ(halves.line.back(), one_pass.line.back());
}

TEST(Csv, ErrorsOfTheSecondHalfNameTheirLine) {
  std::string csv = large_csv(60000, true);
  // Two faults late in the text: the first in reading order is reported, with its line.
  const size_t late = csv.find("\n50000,");
  csv.insert(late + 1, "1,2\n");
  csv.insert(csv.find("\n55000,") + 1, "1,2,3,4\n");
  const auto before = static_cast<size_t>(std::count(csv.begin(), csv.begin() + late + 1, '\n'));
  EXPECT_EQ(parse_error(csv), "d.csv:" + std::to_string(before + 1) +
                                  ": expected 3 fields (as in the header), found 2");
  // A fault in each half: the first half's.
  csv.insert(csv.find("\n100,") + 1, "\"open\n");
  EXPECT_EQ(parse_error(csv), "d.csv:" + std::to_string(3 + 100 + 2 * (100 / 1000 + 1) + 1) +
                                  ": unterminated quoted field");
}

TEST(Csv, CellLimitCountsBothHalves) {
  const std::string csv = large_csv(60000, false);
  CsvLimits limits;
  limits.max_cells = 3 * 60000;
  EXPECT_EQ(parse_csv(csv, "d.csv", limits).rows.size(), 60000u);
  limits.max_cells = 3 * 60000 - 1;
  EXPECT_EQ(parse_error(csv, limits), "d.csv has more than 179999 values (limit)");
  // The limit is reached in the second half before a fault further on: the limit is reported.
  std::string faulty = csv + "1\n";
  EXPECT_EQ(parse_error(faulty, limits), "d.csv has more than 179999 values (limit)");
  limits.max_cells = 3 * 60000;
  EXPECT_EQ(parse_error(faulty, limits),
            "d.csv:60004: expected 3 fields (as in the header), found 1");
}

// A large body is written in two halves on two threads: the text is the one-thread text, and a
// failure in either half reaches the caller.
TEST(Csv, RowsAppendedInOrder) {
  auto row = [](std::string& text, uint64_t r) {
    append_number(text, static_cast<double>(r) / 7);
    text += ",x\n";
  };
  for (uint64_t rows : {0u, 1u, 3u, 20000u}) {
    std::string expected = "h\n";
    for (uint64_t r = 0; r < rows; ++r) row(expected, r);
    std::string out = "h\n";
    append_rows(out, rows, 24, row);
    EXPECT_EQ(out, expected) << rows << " rows";
  }
  for (uint64_t bad : {5u, 19999u}) {
    std::string out;
    EXPECT_THROW(append_rows(out, 20000, 24,
                             [&](std::string& text, uint64_t r) {
                               if (r == bad) throw std::runtime_error("row");
                               row(text, r);
                             }),
                 std::runtime_error);
  }
}

TEST(LabelEncoder, SortsNumericLabelsNumericallyAndRejectsUnknown) {
  auto e = LabelEncoder::fit({"10", "2", "10", "1"});
  EXPECT_EQ(e.classes(), (std::vector<std::string>{"1", "2", "10"}));
  EXPECT_EQ(e.encode({"2", "10"}), (std::vector<int32_t>{1, 2}));
  auto s = LabelEncoder::fit({"dog", "cat"});
  EXPECT_EQ(s.decode(0), "cat");
  EXPECT_THROW((void)s.encode({"bird"}), DataError);
}

TEST(LabelEncoder, ViewsOfTableCellsGiveTheClassesAndErrorsOfStrings) {
  const auto t = parse_csv("x,y\n1, 10\n2,2\n3,10 \n4,1\n5,\t2\n", "d.csv");
  const auto cells = t.text(1);
  EXPECT_EQ(cells, (std::vector<std::string_view>{"10", "2", "10", "1", "2"}));
  const std::vector<std::string> strings(cells.begin(), cells.end());
  const auto from_views = LabelEncoder::fit(cells), from_strings = LabelEncoder::fit(strings);
  EXPECT_EQ(from_views.classes(), (std::vector<std::string>{"1", "2", "10"}));
  EXPECT_EQ(from_views.classes(), from_strings.classes());
  EXPECT_EQ(from_views.encode(cells, &t), (std::vector<int32_t>{2, 1, 2, 0, 1}));
  EXPECT_EQ(from_views.encode(cells, &t), from_strings.encode(strings, &t));
  // Names sort as text unless every one is a number; an unknown name is named with its line.
  const auto names = parse_csv("x,y\n1,dog\n2,cat\n3,10\n", "n.csv");
  const auto mixed = LabelEncoder::fit(names.text(1));
  EXPECT_EQ(mixed.classes(), (std::vector<std::string>{"10", "cat", "dog"}));
  const auto two = LabelEncoder::fit(std::vector<std::string>{"cat", "dog"});
  try {
    (void)two.encode(names.text(1), &names);
    FAIL() << "an unknown label was encoded";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "n.csv:4: label '10' is not a class the model knows (cat, dog)");
  }
}

TEST(ModelEval, SplitIsSeededAndComplete) {
  auto a = train_test_split(100, 0.25, 7), b = train_test_split(100, 0.25, 7),
       c = train_test_split(100, 0.25, 8);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.test, c.test);
  EXPECT_EQ(a.test.size(), 25u);
  EXPECT_EQ(a.train.size(), 75u);
  EXPECT_TRUE(train_test_split(10, 0, 1).test.empty());
}

TEST(ModelEval, NoTestRowsTrainsOnEveryRowInOrder) {
  std::vector<size_t> every(1000);
  for (size_t i = 0; i < every.size(); ++i) every[i] = i;
  for (uint64_t seed : {0u, 1u, 42u}) {
    auto s = train_test_split(every.size(), 0, seed);
    EXPECT_EQ(s.train, every);
    EXPECT_TRUE(s.test.empty());
  }
  // The smallest positive size still holds one row out.
  EXPECT_EQ(train_test_split(1000, 1e-9, 3).test.size(), 1u);
}

TEST(ModelEval, MetricsAndOverfittingThresholds) {
  DenseMatrix p(2, 2, {0.9, 0.1, 0.4, 0.6});
  auto m = classification_metrics(p, {0, 0});
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_NEAR(m.log_loss, -(std::log(0.9) + std::log(0.4)) / 2, 1e-12);
  ClassificationMetrics train{100, 1.0, 0.01}, fine{100, 0.97, 0.08}, bad{100, 0.90, 0.05};
  EXPECT_FALSE(overfitting_report(train, fine).flagged);
  auto r = overfitting_report(train, bad);
  EXPECT_TRUE(r.flagged);
  EXPECT_THAT(r.verdict, HasSubstr("by 10.0 points"));
  EXPECT_TRUE(
      overfitting_report(train, ClassificationMetrics{100, 1.0, 0.2}).flagged);  // log-loss gap
}

TEST(OnnxMetadata, AppendedEntriesReadBack) {
  std::vector<uint8_t> bytes = {0x08, 0x08};  // ir_version = 8
  add_onnx_metadata(bytes, "k", "v");
  add_onnx_metadata(bytes, "secmlops.class_labels", "[\"a\"]");
  auto m = onnx_metadata(bytes);
  EXPECT_EQ(m["k"], "v");
  EXPECT_EQ(m["secmlops.class_labels"], "[\"a\"]");
  EXPECT_THROW(onnx_metadata({0x72, 0x7f}), std::runtime_error);  // length beyond the end
}

TEST(OnnxMetadata, ClassLabelsPackedOrNotAndErrorsWithTheOffset) {
  auto field = [](uint8_t tag, const std::string& body) {
    std::string out(1, static_cast<char>(tag));
    out += static_cast<char>(body.size());
    return out + body;
  };
  // ModelProto.graph(7) → GraphProto.node(1) → NodeProto.attribute(5) → AttributeProto.
  auto model = [&](const std::string& attr) {
    std::string m = field(0x3a, field(0x0a, field(0x2a, attr)));
    return std::vector<uint8_t>(m.begin(), m.end());
  };
  std::string packed =
      field(0x0a, "classlabels_ints") + field(0x42, std::string("\x03\x07\x7f", 3));
  EXPECT_EQ(onnx_class_labels(model(packed)), (std::vector<std::string>{"3", "7", "127"}));
  std::string unpacked = field(0x0a, "classlabels_ints") + std::string("\x40\x02\x40\x05", 4);
  EXPECT_EQ(onnx_class_labels(model(unpacked)), (std::vector<std::string>{"2", "5"}));
  std::string strings =
      field(0x0a, "classlabels_strings") + field(0x4a, "cat") + field(0x4a, "dog");
  EXPECT_EQ(onnx_class_labels(model(strings)), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(onnx_class_labels(model(field(0x0a, "other") + field(0x4a, "x"))).empty());
  try {
    (void)onnx_class_labels({0x3a, 0x05, 0x0a, 0x7f});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("malformed ONNX file"));
    EXPECT_THAT(e.what(), HasSubstr("byte offset"));
  }
}

}  // namespace
