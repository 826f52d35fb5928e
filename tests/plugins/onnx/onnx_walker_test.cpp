// The ONNX walker at core level, on the generated fixtures and on synthetic byte streams.
#include "onnx_test_support.hpp"
#include "probe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace secmlops;
using secmlops::test::evidence;
using secmlops::test::fixture;
using secmlops::test::run_onnx;
using secmlops::test::run_onnx_bytes;
using secmlops::test::slurp;
using ::testing::HasSubstr;

uint32_t probe_file(const std::string& rel) {
  std::string b = slurp(fixture(rel));
  return plugins::onnx::probe_model(reinterpret_cast<const uint8_t*>(b.data()),
                                    std::min<size_t>(b.size(), 65536));
}

TEST(OnnxProbe, ClaimsModelsOnly) {
  for (const char* f :
       {"benign/mlp.onnx", "benign/linear_classifier.onnx", "benign/tree_ensemble.onnx",
        "malicious/custom_domain.onnx", "malicious/deep_nesting.onnx", "malformed/truncated.onnx"})
    EXPECT_GE(probe_file(f), 50u) << f;
  EXPECT_EQ(probe_file("malformed/random.bin"), 0u);
  auto probe = [](const std::string& s) {
    return plugins::onnx::probe_model(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(probe(""), 0u);
  EXPECT_EQ(probe("\x08\x07"), 0u);             // ir_version alone: not enough
  EXPECT_EQ(probe("{\"ir_version\": 7}"), 0u);  // JSON
  EXPECT_EQ(probe("PK\x03\x04"), 0u);           // zip
  EXPECT_EQ(probe("\x08\x01\x12\x05\x0a\x03\x12\x01x"),
            0u);  // a SavedModel head: field 2 is a message
  EXPECT_EQ(probe(std::string("\x08\x07\x3a\x02\x0a\x00", 6)),
            90u);                                         // ir_version + graph with a node
  EXPECT_EQ(probe(":x\nhello world, this is text"), 0u);  // text that starts like a graph tag
  EXPECT_EQ(probe("\x08\x07\x12\x03a\x01b"), 0u);         // no graph, no opset
  // Fields in an unusual order are still ONNX (a parser accepts them), with less confidence.
  EXPECT_EQ(probe_file("malicious/reordered_fields.onnx"), 60u);
  // A doc string longer than the head hides the graph: still claimed, and walked whole.
  EXPECT_EQ(probe_file("malicious/padded_doc_python_op.onnx"), 40u);
  EXPECT_EQ(run_onnx("malicious/padded_doc_python_op.onnx").with_rule("ONNX-PYTHON-OP").size(), 1u);
  EXPECT_EQ(probe(std::string("\x32\xa0\x8d\x06", 4) + std::string(70000, '\x01')),
            0u);  // control bytes: not a doc
  // A short stream (a tensor storage) whose first bytes read as a field running past its end is
  // seen whole: not claimed.
  EXPECT_EQ(probe(std::string("\x72\x56\x0a\x01k", 5) + std::string(57, 'v')), 0u);
  EXPECT_EQ(probe(std::string("\x32\xa0\x8d\x06", 4) + std::string(1000, 'a')), 0u);
  EXPECT_EQ(probe(std::string("\x32\xa0\x8d\x06", 4) + std::string(70000, 'a')), 40u);
}

TEST(OnnxOps, ReorderedFieldsDoNotHideOps) {
  auto f = run_onnx("malicious/reordered_fields.onnx").with_rule("ONNX-CUSTOM-DOMAIN-OP");
  ASSERT_EQ(f.size(), 1u);
}

TEST(OnnxBenign, NoFindingAtMediumOrAbove) {
  for (const char* f :
       {"benign/mlp.onnx", "benign/linear_classifier.onnx", "benign/tree_ensemble.onnx",
        "benign/if_subgraphs.onnx", "benign/local_function.onnx", "benign/contrib_op.onnx",
        "benign_external/model.onnx"}) {
    auto run = run_onnx(f);
    EXPECT_LT(run.max_severity(), SECMLOPS_SEVERITY_MEDIUM) << f;
    ASSERT_EQ(run.with_rule("ONNX-METADATA").size(), 1u) << f;
  }
}

TEST(OnnxBenign, MetadataCarriesProducerAndOpsets) {
  auto run = run_onnx("benign/linear_classifier.onnx");
  auto meta = run.with_rule("ONNX-METADATA").at(0);
  EXPECT_EQ(evidence(meta, "producer_name"), "secmlops-fixtures");
  EXPECT_EQ(evidence(meta, "ir_version"), "8");
  bool ml = false;
  for (const auto& [k, v] : meta.evidence) ml |= (k == "opset_import" && v == "ai.onnx.ml:3");
  EXPECT_TRUE(ml);
}

TEST(OnnxBenign, RuntimeContribOpIsInfoOnly) {
  auto run = run_onnx("benign/contrib_op.onnx");
  auto ops = run.with_rule("ONNX-RUNTIME-DOMAIN-OP");
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].severity, SECMLOPS_SEVERITY_INFO);
  EXPECT_EQ(evidence(ops[0], "op_type"), "FusedMatMul");
}

