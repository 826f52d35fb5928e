// The .npy header parser and the numpy format scan.
#include "test_support.hpp"

namespace {

using namespace pickle_test;
using std::string;

string npy(const string& header_dict, const string& data, int major = 1) {
  string h = header_dict;
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>((h.size() >> 8) & 0xff);
  if (major != 1) out += string(2, '\0');
  return out + h + data;
}

TEST(Npy, ParsesSimpleHeader) {
  string f = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", string(96, '\0'));
  NpyHeader h;
  auto err = parse_npy_header(reinterpret_cast<const uint8_t*>(f.data()), f.size(), h);
  ASSERT_FALSE(err) << *err;
  EXPECT_EQ(h.itemsize, 8u);
  EXPECT_EQ(h.shape, (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(h.data_offset % 64, 0u);
  EXPECT_TRUE(scan_bytes(f).findings.empty());
}

TEST(Npy, StructuredAndUnicodeSizes) {
  string f =
      npy("{'descr': [('a', '<i4'), ('b', '<f8', (2,)), ('s', '|S3')], 'fortran_order': True, "
          "'shape': (5,), }",
          string(5 * (4 + 16 + 3), '\0'), 2);
  NpyHeader h;
  ASSERT_FALSE(parse_npy_header(reinterpret_cast<const uint8_t*>(f.data()), f.size(), h));
  EXPECT_EQ(h.itemsize, 23u);
  EXPECT_TRUE(h.fortran_order);
  EXPECT_TRUE(scan_bytes(f).findings.empty()) << scan_bytes(f).dump();
  string u = npy("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", string(24, '\0'));
  EXPECT_TRUE(scan_bytes(u).findings.empty());
}

TEST(Npy, SizeMismatchAndTrailingData) {
  auto truncated = scan_bytes(
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", string(39, '\0')));
  EXPECT_TRUE(truncated.has("NUMPY-TRUNCATED")) << truncated.dump();
  string evil = "\x80\x02" + glob("os", "system") + "(" + bu("x") + "tR.";
  auto trailing =
      scan_bytes(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", "abcd" + evil));
  EXPECT_TRUE(trailing.has("NUMPY-TRAILING-DATA")) << trailing.dump();
  EXPECT_TRUE(trailing.has("PICKLE-CODE-EXEC", "os.system")) << trailing.dump();
}

TEST(Npy, ObjectArraysScanTheEmbeddedPickle) {
  string evil = "\x80\x02" + glob("os", "system") + "(" + bu("x") + "tR.";
  auto r = scan_bytes(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", evil));
  EXPECT_TRUE(r.has("NUMPY-OBJECT-ARRAY")) << r.dump();
  const Finding* f = r.find("PICKLE-CODE-EXEC", "os.system");
  ASSERT_NE(f, nullptr) << r.dump();
  EXPECT_NE(f->detail.find("npy object array"), string::npos);
}

TEST(Npy, HostileHeadersAreRejected) {
  for (string hdr :
       std::vector<string>{"{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,), }",
                           "{'descr': '<f8', 'fortran_order': False}",
                           "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
                           "{'descr': '<q9', 'fortran_order': False, 'shape': (1,), }", "[1, 2, 3]",
                           "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }", string(40, '('),
                           "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, "
                           "99999999999, 99999999999), }",
                           "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}"}) {
    auto r = scan_bytes(npy(hdr, string(8, '\0')));
    EXPECT_TRUE(r.has("NUMPY-HEADER-INVALID")) << hdr << "\n" << r.dump();
    EXPECT_FALSE(r.complete);
  }
  // Header length beyond the file.
  string f = "\x93NUMPY\x01";
  f += '\0';
  f += "\xff\x7f{";
  EXPECT_TRUE(scan_bytes(f).has("NUMPY-HEADER-INVALID"));
}

}  // namespace
