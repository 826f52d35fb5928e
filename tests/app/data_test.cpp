// One loader, one label rule: what every door (CLI, gRPC, pipelines) reads as data.
#include "secmlops/app/data.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace secmlops;
using ::testing::HasSubstr;

namespace {

struct Fixture {
  host::Registry registry;
  app::LocalFiles files;
  app::Environment env{registry, files};
};

v1::CsvData text_csv(const std::string& text, const std::string& label, bool header = true) {
  v1::CsvData c;
  c.set_text(text);
  c.set_label_column(label);
  c.set_has_header(header);
  return c;
}

}  // namespace

TEST(AppData, LabelsAreNamesSortedNumericallyOrByText) {
  Fixture f;
  auto t = app::load_csv(f.env, text_csv("a,b,y\n1,2,10\n3,4,2\n5,6,10\n", "y"),
                         app::LabelRule::none_unless_named);
  EXPECT_EQ(t.features, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.record.classes_size(), 2);
  EXPECT_EQ(t.record.classes(0), "2");  // numerically: 2 < 10
  EXPECT_EQ(t.record.classes(1), "10");
  EXPECT_EQ(t.record.class_counts().at("10"), 2u);
  EXPECT_EQ(t.record.rows(), 3u);
  EXPECT_EQ(t.record.sha256().size(), 64u);
  EXPECT_EQ(app::encode_labels(t, {"2", "10"}), (std::vector<int32_t>{1, 0, 1}));
}

TEST(AppData, TrainingTakesTheLastColumnByDefaultAndIndexesWork) {
  Fixture f;
  auto t = app::load_csv(f.env, text_csv("0.5,1.5,cat\n2.5,3.5,dog\n", "", false),
                         app::LabelRule::last_by_default);
  EXPECT_EQ(app::label_names(t), (std::vector<std::string_view>{"cat", "dog"}));
  auto by_index = app::load_csv(f.env, text_csv("cat,0.5\ndog,2.5\n", "0", false),
                                app::LabelRule::last_by_default);
  EXPECT_EQ(app::label_names(by_index), (std::vector<std::string_view>{"cat", "dog"}));
  EXPECT_EQ(by_index.x.data, (std::vector<double>{0.5, 2.5}));
  // Prediction data has no label unless one is named.
  auto plain = app::load_csv(f.env, text_csv("a,b\n1,2\n", ""), app::LabelRule::none_unless_named);
  EXPECT_FALSE(app::has_labels(plain));
  EXPECT_TRUE(app::label_names(plain).empty());
  EXPECT_EQ(plain.x.cols, 2u);
}

TEST(AppData, ErrorsNameLineAndColumn) {
  Fixture f;
  try {
    app::load_csv(f.env, text_csv("a,y\n1,0\nzz,1\n", "y"), app::LabelRule::none_unless_named);
    FAIL();
  } catch (const host::DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr(":3: column 'a': 'zz' is not a number"));
  }
  try {
    app::load_csv(f.env, text_csv("a,y\n1,0\n", "nope"), app::LabelRule::none_unless_named);
    FAIL();
  } catch (const host::DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("label column 'nope' is neither a column name (a, y)"));
  }
  EXPECT_THROW(app::load_csv(f.env, text_csv("a,y\n", "y"), app::LabelRule::none_unless_named),
               host::DataError);
  EXPECT_THROW(app::encode_labels(app::load_csv(f.env, text_csv("a,y\n1,x\n", "y"),
                                                app::LabelRule::none_unless_named),
                                  {"p", "q"}),
               host::DataError);
}

TEST(AppData, FeaturesFollowTheModelsColumnNames) {
  Fixture f;
  auto t = app::load_csv(f.env, text_csv("c,y,a,b\n9,0,1,2\n", "y"),
                         app::LabelRule::none_unless_named, {"a", "b", "c"});
  EXPECT_EQ(t.x.data, (std::vector<double>{1, 2, 9}));
  EXPECT_THROW(app::load_csv(f.env, text_csv("a,y\n1,0\n", ""), app::LabelRule::none_unless_named,
                             {"a", "b"}),
               host::DataError);
}

TEST(AppData, MatricesAreValidatedAndNonFiniteValuesRefused) {
  Fixture f;
  v1::Matrix m;
  m.set_rows(2);
  m.set_cols(2);
  for (double v : {1.0, 2.0, 3.0, std::nan("")}) m.add_values(v);
  try {
    app::load_matrix(f.env, m, {}, "features");
    FAIL();
  } catch (const app::AppError& e) {
    EXPECT_EQ(e.code(), app::AppError::Code::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("holds NaN at row 1, column 1"));
  }
  m.set_values(3, std::numeric_limits<double>::infinity());
  EXPECT_THROW(app::load_matrix(f.env, m, {}, "features"), app::AppError);
  m.set_values(3, 4.0);
  EXPECT_THROW(app::load_matrix(f.env, m, {0}, "features"),
               app::AppError);  // one label for two rows
  EXPECT_THROW(app::load_matrix(f.env, m, {0, -1}, "features"), app::AppError);
  auto t = app::load_matrix(f.env, m, {1, 0}, "features");
  EXPECT_EQ(app::encode_labels(t, {"0", "1"}), (std::vector<int32_t>{1, 0}));
  EXPECT_TRUE(app::has_labels(t));
  EXPECT_EQ(app::label_names(t), (std::vector<std::string_view>{"1", "0"}));
  EXPECT_FALSE(app::has_labels(app::load_matrix(f.env, m, {}, "features")));
  EXPECT_THROW(app::encode_labels(t, {"0"}), app::AppError);  // class 1 does not exist
  f.env.max_matrix_values = 3;
  try {
    app::load_matrix(f.env, m, {}, "features");
    FAIL();
  } catch (const app::AppError& e) {
    EXPECT_EQ(e.code(), app::AppError::Code::resource_exhausted);
  }
  m.set_rows(3);
  f.env.max_matrix_values = 0;
  EXPECT_THROW(app::load_matrix(f.env, m, {}, "features"), app::AppError);  // shape disagrees
}

TEST(AppData, CsvFileDigestIsTheFilesSha256AndSourceAnAbsoluteUri) {
  Fixture f;
  test::TempDir d;
  auto p = d.write("d.csv", "a,y\n1,0\n2,1\n");
  v1::CsvData c;
  c.set_path(p.string());
  c.set_label_column("y");
  auto t = app::load_csv(f.env, c, app::LabelRule::none_unless_named);
  // sha256sum of the file's bytes
  EXPECT_EQ(t.record.sha256(), "2e3781e3c32f67fc45f7b528a7c0d9a995a0f1956970d89c473fd199e7ce85f1");
  EXPECT_EQ(t.record.lineage().source(), "file://" + p.string());
  EXPECT_EQ(t.record.name(), "d.csv");
  EXPECT_EQ(app::format_number(0.05), "0.05");
  EXPECT_EQ(app::format_number(1e-7), "1e-07");
}