TEST(OnnxOps, CustomDomainIsHigh) {
  auto run = run_onnx("malicious/custom_domain.onnx");
  auto f = run.with_rule("ONNX-CUSTOM-DOMAIN-OP");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, SECMLOPS_SEVERITY_HIGH);
  EXPECT_EQ(evidence(f[0], "domain"), "evil.ops");
  EXPECT_EQ(evidence(f[0], "op_type"), "Backdoor");
  EXPECT_NE(f[0].offset, SECMLOPS_NO_OFFSET);
}

TEST(OnnxOps, PythonOpsAreCritical) {
  auto run = run_onnx("malicious/python_op.onnx");
  auto f = run.with_rule("ONNX-PYTHON-OP");
  ASSERT_EQ(f.size(), 2u);
  for (const auto& x : f) EXPECT_EQ(x.severity, SECMLOPS_SEVERITY_CRITICAL);
}

TEST(OnnxOps, CodeAttributeOnCustomOpIsCritical) {
  auto run = run_onnx("malicious/code_attribute.onnx");
  auto f = run.with_rule("ONNX-CODE-ATTRIBUTE");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, SECMLOPS_SEVERITY_CRITICAL);
  EXPECT_THAT(evidence(f[0], "value"), HasSubstr("os.system"));
}

TEST(OnnxOps, CustomOpInsideNestedSubgraphsIsFound) {
  auto run = run_onnx("malicious/nested_custom_op.onnx");
  auto f = run.with_rule("ONNX-CUSTOM-DOMAIN-OP");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_THAT(f[0].detail, HasSubstr("attribute[body].g"));
  EXPECT_THAT(f[0].detail, HasSubstr("attribute[then_branch].g"));
  EXPECT_GE(run.stats.graphs, 4u);
}

TEST(OnnxOps, DeepNestingStopsAtTheLimitOnce) {
  auto run = run_onnx("malicious/deep_nesting.onnx");
  auto f = run.with_rule("ONNX-NESTING-LIMIT");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, SECMLOPS_SEVERITY_MEDIUM);
  EXPECT_LE(f[0].detail.size(), 330u);
}

TEST(OnnxExternal, AbsoluteAndDotDotAreCriticalEvenWithoutADirectory) {
  for (const char* rel : {"malicious/ext_absolute.onnx", "malicious/ext_dotdot.onnx",
                          "malicious/ext_dotdot_nested.onnx"})
    for (bool with_dir : {true, false}) {
      auto run = run_onnx(rel, with_dir);
      auto f = run.with_rule("ONNX-EXTERNAL-PATH-TRAVERSAL");
      ASSERT_EQ(f.size(), 1u) << rel;
      EXPECT_EQ(f[0].severity, SECMLOPS_SEVERITY_CRITICAL);
    }
}

TEST(OnnxExternal, SymlinkEscapeIsCritical) {
  auto run = run_onnx("ext_symlink/model.onnx");
  auto f = run.with_rule("ONNX-EXTERNAL-PATH-TRAVERSAL");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_THAT(evidence(f[0], "reason"), HasSubstr("symlink"));
}

TEST(OnnxExternal, MissingFileAndRangeBeyondTheFile) {
  auto missing = run_onnx("malicious/ext_missing.onnx").with_rule("ONNX-EXTERNAL-MISSING");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].severity, SECMLOPS_SEVERITY_MEDIUM);
  auto range = run_onnx("ext_range/model.onnx").with_rule("ONNX-EXTERNAL-OUT-OF-RANGE");
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(evidence(range[0], "file_size"), "16");
  EXPECT_EQ(evidence(range[0], "offset"), "4096");
}

TEST(OnnxExternal, UploadsAreReportedUnverified) {
  auto run = run_onnx("benign_external/model.onnx", /*with_dir=*/false);
  EXPECT_EQ(run.with_rule("ONNX-EXTERNAL-UNVERIFIED").size(), 1u);
  EXPECT_LT(run.max_severity(), SECMLOPS_SEVERITY_MEDIUM);
}

TEST(OnnxTensors, SizeMismatchAndAbsurdDims) {
  auto mismatch = run_onnx("malicious/size_mismatch.onnx").with_rule("ONNX-TENSOR-SIZE-MISMATCH");
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_EQ(evidence(mismatch[0], "expected_bytes"), "400");
  EXPECT_EQ(evidence(mismatch[0], "present_bytes"), "16");
  auto absurd = run_onnx("malicious/absurd_dims.onnx").with_rule("ONNX-ABSURD-SHAPE");
  ASSERT_EQ(absurd.size(), 1u);
  EXPECT_EQ(absurd[0].severity, SECMLOPS_SEVERITY_MEDIUM);
}

