#include "secmlops/host/dataset_record.hpp"

#include "secmlops/host/beside.hpp"
#include "secmlops/host/digest.hpp"
#include "secmlops/v1/dataset.pb.h"

#include <arpa/inet.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <thread>

namespace secmlops::host {
namespace {

// std::isspace of the "C" locale (the host never sets another), without a call per character.
constexpr bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Counts distinct cells (views into the table) up to a cap: open addressing in one array, no
// allocation per value.
class DistinctCells {
 public:
  explicit DistinctCells(size_t expected) {
    size_t capacity = 16;
    while (capacity < 2 * expected) capacity *= 2;
    slots_.resize(capacity);
    used_.assign(capacity, 0);
  }
  void insert(std::string_view cell) {
    size_t mask = slots_.size() - 1;
    for (size_t i = std::hash<std::string_view>{}(cell)&mask;; i = (i + 1) & mask) {
      if (!used_[i]) {
        used_[i] = 1;
        slots_[i] = cell;
        ++size_;
        return;
      }
      if (slots_[i] == cell) return;
    }
  }
  [[nodiscard]] size_t size() const { return size_; }

 private:
  std::vector<std::string_view> slots_;
  std::vector<uint8_t> used_;
  size_t size_ = 0;
};

bool parse_number(std::string_view s, double& v) {
  s = trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(v);
}

std::string column_name(const CsvTable& t, size_t c) {
  return t.has_header && c < t.header.size() ? t.header[c] : "column_" + std::to_string(c + 1);
}

// Lower-case words of a column name: "customerEmail" / "customer_e-mail" → customer, email.
std::vector<std::string> name_tokens(std::string_view name) {
  std::vector<std::string> out;
  std::string cur;
  char prev = 0;
  for (char ch : name) {
    bool alnum = std::isalnum(static_cast<unsigned char>(ch));
    bool camel = std::isupper(static_cast<unsigned char>(ch)) &&
                 std::islower(static_cast<unsigned char>(prev));
    if ((!alnum || camel) && !cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
    if (alnum) cur += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    prev = ch;
  }
  if (!cur.empty()) out.push_back(cur);
  // Joined neighbours catch "e-mail", "first name", "ip address".
  size_t n = out.size();
  for (size_t i = 0; i + 1 < n; ++i) out.push_back(out[i] + out[i + 1]);
  return out;
}

bool any_token(const std::vector<std::string>& tokens, std::initializer_list<const char*> words) {
  for (const auto& t : tokens)
    for (const char* w : words)
      if (t == w) return true;
  return false;
}

// What the column name says the column holds, or "".
std::vector<std::string> kinds_by_name(std::string_view name) {
  auto t = name_tokens(name);
  std::vector<std::string> kinds;
  if (any_token(t, {"email", "mail", "emailaddress"})) kinds.emplace_back("email");
  if (any_token(
          t, {"phone", "telephone", "tel", "mobile", "cellphone", "fax", "phonenumber", "msisdn"}))
    kinds.emplace_back("phone");
  if (any_token(t, {"ssn", "socialsecurity", "nationalid", "nino", "passport", "taxid", "tin",
                    "insee", "idcard", "personnummer", "dni", "nif", "aadhaar"}))
    kinds.emplace_back("national_id");
  if (any_token(t, {"creditcard", "cardnumber", "ccnumber", "pan", "iban"}))
    kinds.emplace_back("card_number");
  if (any_token(t, {"ip", "ipaddress", "ipv4", "ipv6", "remoteaddr", "clientip"}))
    kinds.emplace_back("ip_address");
  bool person =
      any_token(t, {"firstname", "lastname", "surname", "fullname", "forename", "givenname",
                    "familyname", "maidenname", "patientname", "customername"});
  if (!person && any_token(t, {"name"}) &&
      !any_token(t, {"file",   "model",    "class",    "feature",  "host",  "product", "company",
                     "column", "dataset",  "species",  "domain",   "table", "field",   "path",
                     "user",   "username", "project",  "label",    "city",  "country", "street",
                     "brand",  "item",     "category", "variable", "type"}))
    person = true;
  if (person) kinds.emplace_back("person_name");
  return kinds;
}

// A cell that reads as a person's name: 1–4 capitalised alphabetic words.
bool looks_like_name(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 80) return false;
  int words = 0;
  bool start = true;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == ' ') {
      start = true;
      continue;
    }
    if (start) {
      if (!(std::isupper(c) || c >= 0x80)) return false;
      ++words;
      start = false;
    } else if (!(std::isalpha(c) || ch == '-' || ch == '\'' || ch == '.' || c >= 0x80)) {
      return false;
    }
  }
  return words >= 1 && words <= 4;
}

