// Dataset records: digest, schema, lineage and personal-data detection without copying values.
#include "secmlops/host/dataset_record.hpp"
#include "secmlops/host/signing.hpp"
#include "secmlops/v1/dataset.pb.h"

#include <gtest/gtest.h>

using namespace secmlops;
using namespace secmlops::host;
namespace pd = secmlops::host::personal_data;

namespace {

const v1::PersonalDataColumn* find(const v1::PrivacyReport& r, const std::string& column,
                                   const std::string& kind) {
  for (const auto& c : r.columns())
    if (c.column() == column && c.kind() == kind) return &c;
  return nullptr;
}

}  // namespace

TEST(PersonalData, Emails) {
  EXPECT_TRUE(pd::is_email("jane.doe+ml@example.co.uk"));
  EXPECT_TRUE(pd::is_email("  a@b.io "));
  EXPECT_FALSE(pd::is_email("@example.com"));
  EXPECT_FALSE(pd::is_email("a@b"));
  EXPECT_FALSE(pd::is_email("a@@b.com"));
  EXPECT_FALSE(pd::is_email("a b@c.com"));
  EXPECT_FALSE(pd::is_email("a@b.c0m"));
}

TEST(PersonalData, PhonesButNotNumbersOrDates) {
  EXPECT_TRUE(pd::is_phone("+33 1 23 45 67 89"));
  EXPECT_TRUE(pd::is_phone("(555) 123-4567"));
  EXPECT_TRUE(pd::is_phone("+14155552671"));
  EXPECT_TRUE(pd::is_phone("555.123.4567"));
  EXPECT_FALSE(pd::is_phone("4155552671"));  // bare digits: an id as likely as a phone
  EXPECT_FALSE(pd::is_phone("-1234567.5"));
  EXPECT_FALSE(pd::is_phone("2024-01-15"));
  EXPECT_FALSE(pd::is_phone("15.01.2024"));
  EXPECT_FALSE(pd::is_phone("123-45"));
  EXPECT_FALSE(pd::is_phone("10.0.0.1"));
}

TEST(PersonalData, NationalIds) {
  EXPECT_TRUE(pd::is_national_id("123-45-6789"));
  EXPECT_FALSE(pd::is_national_id("000-45-6789"));
  EXPECT_FALSE(pd::is_national_id("666-45-6789"));
  EXPECT_FALSE(pd::is_national_id("123-00-6789"));
  EXPECT_TRUE(pd::is_national_id("AB 12 34 56 C"));
  EXPECT_FALSE(pd::is_national_id("AB123456E"));
}

TEST(PersonalData, CardNumbersNeedLuhn) {
  EXPECT_TRUE(pd::luhn_valid("79927398713"));
  EXPECT_FALSE(pd::luhn_valid("79927398710"));
  EXPECT_TRUE(pd::is_card_number("4111 1111 1111 1111"));
  EXPECT_TRUE(pd::is_card_number("5500-0000-0000-0004"));
  EXPECT_FALSE(pd::is_card_number("4111 1111 1111 1112"));
  EXPECT_FALSE(pd::is_card_number("0000000000000000"));
  EXPECT_FALSE(pd::is_card_number("411111111111"));  // 12 digits
}

TEST(PersonalData, IpAddresses) {
  EXPECT_TRUE(pd::is_ip_address("192.168.1.20"));
  EXPECT_TRUE(pd::is_ip_address("2001:db8::1"));
  EXPECT_FALSE(pd::is_ip_address("256.1.1.1"));
  EXPECT_FALSE(pd::is_ip_address("1.2.3"));
  EXPECT_FALSE(pd::is_ip_address("3.14"));
}

TEST(DatasetRecord, DigestShapeAndSchema) {
  std::string csv = "x,n,colour,label\n1.5,3,red,a\n2.5,,blue,b\n-1,7,red,a\n";
  auto t = parse_csv(csv, "data/iris.csv");
  DatasetRecordOptions o;
  o.label_column = "label";
  o.path = "/srv/data/iris.csv";
  auto r = describe_dataset(t, csv, o);
  EXPECT_EQ(r.name(), "iris.csv");
  EXPECT_EQ(r.sha256(), host::sha256_hex(csv));
  EXPECT_EQ(r.rows(), 3u);
  EXPECT_EQ(r.columns(), 4u);
  ASSERT_EQ(r.schema_size(), 4);
  EXPECT_EQ(r.schema(0).type(), "number");
  EXPECT_DOUBLE_EQ(r.schema(0).min(), -1);
  EXPECT_DOUBLE_EQ(r.schema(0).max(), 2.5);
  EXPECT_DOUBLE_EQ(r.schema(0).mean(), 1.0);
  EXPECT_EQ(r.schema(1).type(), "integer");
  EXPECT_EQ(r.schema(1).missing(), 1u);
  EXPECT_EQ(r.schema(2).type(), "category");
  EXPECT_EQ(r.schema(2).distinct(), 2u);
  EXPECT_FALSE(r.schema(2).has_min());
  EXPECT_EQ(r.label_column(), "label");
  ASSERT_EQ(r.classes_size(), 2);
  EXPECT_EQ(r.class_counts().at("a"), 2u);
  EXPECT_EQ(r.lineage().source(), "file:///srv/data/iris.csv");
  EXPECT_FALSE(r.privacy().personal_data());
}