TEST(OnnxTensors, EveryRepeatedFindingIsEmitted) {
  // The walker reports all 60; the host lists 50 (OnnxCli.RepeatedFindingsAreCappedAndCounted).
  auto run = run_onnx("malicious/many_mismatches.onnx");
  EXPECT_EQ(run.with_rule("ONNX-TENSOR-SIZE-MISMATCH").size(), 60u);
  EXPECT_TRUE(run.with_rule("ONNX-FINDINGS-CAPPED").empty());
}

TEST(OnnxInfo, DocStringsWithUrlsAndCode) {
  auto run = run_onnx("info/doc_signals.onnx");
  ASSERT_EQ(run.with_rule("ONNX-DOC-URL").size(), 1u);
  EXPECT_EQ(evidence(run.with_rule("ONNX-DOC-URL")[0], "url"), "https://example.invalid/payload");
  EXPECT_EQ(run.with_rule("ONNX-DOC-CODE").size(), 1u);
  EXPECT_EQ(run.max_severity(), SECMLOPS_SEVERITY_INFO);
}

TEST(OnnxMalformed, ErrorsCarryTheByteOffset) {
  try {
    run_onnx("malformed/bad_length.onnx");
    FAIL() << "no error";
  } catch (const protowire::ParseError& e) {
    EXPECT_EQ(e.offset(), 6u);
    EXPECT_THAT(e.what(), HasSubstr("byte offset 6"));
  }
  EXPECT_THROW(run_onnx("malformed/truncated.onnx"), protowire::ParseError);
}

TEST(OnnxMalformed, EveryPrefixAndEveryByteFlipEndsCleanly) {
  std::string good = slurp(fixture("malicious/nested_custom_op.onnx"));
  for (size_t n = 0; n < good.size(); ++n) {
    try {
      run_onnx_bytes(good.substr(0, n));
    } catch (const protowire::ParseError&) {
    }
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0xff);
    try {
      run_onnx_bytes(bad);
    } catch (const protowire::ParseError&) {
    }
  }
}

// A ModelProto far beyond protobuf's 2 GB limit: 5 GiB of inline raw_data that only exists
// virtually. The walker reads a few kilobytes of it.
TEST(OnnxLarge, InlinePayloadsBeyondTwoGigabytesAreSkipped) {
  auto varint = [](uint64_t v) {
    std::string out;
    do {
      uint8_t b = v & 0x7f;
      v >>= 7;
      out += static_cast<char>(v ? (b | 0x80) : b);
    } while (v);
    return out;
  };
  auto len_field = [&](uint32_t n, const std::string& body) {
    return varint((n << 3) | 2) + varint(body.size()) + body;
  };
  const uint64_t payload = 5ull << 30;
  const uint64_t elements = payload / 4;
  // TensorProto: dims(1) = elements, data_type(2) = FLOAT, name(8), raw_data(9) header.
  std::string tensor_head =
      "\x08" + varint(elements) + "\x10\x01" + len_field(8, "W") + "\x4a" + varint(payload);
  uint64_t tensor_len = tensor_head.size() + payload;
  std::string graph_head = std::string("\x2a") + varint(tensor_len) + tensor_head;
  std::string opset = len_field(8, std::string("\x10\x11", 2));
  uint64_t graph_len = graph_head.size() + payload;
  std::string head =
      std::string("\x08\x08") + len_field(2, "big") + "\x3a" + varint(graph_len) + graph_head;

  class Virtual final : public sdk::ReadSource {
   public:
    Virtual(std::string head, uint64_t gap, std::string tail)
        : head_(std::move(head)), gap_(gap), tail_(std::move(tail)) {}
    uint64_t size() const override { return head_.size() + gap_ + tail_.size(); }
    size_t read_into(uint64_t off, uint8_t* buf, size_t len) override {
      size_t n = std::min<uint64_t>(len, size() - std::min(off, size()));
      for (size_t i = 0; i < n; ++i) {
        uint64_t at = off + i;
        if (at < head_.size())
          buf[i] = head_[at];
        else if (at < head_.size() + gap_)
          buf[i] = 0;
        else
          buf[i] = tail_[at - head_.size() - gap_];
      }
      return n;
    }

   private:
    std::string head_;
    uint64_t gap_;
    std::string tail_;
  } src(head, payload, opset);
  std::vector<sdk::Finding> findings;
  plugins::onnx::WalkContext ctx;
  ctx.emit = [&](const sdk::Finding& f) { findings.push_back(f); };
  auto stats = plugins::onnx::walk_model(src, ctx);
  EXPECT_EQ(stats.tensors, 1u);
  EXPECT_LT(stats.bytes_fetched, 64u * 1024);
  for (const auto& f : findings)
    EXPECT_LT(f.severity, SECMLOPS_SEVERITY_MEDIUM) << f.rule_id << " " << f.message;
}

}  // namespace