size_t digit_count(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

// The characters of a decimal number: digits, '.', 'e', 'E', '+' and '-'.
constexpr auto kDecimalCharacter = [] {
  std::array<bool, 256> t{};
  for (char c : std::string_view("0123456789.eE+-")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// Nothing but the characters of a decimal number, and no '+' first.
bool only_decimal_characters(std::string_view s) {
  if (s.empty() || s.front() == '+') return false;
  for (char c : s)
    if (!kDecimalCharacter[static_cast<unsigned char>(c)]) return false;
  return true;
}

// Only the characters of a decimal number, no '+' first, once spaces and tabs around are removed.
bool decimal_characters(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return only_decimal_characters(s);
}

bool plain_decimal(std::string_view s) {
  if (!decimal_characters(s)) return false;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(v);
}

}  // namespace

namespace personal_data {

bool is_email(std::string_view s) {
  s = trim(s);
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos ||
      s.size() > 254)
    return false;
  auto local = s.substr(0, at), domain = s.substr(at + 1);
  for (char c : local)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("._%+-'").find(c) != std::string_view::npos))
      return false;
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) return false;
  for (char c : domain)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return false;
  for (size_t i = dot + 1; i < domain.size(); ++i)
    if (!std::isalpha(static_cast<unsigned char>(domain[i]))) return false;
  return domain.find("..") == std::string_view::npos;
}

// International or formatted numbers: "+33 1 23 45 67 89", "(555) 123-4567". A bare run of digits
// is not taken for a phone number by content: it is as likely an identifier or a measurement.
bool is_phone(std::string_view s) {
  s = trim(s);
  if (s.empty()) return false;
  bool separator = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && i == 0) continue;
    if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') {
      separator = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
  }
  size_t d = digit_count(s);
  if (d < 7 || d > 15 || !(s.front() == '+' || separator) || is_ip_address(s)) return false;
  // Numbers ("-1234567.5") and dates ("2024-01-15", "15.01.2024") have separators too.
  double v = 0;
  if (s.front() != '+' && parse_number(s, v)) return false;
  std::vector<size_t> groups;
  size_t run = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      ++run;
    } else if (run) {
      groups.push_back(run);
      run = 0;
    }
  }
  if (run) groups.push_back(run);
  bool date = groups.size() == 3 && ((groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2) ||
                                     (groups[0] <= 2 && groups[1] <= 2 && groups[2] == 4));
  return !date;
}

// US social security numbers (AAA-GG-SSSS, area not 000/666/9xx) and UK national insurance
// numbers (two letters, six digits, A–D).
bool is_national_id(std::string_view s) {
  s = trim(s);
  if (s.size() == 11 && s[3] == '-' && s[6] == '-') {
    for (size_t i : {0, 1, 2, 4, 5, 7, 8, 9, 10})
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    auto area = s.substr(0, 3);
    return area != "000" && area != "666" && s[0] != '9' && s.substr(4, 2) != "00" &&
           s.substr(7) != "0000";
  }
  std::string compact;
  for (char c : s)
    if (c != ' ') compact += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (compact.size() == 9 && std::isalpha(static_cast<unsigned char>(compact[0])) &&
      std::isalpha(static_cast<unsigned char>(compact[1])) && compact[8] >= 'A' &&
      compact[8] <= 'D') {
    for (size_t i = 2; i < 8; ++i)
      if (!std::isdigit(static_cast<unsigned char>(compact[i]))) return false;
    return true;
  }
  return false;
}

bool luhn_valid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return !digits.empty() && sum % 10 == 0;
}

bool is_card_number(std::string_view s) {
  s = trim(s);
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9')
      digits += c;
    else if (c != ' ' && c != '-')
      return false;
  }
  return digits.size() >= 13 && digits.size() <= 19 &&
         digits.find_first_not_of('0') != std::string::npos && luhn_valid(digits);
}