TEST(DatasetRecord, HeaderlessColumnsAreNamedByPosition) {
  std::string csv = "1,a\n2,b\n";
  auto t = parse_csv(csv, "upload", {}, CsvHeader::absent);
  auto r = describe_dataset(t, csv, {.name = "upload", .source = "grpc:upload"});
  EXPECT_EQ(r.schema(0).name(), "column_1");
  EXPECT_EQ(r.lineage().source(), "grpc:upload");
}

TEST(DatasetRecord, PersonalDataByContentAndNameWithoutValues) {
  std::string csv =
      "customer_name,contact,phone,card,ssn,client_ip,city,notes\n"
      "Jane Doe,jane@example.com,+44 20 7946 0958,4111 1111 1111 "
      "1111,123-45-6789,10.1.2.3,Paris,x\n"
      "John Smith,john@example.org,+1 (415) 555-2671,5500 0000 0000 "
      "0004,219-09-9999,2001:db8::7,Lyon,y\n"
      "Ada Lovelace,not an address,,,078-05-1120,192.168.0.9,Nice,z\n";
  auto t = parse_csv(csv, "people.csv");
  auto r = describe_dataset(t, csv);
  const auto& p = r.privacy();
  EXPECT_TRUE(p.personal_data());
  auto* name = find(p, "customer_name", "person_name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->detected_by(), "column name");
  auto* email = find(p, "contact", "email");
  ASSERT_NE(email, nullptr);
  EXPECT_EQ(email->matches(), 2u);
  EXPECT_EQ(email->rows(), 3u);
  EXPECT_EQ(email->detected_by(), "content");
  auto* phone = find(p, "phone", "phone");
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(phone->detected_by(), "content and column name");
  EXPECT_EQ(phone->rows(), 2u);
  ASSERT_NE(find(p, "card", "card_number"), nullptr);
  ASSERT_NE(find(p, "ssn", "national_id"), nullptr);
  EXPECT_EQ(find(p, "ssn", "national_id")->matches(), 3u);
  ASSERT_NE(find(p, "client_ip", "ip_address"), nullptr);
  EXPECT_EQ(find(p, "client_ip", "ip_address")->matches(), 3u);
  EXPECT_EQ(find(p, "city", "person_name"), nullptr);
  EXPECT_EQ(find(p, "notes", "person_name"), nullptr);
  // Counts only: no cell value appears anywhere in the record.
  std::string bytes = r.SerializeAsString();
  for (const char* value :
       {"jane@example.com", "Jane Doe", "123-45-6789", "4111", "10.1.2.3", "+44"})
    EXPECT_EQ(bytes.find(value), std::string::npos) << value;
}

TEST(DatasetRecord, NumericFeaturesAreNotPersonalData) {
  std::string csv = "id,ts,f1,f2\n";
  for (int i = 0; i < 200; ++i)
    csv += std::to_string(1000000 + i) + "," + std::to_string(1700000000000LL + i * 997) + "," +
           std::to_string(i * 0.37) + ",2024-01-" + std::to_string(10 + i % 20) + "\n";
  auto t = parse_csv(csv, "f.csv");
  auto r = describe_dataset(t, csv);
  EXPECT_FALSE(r.privacy().personal_data()) << r.privacy().DebugString();
}

TEST(DatasetRecord, LineageOfADerivedDataset) {
  std::string csv = "a,b\n1,2\n3,4\n";
  auto t = parse_csv(csv, "gen");
  DatasetRecordOptions o;
  o.generator = "synthetic_classification";
  o.parameters = {{"seed", "7"}, {"n_samples", "2"}};
  auto parent = describe_dataset(t, csv, o);
  EXPECT_EQ(parent.lineage().source(), "generator:synthetic_classification");
  EXPECT_EQ(parent.lineage().parameters().at("seed"), "7");

  std::string part = "a,b\n1,2\n";
  auto child = describe_dataset(parse_csv(part, "train"), part, {.name = "train"});
  derive_lineage(child, parent, "train_test_split(test_size=0.5, seed=0): train");
  EXPECT_EQ(child.lineage().source(), "generator:synthetic_classification");
  ASSERT_EQ(child.lineage().parent_digests_size(), 1);
  EXPECT_EQ(child.lineage().parent_digests(0), parent.sha256());
  ASSERT_EQ(child.lineage().transformations_size(), 1);
  EXPECT_EQ(child.lineage().parameters().at("n_samples"), "2");
}

TEST(DatasetRecord, FileUriIsAbsoluteAndEscaped) {
  EXPECT_EQ(file_uri("/data/my file#1.csv"), "file:///data/my%20file%231.csv");
  EXPECT_EQ(file_uri("rel.csv").rfind("file:///", 0), 0u);
}

TEST(DatasetRecord, MlflowDatasetInput) {
  std::string csv = "email,x\na@b.io,1\nc@d.io,2\n";
  auto r = describe_dataset(parse_csv(csv, "d.csv"), csv, {.path = "/data/d.csv"});
  auto in = mlflow_dataset_input(r, "training");
  EXPECT_EQ(in.name, "d.csv");
  EXPECT_EQ(in.digest, r.sha256().substr(0, 32));
  EXPECT_EQ(in.source_type, "local");
  EXPECT_EQ(in.source, "file:///data/d.csv");
  EXPECT_EQ(
      in.schema,
      R"({"mlflow_colspec":[{"type":"string","name":"email","required":true},{"type":"long","name":"x","required":true}]})");
  EXPECT_NE(in.profile.find("\"personal_data\":true"), std::string::npos);
  EXPECT_EQ(in.profile.find("a@b.io"), std::string::npos);
  ASSERT_EQ(in.tags.size(), 1u);
}

// A table large enough for its columns to be shared between two threads: the schema and the
// personal-data findings come in column order and equal what the one-thread report finds.
TEST(DatasetRecord, LargeTableRecordIsInColumnOrder) {
  std::string csv = "customer_name,contact,x,phone,n,client_ip,city,notes\n";
  for (int i = 0; i < 20000; ++i)
    csv += "Jane Doe,jane" + std::to_string(i) + "@example.com," + std::to_string(i * 0.25) +
           ",+44 20 7946 0958," + std::to_string(i % 7) + ",10.1.2." + std::to_string(i % 250) +
           ",Paris,note " + std::to_string(i % 3) + "\n";
  auto t = parse_csv(csv, "people.csv");
  ASSERT_GE(t.fields * t.rows.size(), 100000u);
  auto r = describe_dataset(t, csv);
  ASSERT_EQ(r.schema_size(), 8);
  for (int c = 0; c < 8; ++c) EXPECT_EQ(r.schema(c).name(), t.header[c]);
  EXPECT_EQ(r.schema(2).type(), "number");
  EXPECT_DOUBLE_EQ(r.schema(2).max(), 19999 * 0.25);
  EXPECT_EQ(r.schema(4).type(), "integer");
  EXPECT_EQ(r.schema(4).distinct(), 7u);
  const auto alone = privacy_report(t);
  ASSERT_EQ(r.privacy().columns_size(), alone.columns_size());
  for (int k = 0; k < alone.columns_size(); ++k)
    EXPECT_EQ(r.privacy().columns(k).SerializeAsString(), alone.columns(k).SerializeAsString());
  EXPECT_NE(find(r.privacy(), "contact", "email"), nullptr);
  EXPECT_NE(find(r.privacy(), "client_ip", "ip_address"), nullptr);
}

// Columns already read by CsvTable::numeric are not parsed again; the record must not tell the
// difference, whatever the cells hold: a '+', blanks, zeros, the least normal number, exponents,
// hexadecimal (strtod's), card-like integers, and a column left out of the matrix.
TEST(DatasetRecord, NumbersReadBeforeGiveTheSameRecord) {
  const std::vector<std::string> cells = {"1.5",
                                          "+2",
                                          " 3 ",
                                          "0",
                                          "-0.0",
                                          "2.2250738585072014e-308",
                                          "2.5E3",
                                          ".5",
                                          "5.",
                                          "0x1p3",
                                          "4111111111111111",
                                          "-7e-5",
                                          "1e300",
                                          "12"};
  std::string csv = "a,b,card,left_out\n";
  for (size_t i = 0; i < 3000; ++i)
    csv += cells[i % cells.size()] + "," + std::to_string(i % 11) + "," +
           (i % 2 ? "4111111111111111" : "5500000000000004") + "," + cells[(i * 7) % cells.size()] +
           "\n";
  auto t = parse_csv(csv, "edge.csv");
  const std::vector<size_t> read = {0, 1, 2};
  auto x = t.numeric(read);
  DatasetRecordOptions plain;
  DatasetRecordOptions with = plain;
  with.numbers = &x;
  with.number_columns = read;
  auto a = describe_dataset(t, csv, plain);
  auto b = describe_dataset(t, csv, with);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(b.schema(0).type(), "category");  // hexadecimal is no number to the record
  EXPECT_EQ(b.schema(1).type(), "integer");
  EXPECT_NE(find(b.privacy(), "card", "card_number"), nullptr);
  EXPECT_EQ(privacy_report(t).SerializeAsString(), b.privacy().SerializeAsString());
  // A matrix of another shape is not taken for the table's columns.
  DatasetRecordOptions wrong = plain;
  auto half = t.numeric({0});
  wrong.numbers = &half;
  wrong.number_columns = read;
  EXPECT_EQ(describe_dataset(t, csv, wrong).SerializeAsString(), a.SerializeAsString());
}
