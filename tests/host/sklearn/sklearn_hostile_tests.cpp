// Hostile streams against the data-only pickle machine: truncations, byte mutations, size lies,
// huge dimensions, memo and recursion games. Each is refused with a reason or imported; none
// crashes, hangs or allocates what the file claims instead of what it holds.
#include "sklearn/pickle_vm.hpp"
#include "sklearn/sklearn_import.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace secmlops::host::sklearn {
namespace {

std::vector<uint8_t> read(const std::string& name) {
  std::ifstream in(std::string(SKLEARN_FIXTURES) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Builds protocol-4 streams opcode by opcode.
struct Stream {
  std::vector<uint8_t> b{0x80, 4};
  Stream& op(std::initializer_list<uint8_t> bytes) {
    b.insert(b.end(), bytes);
    return *this;
  }
  Stream& str(const std::string& s) {
    b.push_back(0x8c);
    b.push_back(static_cast<uint8_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Stream& bytes(const std::string& s) {
    b.push_back('C');
    b.push_back(static_cast<uint8_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Stream& global(const std::string& module, const std::string& name) {
    return str(module).str(name).op({0x93});
  }
  Stream& integer(uint32_t v) {
    return op({'J', uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)});
  }
  // numpy.dtype('f8') built as NumPy pickles it.
  Stream& dtype_f8() {
    global("numpy", "dtype").str("f8").op({0x89, 0x88, 0x87, 'R', '('}).integer(3).str("<");
    return op({'N', 'N', 'N'}).integer(0xffffffff).integer(0xffffffff).integer(0).op({'t', 'b'});
  }
  // _reconstruct(ndarray, (0,), b'b') BUILD (1, shape, f8, False, data)
  Stream& array(std::initializer_list<uint32_t> shape, const std::string& data) {
    global("numpy.core.multiarray", "_reconstruct")
        .global("numpy", "ndarray")
        .integer(0)
        .op({0x85})
        .bytes("b")
        .op({0x87, 'R', '('});
    integer(1).op({'('});
    for (uint32_t d : shape) integer(d);
    op({'t'}).dtype_f8().op({0x89}).bytes(data).op({'t', 'b'});
    return *this;
  }
  std::vector<uint8_t> done() {
    b.push_back('.');
    return b;
  }
};

std::string refusal(const std::vector<uint8_t>& b) {
  try {
    Arena arena;
    (void)run_pickle(arena, b, 0);
    return "";
  } catch (const ImportError& e) {
    return e.what();
  }
}

TEST(SklearnHostile, EveryTruncationIsRefused) {
  for (const char* name : {"lr_binary.pkl", "rf_binary.pkl", "tree.joblib"}) {
    auto good = read(name);
    ASSERT_GT(good.size(), 100u) << name;
    const size_t step = std::max<size_t>(1, good.size() / 3000);
    for (size_t n = 0; n < good.size(); n += step) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
      EXPECT_THROW((void)import_pickle(cut), ImportError) << name << " cut at " << n;
    }
  }
}

TEST(SklearnHostile, MutatedBytesImportOrRefuseWithoutCrashing) {
  auto good = read("rf_binary.pkl");
  std::mt19937 rng(7);
  size_t refused = 0, imported = 0;
  for (int i = 0; i < 600; ++i) {
    auto b = good;
    for (int k = 0; k < 1 + i % 4; ++k) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    try {
      (void)import_pickle(b);
      ++imported;
    } catch (const ImportError&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(refused + imported, 600u);
}

TEST(SklearnHostile, ArrayDataShorterThanShapeTimesItemsizeIsALie) {
  auto msg = refusal(Stream().array({1000}, std::string(16, '\0')).done());
  EXPECT_NE(msg.find("16 bytes, shape × itemsize says 8000"), std::string::npos) << msg;
}

TEST(SklearnHostile, HugeDimensionsAreRefusedBeforeAnyAllocation) {
  auto msg = refusal(Stream().array({0x7fffffff, 0x7fffffff, 0x7fffffff}, "").done());
  EXPECT_NE(msg.find("more elements than the import allows"), std::string::npos) << msg;
}

TEST(SklearnHostile, MemoGamesAreRefused) {
  auto unset = refusal(Stream().op({'h', 7}).done());
  EXPECT_NE(unset.find("memo entry 7 was never stored"), std::string::npos) << unset;
  auto far = refusal(Stream().op({'N', 'r', 0xff, 0xff, 0xff, 0x7f}).done());
  EXPECT_NE(far.find("memo index"), std::string::npos) << far;
}

TEST(SklearnHostile, RecursiveStructuresAreBuiltButNeverFollowedForever) {
  // l = []; l.append(l): the machine builds it (a pickle may share values) …
  auto b = Stream().op({']', 0x94, 'h', 0, 'a'}).done();
  Arena arena;
  auto u = run_pickle(arena, b, 0);
  ASSERT_EQ(u.root->items.size(), 1u);
  EXPECT_EQ(u.root->items[0], u.root);
  // … and the estimator mapping refuses what is not an estimator.
  EXPECT_THROW((void)convert_estimator(*u.root), ImportError);
  // A Pipeline whose step is the Pipeline itself.
  auto p = Stream()
               .global("sklearn.pipeline", "Pipeline")
               .op({')', 0x81, 0x94, '}', '('})
               .str("_sklearn_version")
               .str("1.2.1")
               .str("steps")
               .op({']', '('})
               .str("self")
               .op({'h', 0, 0x86, 'e', 'u', 'b'})
               .done();
  Arena a2;
  auto up = run_pickle(a2, p, 0);
  try {
    (void)convert_estimator(*up.root);
    ADD_FAILURE() << "imported";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("nested Pipelines"), std::string::npos) << e.what();
  }
}

// A tree whose node records declare `left_child` as a 64-character string: the mapping reads
// only numeric fields of at most 8 bytes.
TEST(SklearnHostile, TreeRecordFieldsOfOtherTypesAreRefused) {
  Stream s;
  s.global("sklearn.tree._classes", "DecisionTreeClassifier").op({')', 0x81, '}', '('});
  s.str("_sklearn_version").str("1.2.1").str("n_features_in_").integer(1);
  s.str("classes_").array({2}, std::string(16, '\0'));
  s.str("tree_")
      .global("sklearn.tree._tree", "Tree")
      .op({'('})
      .integer(1)
      .array({1}, std::string(8, '\0'))
      .integer(1);
  s.op({'t', 'R', '}', '('}).str("node_count").integer(1).str("nodes");
  // _reconstruct(ndarray, (0,), b'b') of one 'V256' record whose only field is 'U64' at offset 0.
  s.global("numpy.core.multiarray", "_reconstruct")
      .global("numpy", "ndarray")
      .integer(0)
      .op({0x85})
      .bytes("b")
      .op({0x87, 'R', '('});
  s.integer(1).op({'('}).integer(1).op({'t'});
  s.global("numpy", "dtype")
      .str("V256")
      .op({0x89, 0x88, 0x87, 'R', '('})
      .integer(3)
      .str("|")
      .op({'N', '('})
      .str("left_child")
      .op({'t', '}'});
  s.str("left_child")
      .global("numpy", "dtype")
      .str("U64")
      .op({0x89, 0x88, 0x87, 'R'})
      .integer(0)
      .op({0x86, 's'});
  s.integer(256).integer(1).integer(16).op({'t', 'b'});
  s.op({0x89, 'B'});  // not Fortran; BINBYTES of the 256-byte record
  for (uint32_t v = 256, k = 0; k < 4; ++k, v >>= 8) s.b.push_back(static_cast<uint8_t>(v));
  s.b.insert(s.b.end(), 256, 'x');
  s.op({'t', 'b'}).str("values").array({1, 1, 2}, std::string(16, '\0')).op({'u', 'b', 'u', 'b'});
  const auto bytes = s.done();
  Arena arena;
  Unpickled u;
  ASSERT_NO_THROW(u = run_pickle(arena, bytes, 0)) << refusal(bytes);
  try {
    (void)convert_estimator(*u.root);
    ADD_FAILURE() << "imported";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("not a number"), std::string::npos) << e.what();
  }
}

// A real tree's node records edited in the stream: a child named by two nodes, and a node no
// split names, are refused (the mapping lays the tree out for the plugin and must not duplicate
// or drop a subtree).
TEST(SklearnHostile, TreesThatAreNotTreesAreRefused) {
  const auto good = read("tree.pkl");
  ASSERT_GT(good.size(), 100u);
  Arena arena;
  const Unpickled u = run_pickle(arena, good, 0);
  const Value* tree = u.root->object->state->get("tree_");
  ASSERT_NE(tree, nullptr);
  const Array& nodes = *tree->object->state->get("nodes")->array;
  ASSERT_GE(nodes.shape[0], 5u);
  auto offset_of = [&](const char* field) {
    for (const auto& f : nodes.dtype.fields)
      if (f.name == field) return f.offset;
    ADD_FAILURE() << field;
    return uint64_t{0};
  };
  const auto records =
      static_cast<size_t>(reinterpret_cast<const uint8_t*>(nodes.data.data()) - good.data());
  auto field = [&](std::vector<uint8_t>& b, uint64_t node, const char* name) {
    return b.data() + records + node * nodes.dtype.itemsize + offset_of(name);
  };
  auto refusal_of = [](const std::vector<uint8_t>& b) -> std::string {
    try {
      (void)import_pickle(b);
      return "imported";
    } catch (const ImportError& e) {
      return e.what();
    }
  };
  auto edited = good;
  int64_t left = 0;
  std::memcpy(&left, field(edited, 0, "left_child"), 8);
  std::memcpy(field(edited, 0, "right_child"), &left, 8);  // both children of the root are one node
  EXPECT_NE(refusal_of(edited).find("has a child that another node has too: not a tree"),
            std::string::npos)
      << refusal_of(edited);
  edited = good;
  int64_t right = 0;
  std::memcpy(&right, field(edited, 0, "right_child"), 8);
  const int64_t after = right + 1;  // the root's right child is no longer named by anyone
  std::memcpy(field(edited, 0, "right_child"), &after, 8);
  const std::string why = refusal_of(edited);
  EXPECT_TRUE(why.find("is not reached from the root") != std::string::npos ||
              why.find("has a child that another node has too") != std::string::npos ||
              why.find("children outside the tree") != std::string::npos)
      << why;
}

// The mapping copies a forest's trees on several threads: the bytes, and the fault it names, are
// those of one thread.
TEST(SklearnHostile, ForestsMapTheSameWhateverTheThreadCount) {
  for (const char* name : {"rf.pkl", "pipe_std_rf.pkl"}) {
    SCOPED_TRACE(name);
    const auto good = read(name);
    ASSERT_GT(good.size(), 100u);
    const auto one = import_pickle(good, 1).onnx;
    for (int jobs : {0, 2, 3, 7}) EXPECT_EQ(import_pickle(good, jobs).onnx, one) << jobs;
  }
  // Trees 3 and 20 of the forest broken: the first is named, whatever the threads.
  auto edited = read("rf.pkl");
  Arena arena;
  const Unpickled u = run_pickle(arena, edited, 0);
  const Value* list = u.root->object->state->get("estimators_");
  ASSERT_NE(list, nullptr);
  ASSERT_GT(list->items.size(), 20u);
  for (size_t ti : {size_t{20}, size_t{3}}) {
    const Value* tree = list->items[ti]->object->state->get("tree_");
    ASSERT_NE(tree, nullptr);
    const Array& nodes = *tree->object->state->get("nodes")->array;
    uint64_t right_at = 0;
    for (const auto& f : nodes.dtype.fields)
      if (f.name == "right_child") right_at = f.offset;
    const auto at =
        static_cast<size_t>(reinterpret_cast<const uint8_t*>(nodes.data.data()) - edited.data()) +
        right_at;
    const int64_t outside = 1 << 30;
    std::memcpy(edited.data() + at, &outside, 8);  // the root's right child beyond the tree
  }
  auto refusal_of = [&](int jobs) -> std::string {
    try {
      (void)import_pickle(edited, jobs);
      return "imported";
    } catch (const ImportError& e) {
      return e.what();
    }
  };
  const std::string why = refusal_of(1);
  EXPECT_NE(why.find("estimators_[3]"), std::string::npos) << why;
  for (int jobs : {0, 2, 3, 7}) EXPECT_EQ(refusal_of(jobs), why) << jobs;
}

TEST(SklearnHostile, DeepNestingHitsTheStackLimit) {
  Stream s;
  for (int i = 0; i < (1 << 20) + 10; ++i) s.op({'('});
  auto msg = refusal(s.done());
  EXPECT_NE(msg.find("stack deeper than"), std::string::npos) << msg;
}

TEST(SklearnHostile, OpcodesOutsideAModelsStateAreRefused) {
  EXPECT_NE(refusal(Stream().str("x").op({'Q'}).done()).find("persistent ids"), std::string::npos);
  EXPECT_NE(refusal(Stream().op({0x97}).done()).find("out-of-band"), std::string::npos);
  EXPECT_NE(refusal(Stream().op({0x82, 1}).done()).find("extension-registry"), std::string::npos);
  EXPECT_NE(refusal(Stream().global("builtins", "eval").done()).find("`builtins.eval`"),
            std::string::npos);
  // A REDUCE on an allowlisted class that is not a constructor of data.
  EXPECT_NE(refusal(Stream().global("sklearn.svm._classes", "SVC").op({')', 'R'}).done())
                .find("not a constructor"),
            std::string::npos);
}

TEST(SklearnHostile, JoblibArrayLongerThanTheFileIsRefused) {
  // A NumpyArrayWrapper that claims 2^30 float64 values with 8 bytes after it.
  Stream t;
  t.global("joblib.numpy_pickle", "NumpyArrayWrapper").op({')', 0x81, '}', '('});
  t.str("subclass").global("numpy", "ndarray").str("shape").integer(1u << 30).op({0x85});
  t.str("order").str("C").str("dtype").dtype_f8().str("allow_mmap").op({0x89, 'u', 'b'});
  t.b.insert(t.b.end(), 8, 0);
  auto msg = refusal(t.done());
  EXPECT_NE(msg.find("joblib array of shape × itemsize = 8589934592 bytes, but only"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace secmlops::host::sklearn