bool is_ip_address(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 45) return false;
  std::string text(s);
  unsigned char buf[16];
  if (text.find(':') != std::string::npos) return inet_pton(AF_INET6, text.c_str(), buf) == 1;
  return inet_pton(AF_INET, text.c_str(), buf) == 1;  // dotted quad only, no leading zeros
}

}  // namespace personal_data

namespace {

// What a cell is to the personal-data checks. A plain decimal number (the bulk of a feature
// matrix) fails every check but the card number's, and that one too unless it is an integer: the
// checks need '@', letters, a leading '+', separators where a number has none, or are false for
// what parses as a number.
enum PlainCell : uint8_t { kNotPlain, kPlainNumber, kPlainCard };

// The kind of a cell known to be a plain decimal number. A card number has 13 digits or more.
PlainCell plain_kind(std::string_view cell) {
  const bool integer = cell.size() >= 13 && cell.find('.') == std::string_view::npos &&
                       cell.find_first_of("eE+") == std::string_view::npos;
  return integer && personal_data::is_card_number(cell) ? kPlainCard : kPlainNumber;
}

// The personal-data findings of column `c`. `plain` (when given) holds each row's PlainCell, as
// describe_column found while reading it; otherwise each cell is looked at here.
std::vector<v1::PersonalDataColumn> privacy_of_column(const CsvTable& table, size_t c,
                                                      const std::vector<uint8_t>* plain) {
  using Check = bool (*)(std::string_view);
  static const std::vector<std::pair<std::string, Check>> checks = {
      {"email", personal_data::is_email},
      {"phone", personal_data::is_phone},
      {"national_id", personal_data::is_national_id},
      {"card_number", personal_data::is_card_number},
      {"ip_address", personal_data::is_ip_address},
      {"person_name", looks_like_name},
  };  // card_number is checks[3]
  static const size_t card = 3;
  std::vector<v1::PersonalDataColumn> out;
  std::vector<uint64_t> matches(checks.size(), 0);
  uint64_t examined = 0;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const uint8_t known = plain ? (*plain)[r] : uint8_t{kNotPlain};  // a plain cell is never blank
    if (known != kNotPlain) {
      ++examined;
      if (known == kPlainCard) ++matches[card];
      continue;
    }
    std::string_view cell = table.rows.cell(r, c);
    if (trim(cell).empty()) continue;
    ++examined;
    if (!plain && plain_decimal(cell)) {
      if (plain_kind(cell) == kPlainCard) ++matches[card];
      continue;
    }
    for (size_t k = 0; k < checks.size(); ++k)
      if (checks[k].second(cell)) ++matches[k];
  }
  auto by_name = kinds_by_name(column_name(table, c));
  for (size_t k = 0; k < checks.size(); ++k) {
    const auto& kind = checks[k].first;
    bool named = std::find(by_name.begin(), by_name.end(), kind) != by_name.end();
    // Capitalised words are everywhere (cities, products): names of people only by column name.
    bool content = kind != "person_name" && examined > 0 && matches[k] * 2 >= examined;
    if (!named && !content) continue;
    auto& col = out.emplace_back();
    col.set_column(column_name(table, c));
    col.set_kind(kind);
    col.set_matches(matches[k]);
    col.set_rows(examined);
    col.set_detected_by(named && content ? "content and column name"
                        : named          ? "column name"
                                         : "content");
  }
  return out;
}

void add_privacy(v1::PrivacyReport& report, std::vector<v1::PersonalDataColumn>&& columns) {
  for (auto& col : columns) *report.add_columns() = std::move(col);
  report.set_personal_data(report.columns_size() > 0);
}

v1::PrivacyReport privacy_of(const CsvTable& table) {
  v1::PrivacyReport report;
  for (size_t c = 0; c < table.fields; ++c)
    add_privacy(report, privacy_of_column(table, c, nullptr));
  return report;
}

// What describe_dataset learns of one column: its schema and its personal-data findings.
struct ColumnFacts {
  v1::ColumnSchema schema;
  std::vector<v1::PersonalDataColumn> privacy;
};

