// The C++ SDK layer's parameter parsing: values a user typed get clear errors.
#include <secmlops/sdk/plugin.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using secmlops::sdk::Config;
using secmlops::sdk::Error;

Config make(std::initializer_list<secmlops_kv> kv) {
  return Config(kv.begin(), static_cast<uint32_t>(kv.size()));
}

TEST(Config, TypedAccessorsAndDefaults) {
  auto c = make({{"eps", "0.5"}, {"iters", "40"}, {"targeted", "true"}, {"eps", "0.25"}});
  EXPECT_DOUBLE_EQ(c.get_double("eps", 1), 0.25);  // the last value wins
  EXPECT_EQ(c.get_int("iters", 0), 40);
  EXPECT_TRUE(c.get_bool("targeted", false));
  EXPECT_EQ(c.get_int("missing", 7), 7);
  EXPECT_EQ(c.get_string("missing", "x"), "x");
}

TEST(Config, MalformedValuesNameTheParameter) {
  auto c = make({{"eps", "0.5x"}, {"iters", "4.5"}, {"flag", "maybe"}});
  try {
    (void)c.get_double("eps", 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), SECMLOPS_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "parameter 'eps' must be a number, got '0.5x'");
  }
  EXPECT_THROW((void)c.get_int("iters", 0), Error);
  EXPECT_THROW((void)c.get_bool("flag", false), Error);
}

TEST(Config, NullKeysAndValuesAreTolerated) {
  secmlops_kv kv[] = {{nullptr, "x"}, {"k", nullptr}};
  Config c(kv, 2);
  EXPECT_EQ(c.entries().size(), 1u);
  EXPECT_EQ(c.get_string("k", "d"), "");
}

TEST(Matrix, ConvertsFloatInput) {
  float f[] = {1.5f, 2.5f};
  secmlops_matrix m{sizeof(secmlops_matrix), SECMLOPS_DTYPE_F32, 1, 2, f};
  secmlops::sdk::Matrix x(&m);
  EXPECT_DOUBLE_EQ(x.row(0)[1], 2.5);
  m.dtype = 99;
  EXPECT_THROW(secmlops::sdk::Matrix{&m}, Error);
}

}  // namespace