// `read` (when given) is the column as CsvTable::numeric read it, `stride` values apart.
ColumnFacts describe_column(const CsvTable& table, size_t c, const DatasetRecordOptions& o,
                            const double* read, size_t stride) {
  ColumnFacts f;
  auto& s = f.schema;
  s.set_name(column_name(table, c));
  std::vector<uint8_t> plain(table.rows.size(), kNotPlain);
  uint64_t missing = 0, numbers = 0, integers = 0, present = 0;
  double min = INFINITY, max = -INFINITY, sum = 0;
  DistinctCells distinct(std::min(table.rows.size(), o.max_distinct));
  bool capped = false;
  for (size_t row = 0; row < table.rows.size(); ++row) {
    std::string_view cell = table.rows.cell(row, c);
    // A cell of decimal characters only whose number is normal was read by from_chars alone
    // (CsvTable::numeric falls back to strtod for nothing else), as parse_number reads it.
    double v = read ? read[row * stride] : 0;
    const bool known =
        read && std::abs(v) >= std::numeric_limits<double>::min() && only_decimal_characters(cell);
    if (!known && trim(cell).empty()) {
      ++missing;
      continue;
    }
    ++present;
    if (!capped) {
      distinct.insert(cell);
      capped = distinct.size() >= o.max_distinct;
    }
    if (known || parse_number(cell, v)) {
      if (known || decimal_characters(cell))  // from_chars read all of it: plain
        plain[row] = plain_kind(cell);
      ++numbers;
      if (v == std::floor(v) && std::abs(v) < 9.007199254740992e15) ++integers;
      min = std::min(min, v);
      max = std::max(max, v);
      sum += v;
    }
  }
  s.set_missing(missing);
  s.set_distinct(distinct.size());
  if (present > 0 && numbers == present) {
    s.set_type(integers == present ? "integer" : "number");
    s.set_min(min);
    s.set_max(max);
    s.set_mean(sum / static_cast<double>(present));
  } else {
    s.set_type(present > 0 && distinct.size() <= o.category_max && !capped ? "category" : "text");
  }
  f.privacy = privacy_of_column(table, c, &plain);
  return f;
}

// Every column's facts, in column order; a large table's columns are shared with a second
// thread (each column is read by one thread only, so the record is the same either way).
std::vector<ColumnFacts> describe_columns(const CsvTable& table, const DatasetRecordOptions& o) {
  std::vector<ColumnFacts> facts(table.fields);
  constexpr size_t kCellsForTwoThreads = 100000;
  const bool two = o.second_thread && table.fields > 1 &&
                   table.fields * table.rows.size() >= kCellsForTwoThreads &&
                   std::thread::hardware_concurrency() > 1;
  std::atomic<size_t> next{0};
  std::vector<const double*> numbers(table.fields, nullptr);
  if (o.numbers != nullptr && o.numbers->rows == table.rows.size() &&
      o.numbers->cols == o.number_columns.size())
    for (size_t j = 0; j < o.number_columns.size(); ++j)
      if (o.number_columns[j] < table.fields)
        numbers[o.number_columns[j]] = o.numbers->data.data() + j;
  const size_t stride = o.numbers != nullptr ? o.numbers->cols : 0;
  auto work = [&] {
    for (size_t c = next++; c < table.fields; c = next++)
      facts[c] = describe_column(table, c, o, numbers[c], stride);
  };
  if (two)
    run_beside(work, work);
  else
    work();
  return facts;
}

}  // namespace

v1::PrivacyReport privacy_report(const CsvTable& table) { return privacy_of(table); }

v1::DatasetRecord describe_dataset(const CsvTable& table, std::string_view raw_bytes,
                                   const DatasetRecordOptions& o) {
  v1::DatasetRecord r;
  r.set_name(!o.name.empty() ? o.name : std::filesystem::path(table.source).filename().string());
  r.set_sha256(!o.sha256.empty() ? o.sha256 : host::sha256_hex(raw_bytes));
  r.set_rows(table.rows.size());
  r.set_columns(table.fields);
  if (!o.path.empty()) r.set_path(o.path);

  auto facts = describe_columns(table, o);
  for (auto& f : facts) *r.add_schema() = std::move(f.schema);

  if (!o.label_column.empty() && table.has_header) {
    auto it = std::find(table.header.begin(), table.header.end(), o.label_column);
    if (it != table.header.end()) {
      r.set_label_column(o.label_column);
      auto labels = table.text(static_cast<size_t>(it - table.header.begin()));
      auto encoder = LabelEncoder::fit(labels);
      std::vector<uint64_t> rows_of(encoder.classes().size(), 0);
      for (int32_t c : encoder.encode(labels)) ++rows_of[static_cast<size_t>(c)];
      auto& counts = *r.mutable_class_counts();
      for (size_t c = 0; c < rows_of.size(); ++c) {
        r.add_classes(encoder.classes()[c]);
        counts[encoder.classes()[c]] = rows_of[c];
      }
    }
  }

  auto* lineage = r.mutable_lineage();
  if (!o.source.empty())
    lineage->set_source(o.source);
  else if (!o.generator.empty())
    lineage->set_source("generator:" + o.generator);
  else if (!o.path.empty())
    lineage->set_source(file_uri(o.path));
  lineage->set_generator(o.generator);
  for (const auto& [k, v] : o.parameters) (*lineage->mutable_parameters())[k] = v;
  for (const auto& d : o.parent_digests) lineage->add_parent_digests(d);
  for (const auto& t : o.transformations) lineage->add_transformations(t);

  auto* privacy = r.mutable_privacy();
  for (auto& f : facts) add_privacy(*privacy, std::move(f.privacy));
  return r;
}

void derive_lineage(v1::DatasetRecord& child, const v1::DatasetRecord& parent,
                    const std::string& transformation) {
  auto* l = child.mutable_lineage();
  if (l->source().empty()) l->set_source(parent.lineage().source());
  if (l->generator().empty()) {
    l->set_generator(parent.lineage().generator());
    for (const auto& [k, v] : parent.lineage().parameters()) (*l->mutable_parameters())[k] = v;
  }
  std::vector<std::string> parents(parent.lineage().parent_digests().begin(),
                                   parent.lineage().parent_digests().end());
  parents.push_back(parent.sha256());
  for (const auto& d : l->parent_digests())
    if (std::find(parents.begin(), parents.end(), d) == parents.end()) parents.push_back(d);
  l->clear_parent_digests();
  for (const auto& d : parents) l->add_parent_digests(d);
  std::vector<std::string> steps(parent.lineage().transformations().begin(),
                                 parent.lineage().transformations().end());
  steps.push_back(transformation);
  l->clear_transformations();
  for (const auto& s : steps) l->add_transformations(s);
}

MlflowDatasetInput mlflow_dataset_input(const v1::DatasetRecord& r, const std::string& context) {
  using json = nlohmann::ordered_json;
  MlflowDatasetInput in;
  in.name = r.name();
  in.digest = r.sha256().substr(0, 32);
  in.source = r.lineage().source();
  in.source_type = in.source.rfind("file://", 0) == 0 ? "local" : "code";
  json cols = json::array();
  for (const auto& c : r.schema()) {
    const char* type = c.type() == "integer" ? "long" : c.type() == "number" ? "double" : "string";
    cols.push_back({{"type", type}, {"name", c.name()}, {"required", c.missing() == 0}});
  }
  in.schema = json{{"mlflow_colspec", cols}}.dump(-1, ' ', false, json::error_handler_t::replace);
  json pii = json::array();
  for (const auto& p : r.privacy().columns())
    pii.push_back(
        {{"column", p.column()}, {"kind", p.kind()}, {"matches", p.matches()}, {"rows", p.rows()}});
  in.profile = json{
      {"num_rows", r.rows()},
      {"num_elements", r.rows() * r.columns()},
      {"sha256", r.sha256()},
      {"personal_data", r.privacy().personal_data()},
      {"personal_data_columns",
       pii}}.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!context.empty()) in.tags.emplace_back("mlflow.data.context", context);
  return in;
}

std::string file_uri(const std::filesystem::path& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec).lexically_normal().generic_string();
  std::string out = "file://";
  static constexpr char hexd[] = "0123456789ABCDEF";
  for (unsigned char c : abs) {
    if (std::isalnum(c) ||
        std::string_view("/-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hexd[c >> 4];
      out += hexd[c & 15];
    }
  }
  return out;
}

}  // namespace secmlops::host
