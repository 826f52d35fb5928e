// The CLI's `--format json` and the gRPC API, given the same inputs, return the same message for
// every operation: scan, train, predict, describe, attack and pipeline. What legitimately differs
// between two runs (timings, timestamps, model ids, run directories) is cleared before comparing;
// anything else that differs is a difference between the doors.
#include "daemon.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include "secmlops/v1/attack_service.grpc.pb.h"
#include "secmlops/v1/model_service.grpc.pb.h"
#include "secmlops/v1/pipeline_service.grpc.pb.h"
#include "secmlops/v1/scan_service.grpc.pb.h"
#include "secmlops/v1/signing_service.grpc.pb.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace secmlops;
using google::protobuf::Message;

namespace {

// Fields that differ between two runs of the same operation, wherever they occur.
const std::set<std::string> kRunDependent = {
    "duration_seconds", "started_at",     "created_at",           "elapsed_seconds",
    "mlflow_run_id",    "mlflow_run_url", "mlflow_experiment_id",
};

// Clears every field named in `names`, at any depth.
void clear_fields(Message& m, const std::set<std::string>& names) {
  const auto* refl = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  refl->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (names.count(f->name())) {
      refl->ClearField(&m, f);
      continue;
    }
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < refl->FieldSize(m, f); ++i)
        clear_fields(*refl->MutableRepeatedMessage(&m, f, i), names);
    } else {
      clear_fields(*refl->MutableMessage(&m, f), names);
    }
  }
}

// Replaces `from` by `to` in every string field, at any depth (run directories inside paths).
void replace_in_strings(Message& m, const std::string& from, const std::string& to) {
  const auto* refl = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  refl->ListFields(m, &fields);
  auto fix = [&](std::string s) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
    return s;
  };
  for (const auto* f : fields) {
    using FD = google::protobuf::FieldDescriptor;
    if (f->cpp_type() == FD::CPPTYPE_STRING) {
      if (f->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(m, f); ++i)
          refl->SetRepeatedString(&m, f, i, fix(refl->GetRepeatedString(m, f, i)));
      } else {
        refl->SetString(&m, f, fix(refl->GetString(m, f)));
      }
    } else if (f->cpp_type() == FD::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(m, f); ++i)
          replace_in_strings(*refl->MutableRepeatedMessage(&m, f, i), from, to);
      } else {
        replace_in_strings(*refl->MutableMessage(&m, f), from, to);
      }
    }
  }
}

// Empty when equal, else what differs.
std::string differences(const Message& cli, const Message& grpc) {
  google::protobuf::util::MessageDifferencer d;
  std::string report;
  d.ReportDifferencesToString(&report);
  return d.Compare(cli, grpc) ? "" : report;
}

template <class M>
M parse_json(const std::string& json) {
  M m;
  auto status = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json.substr(0, 2000);
  return m;
}

// Two Gaussian blobs in 3 named features with string labels.
std::string blobs_csv(int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  std::ostringstream s;
  s.precision(17);
  s << "a,b,species,c\n";
  for (int i = 0; i < rows; ++i) {
    bool cat = i % 2 == 0;
    double shift = cat ? 1.2 : -1.2;
    s << n(rng) + shift << "," << n(rng) << "," << (cat ? "cat" : "dog") << "," << n(rng) - shift
      << "\n";
  }
  return s.str();
}

// A protocol-0 pickle that calls os.system when loaded.
constexpr const char* kEvilPickle = "cos\nsystem\n(S'echo parity'\ntR.";

// The small pipeline the client tests run too.
std::string spec_text() {
  std::ifstream in(std::string(SECMLOPS_SOURCE_DIR) + "/tests/clients/pipeline.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What an MLflow file store holds for the one run of `experiment`: params, tags and metrics
// (value and step; not the time), keyed by their file under the run directory.
std::map<std::string, std::string> mlflow_run(const fs::path& store,
                                              const std::string& experiment) {
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& exp : fs::directory_iterator(store, ec)) {
    if (read(exp.path() / "meta.yaml").find("name: '" + experiment + "'") == std::string::npos)
      continue;
    for (const auto& run : fs::directory_iterator(exp.path())) {
      if (!fs::exists(run.path() / "meta.yaml") || run.path().filename() == "datasets") continue;
      out["runs"] += "run ";
      for (const char* kind : {"params", "tags", "metrics"}) {
        for (const auto& f : fs::recursive_directory_iterator(run.path() / kind, ec)) {
          if (!f.is_regular_file()) continue;
          auto key = f.path().lexically_relative(run.path()).string();
          if (key.find("duration_seconds") != std::string::npos) continue;
          std::string text = read(f.path());
          if (std::string(kind) == "metrics") {
            std::istringstream lines(text);
            text.clear();
            for (std::string line; std::getline(lines, line);)
              text += line.substr(line.find(' ') + 1) + "\n";
          }
          out[key] = text;
        }
      }
    }
  }
  return out;
}

// Entries that differ between two recorded runs, one line each.
std::string record_differences(const std::map<std::string, std::string>& cli,
                               const std::map<std::string, std::string>& grpc) {
  std::string out;
  for (const auto& [k, v] : cli) {
    auto it = grpc.find(k);
    if (it == grpc.end())
      out += "only CLI: " + k + " = " + v + "\n";
    else if (it->second != v)
      out += "differs: " + k + ": CLI " + v + " / gRPC " + it->second + "\n";
  }
  for (const auto& [k, v] : grpc)
    if (!cli.count(k)) out += "only gRPC: " + k + " = " + v + "\n";
  return out;
}

class Parity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new test::TempDir();
    root_ = tmp_->path() / "root";
    fs::create_directories(root_);
    tmp_->write("root/train.csv", blobs_csv(240, 11));
    tmp_->write("root/held.csv", blobs_csv(80, 12));
    tmp_->write("root/scan/evil.pkl", kEvilPickle);
    tmp_->write("root/scan/notes/readme.txt", "not a model\n");
    tmp_->write("root/parity.yaml", spec_text());
    daemon_ = new test::Daemon(
        SECMLOPSD,
        {"--plugin-dir", SECMLOPS_PLUGIN_DIR, "--scan-root", root_.string(), "--log-level", "warn",
         "--drain-seconds", "2", "--spill-dir", (tmp_->path() / "spill").string(), "--listen",
         "unix:" + (tmp_->path() / "api.sock").string(), "--mlflow-tracking-uri",
         "file:" + (tmp_->path() / "grpc-mlruns").string()},
        tmp_->path() / "ready");
    ASSERT_TRUE(daemon_->running());
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(daemon_->address(true), grpc::InsecureChannelCredentials()));
    // The model every model operation uses, written by the CLI under the root.
    auto r = cli("train --model logreg --data " + path("train.csv") +
                 " --label species --param C=10 --seed 5 --out " + path("model.onnx"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static void TearDownTestSuite() {
    delete channel_;
    delete daemon_;
    delete tmp_;
  }

  static test::CommandResult cli(const std::string& args) {
    return test::run_command(std::string(SECMLOPS_CLI) + " " + args);
  }
  static std::string path(const std::string& relative) { return (root_ / relative).string(); }
  static std::shared_ptr<grpc::Channel> channel() { return *channel_; }
  static std::unique_ptr<grpc::ClientContext> context(int seconds = 120) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return ctx;
  }
  static v1::CsvData csv(const std::string& relative, const std::string& label) {
    v1::CsvData c;
    c.set_path(path(relative));
    c.set_label_column(label);
    c.set_has_header(true);
    return c;
  }

  static inline test::TempDir* tmp_ = nullptr;
  static inline fs::path root_;
  static inline test::Daemon* daemon_ = nullptr;
  static inline std::shared_ptr<grpc::Channel>* channel_ = nullptr;
};

TEST_F(Parity, Scan) {
  auto r = cli("scan --format json " + path("scan"));
  ASSERT_EQ(r.exit_code, 1) << r.out;  // the pickle reaches HIGH
  auto from_cli = parse_json<v1::ScanReport>(r.out);

  auto stub = v1::ScanService::NewStub(channel());
  v1::ScanRequest req;
  req.add_paths(path("scan"));
  req.mutable_options()->set_fail_on(v1::HIGH);
  auto* mode = req.mutable_options()->add_scanner_config();
  mode->set_key("mode");
  mode->set_value("default");
  v1::ScanReport from_grpc;
  auto s = stub->Report(context().get(), req, &from_grpc);
  ASSERT_TRUE(s.ok()) << s.error_message();

  EXPECT_EQ(from_grpc.verdict(), "fail");
  EXPECT_EQ(from_grpc.files_size(), 2);
  clear_fields(from_cli, kRunDependent);
  clear_fields(from_grpc, kRunDependent);
  EXPECT_EQ(differences(from_cli, from_grpc), "");

  // ScanService.Scan streams the same file reports, in the same order.
  auto ctx = context();
  auto reader = stub->Scan(ctx.get(), req);
  std::vector<v1::FileReport> streamed;
  for (v1::FileReport f; reader->Read(&f);) streamed.push_back(f);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(streamed.size(), static_cast<size_t>(from_cli.files_size()));
  for (size_t i = 0; i < streamed.size(); ++i) {
    clear_fields(streamed[i], kRunDependent);
    EXPECT_EQ(differences(from_cli.files(static_cast<int>(i)), streamed[i]), "")
        << streamed[i].path();
  }
}

TEST_F(Parity, ScanUploadOfAFile) {
  // The bytes of a file uploaded under the file's name give the file's report.
  auto file = path("scan/evil.pkl");
  auto r = cli("scan --format json " + file);
  ASSERT_EQ(r.exit_code, 1) << r.out;
  auto from_cli = parse_json<v1::ScanReport>(r.out);
  ASSERT_EQ(from_cli.files_size(), 1);

  auto stub = v1::ScanService::NewStub(channel());
  auto ctx = context();
  v1::FileReport uploaded;
  auto writer = stub->ScanUpload(ctx.get(), &uploaded);
  v1::UploadChunk chunk;
  chunk.set_name(file);
  chunk.set_data(kEvilPickle);
  ASSERT_TRUE(writer->Write(chunk));
  writer->WritesDone();
  auto s = writer->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();

  auto expected = from_cli.files(0);
  clear_fields(expected, kRunDependent);
  clear_fields(uploaded, kRunDependent);
  EXPECT_EQ(differences(expected, uploaded), "");
}

TEST_F(Parity, DescribeAModelTrainedOverGrpc) {
  // A model kept by the server describes itself as its ONNX file does (the CLI's), apart from
  // the server's id and the name of the source.
  auto stub = v1::ModelService::NewStub(channel());
  v1::TrainRequest train;
  train.set_plugin("logreg");
  *train.mutable_csv() = csv("train.csv", "species");
  auto* c = train.add_params();
  c->set_key("C");
  c->set_value("10");
  train.set_seed(5);
  v1::TrainResponse trained;
  auto s = stub->Train(context().get(), train, &trained);
  ASSERT_TRUE(s.ok()) << s.error_message();

  auto r = cli("describe --format json --model " + path("model.onnx") + " --data " +
               path("held.csv") + " --label species");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto from_cli = parse_json<v1::DescribeResponse>(r.out);

  v1::ModelRef req;
  req.set_model_id(trained.model().id());
  *req.mutable_data() = csv("held.csv", "species");
  v1::DescribeResponse from_grpc;
  s = stub->Describe(context().get(), req, &from_grpc);
  ASSERT_TRUE(s.ok()) << s.error_message();

  EXPECT_EQ(from_grpc.model().id(), trained.model().id());
  EXPECT_EQ(from_grpc.source(), trained.model().id());
  for (auto* m : {&from_cli, &from_grpc}) {
    clear_fields(*m, kRunDependent);
    m->mutable_model()->clear_id();
    m->mutable_model()->clear_name();
    m->clear_source();
  }
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

TEST_F(Parity, ScanWithDefaultOptions) {
  // A client that sends only paths gets what `secmlops scan` prints without options.
  auto r = cli("scan --format json " + path("scan"));
  auto from_cli = parse_json<v1::ScanReport>(r.out);
  auto stub = v1::ScanService::NewStub(channel());
  v1::ScanRequest req;
  req.add_paths(path("scan"));
  v1::ScanReport from_grpc;
  auto s = stub->Report(context().get(), req, &from_grpc);
  ASSERT_TRUE(s.ok()) << s.error_message();
  clear_fields(from_cli, kRunDependent);
  clear_fields(from_grpc, kRunDependent);
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

TEST_F(Parity, Train) {
  auto out = (tmp_->path() / "train-parity.onnx").string();
  auto r = cli("train --format json --model logreg --data " + path("train.csv") +
               " --label species --param C=10 --param max_iter=50 --seed 9 --test-size 0.3 --out " +
               out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto from_cli = parse_json<v1::TrainResponse>(r.out);

  auto stub = v1::ModelService::NewStub(channel());
  v1::TrainRequest req;
  req.set_plugin("logreg");
  *req.mutable_csv() = csv("train.csv", "species");
  for (auto [k, v] : {std::pair{"C", "10"}, std::pair{"max_iter", "50"}}) {
    auto* kv = req.add_params();
    kv->set_key(k);
    kv->set_value(v);
  }
  req.set_seed(9);
  req.set_test_size(0.3);
  v1::TrainResponse from_grpc;
  auto s = stub->Train(context().get(), req, &from_grpc);
  ASSERT_TRUE(s.ok()) << s.error_message();

  EXPECT_FALSE(from_grpc.model().id().empty());
  EXPECT_EQ(from_cli.out(), out);
  EXPECT_EQ(from_grpc.train_rows() + from_grpc.test_rows(), 240u);
  // The server keeps the model under an id instead of writing a file.
  for (auto* m : {&from_cli, &from_grpc}) {
    clear_fields(*m, kRunDependent);
    m->mutable_model()->clear_id();
    m->clear_out();
  }
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

TEST_F(Parity, Predict) {
  auto r = cli("predict --format json --model " + path("model.onnx") + " --data " +
               path("held.csv") + " --label species");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto from_cli = parse_json<v1::PredictResponse>(r.out);

  auto stub = v1::ModelService::NewStub(channel());
  v1::PredictRequest req;
  req.set_model_path(path("model.onnx"));
  *req.mutable_csv() = csv("held.csv", "species");
  v1::PredictResponse from_grpc;
  auto s = stub->Predict(context().get(), req, &from_grpc);
  ASSERT_TRUE(s.ok()) << s.error_message();

  EXPECT_EQ(from_grpc.metrics().rows(), 80u);
  EXPECT_EQ(from_grpc.probabilities().rows(), 80u);
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

TEST_F(Parity, Describe) {
  auto r = cli("describe --format json --model " + path("model.onnx") + " --data " +
               path("held.csv") + " --label species");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto from_cli = parse_json<v1::DescribeResponse>(r.out);

  auto stub = v1::ModelService::NewStub(channel());
  v1::ModelRef req;
  req.set_model_path(path("model.onnx"));
  *req.mutable_data() = csv("held.csv", "species");
  v1::DescribeResponse from_grpc;
  auto s = stub->Describe(context().get(), req, &from_grpc);
  ASSERT_TRUE(s.ok()) << s.error_message();

  EXPECT_TRUE(from_grpc.has_overfitting());
  EXPECT_EQ(from_grpc.held_out().rows(), 80u);
  clear_fields(from_cli, kRunDependent);
  clear_fields(from_grpc, kRunDependent);
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

// The final report of AttackService.Run.
v1::AttackReport attack_over_grpc(const std::shared_ptr<grpc::Channel>& channel,
                                  const v1::AttackRequest& req) {
  auto stub = v1::AttackService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(240));
  auto reader = stub->Run(&ctx, req);
  v1::AttackEvent ev;
  v1::AttackReport report;
  bool got_result = false;
  while (reader->Read(&ev))
    if (ev.has_result()) {
      report = ev.result().report();
      got_result = true;
    }
  auto s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(got_result);
  return report;
}

void add_params(google::protobuf::RepeatedPtrField<v1::KeyValue>& out,
                const std::vector<std::pair<std::string, std::string>>& params) {
  for (const auto& [k, v] : params) {
    auto* kv = out.Add();
    kv->set_key(k);
    kv->set_value(v);
  }
}

TEST_F(Parity, Attack) {
  auto r = cli("attack --format json --attack fgsm --model " + path("model.onnx") + " --data " +
               path("held.csv") + " --label species --eps 0.1,0.5 --eps-step 0.05 --seed 4");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto from_cli = parse_json<v1::AttackReport>(r.out);

  v1::AttackRequest req;
  req.set_attack("fgsm");
  req.set_model_path(path("model.onnx"));
  *req.mutable_csv() = csv("held.csv", "species");
  req.add_eps(0.1);
  req.add_eps(0.5);
  add_params(*req.mutable_params(), {{"eps_step", "0.05"}, {"seed", "4"}});
  req.set_empirical_robustness(true);  // the CLI's default
  auto from_grpc = attack_over_grpc(channel(), req);

  EXPECT_EQ(from_grpc.curve_size(), 2);
  EXPECT_EQ(from_grpc.samples(), 80u);
  EXPECT_TRUE(from_grpc.has_empirical_robustness());
  clear_fields(from_cli, kRunDependent);
  clear_fields(from_grpc, kRunDependent);
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

TEST_F(Parity, BlackBoxAttackOnAForest) {
  auto forest = (tmp_->path() / "root" / "forest.onnx").string();
  auto t =
      cli("train --model random_forest --data " + path("train.csv") +
          " --label species --param n_estimators=10 --param max_depth=4 --param seed=2 --out " +
          forest);
  ASSERT_EQ(t.exit_code, 0) << t.out;
  // Without --label the model's predictions are the labels, on both doors.
  auto r = cli("attack --format json --attack hsj --model " + forest + " --data " +
               path("held.csv") + " --eps 0.5,1 --max-iter 5 --seed 7");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto from_cli = parse_json<v1::AttackReport>(r.out);

  v1::AttackRequest req;
  req.set_attack("hsj");
  req.set_model_path(forest);
  req.mutable_csv()->set_path(path("held.csv"));
  req.mutable_csv()->set_has_header(true);
  req.add_eps(0.5);
  req.add_eps(1);
  add_params(*req.mutable_params(), {{"max_iter", "5"}, {"seed", "7"}});
  req.set_empirical_robustness(true);
  auto from_grpc = attack_over_grpc(channel(), req);

  EXPECT_EQ(from_grpc.labels_source(), "model predictions");
  EXPECT_EQ(from_grpc.curve_size(), 2);
  EXPECT_GT(from_grpc.queries(), 0u);
  clear_fields(from_cli, kRunDependent);
  clear_fields(from_grpc, kRunDependent);
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

// A request either door refuses gets the same message from both: the CLI's "secmlops: <message>"
// (exit 2) is the gRPC status message.
TEST_F(Parity, Errors) {
  tmp_->write("root/bad.csv", "a,b,species,c\n1,2,cat,3\n4,zz,dog,6\n");
  auto stub = v1::ModelService::NewStub(channel());
  auto cli_error = [](const std::string& args) {
    auto r = cli(args + " 2>&1 >/dev/null");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    auto at = r.out.find("secmlops: ");
    if (at == std::string::npos) return r.out;
    auto end = r.out.find('\n', at);
    return r.out.substr(at + 10, end == std::string::npos ? std::string::npos : end - at - 10);
  };

  {
    v1::TrainRequest req;
    req.set_plugin("no-such-model");
    *req.mutable_csv() = csv("train.csv", "species");
    v1::TrainResponse resp;
    auto s = stub->Train(context().get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(cli_error("train --model no-such-model --data " + path("train.csv") +
                        " --label species --out " + (tmp_->path() / "x.onnx").string()),
              s.error_message());
  }
  {
    v1::PredictRequest req;
    req.set_model_path(path("model.onnx"));
    *req.mutable_csv() = csv("bad.csv", "species");
    v1::PredictResponse resp;
    auto s = stub->Predict(context().get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("bad.csv:3"), std::string::npos) << s.error_message();
    EXPECT_EQ(cli_error("predict --model " + path("model.onnx") + " --data " + path("bad.csv") +
                        " --label species"),
              s.error_message());
  }
  {
    v1::ModelRef req;
    req.set_model_path(path("model.onnx"));
    *req.mutable_data() = csv("held.csv", "no-such-column");
    v1::DescribeResponse resp;
    auto s = stub->Describe(context().get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(cli_error("describe --model " + path("model.onnx") + " --data " + path("held.csv") +
                        " --label no-such-column"),
              s.error_message());
  }
}

// Runs recorded to MLflow hold the same params, tags and metrics whichever door asked for them.
TEST_F(Parity, MlflowRecords) {
  auto cli_store = tmp_->path() / "cli-mlruns";
  auto grpc_store = tmp_->path() / "grpc-mlruns";
  auto recording = [](const std::string& experiment) {
    v1::RunRecording r;
    r.set_enabled(true);
    r.set_experiment(experiment);
    return r;
  };
  auto mlflow_args = [&](const std::string& experiment) {
    return " --mlflow=file:" + cli_store.string() + " --mlflow-experiment " + experiment + " ";
  };

  auto r = cli("scan" + mlflow_args("parity-scan") + path("scan") + " >/dev/null");
  EXPECT_EQ(r.exit_code, 1);
  {
    auto stub = v1::ScanService::NewStub(channel());
    v1::ScanRequest req;
    req.add_paths(path("scan"));
    *req.mutable_mlflow() = recording("parity-scan");
    v1::ScanReport report;
    auto s = stub->Report(context().get(), req, &report);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  r = cli("train" + mlflow_args("parity-train") + "--model logreg --data " + path("train.csv") +
          " --label species --seed 3 --out " + (tmp_->path() / "recorded.onnx").string() +
          " >/dev/null");
  EXPECT_EQ(r.exit_code, 0);
  {
    auto stub = v1::ModelService::NewStub(channel());
    v1::TrainRequest req;
    req.set_plugin("logreg");
    *req.mutable_csv() = csv("train.csv", "species");
    req.set_seed(3);
    *req.mutable_mlflow() = recording("parity-train");
    v1::TrainResponse resp;
    auto s = stub->Train(context().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  r = cli("attack" + mlflow_args("parity-attack") + "--attack fgsm --model " + path("model.onnx") +
          " --data " + path("held.csv") + " --label species --eps 0.1,0.3 >/dev/null");
  EXPECT_EQ(r.exit_code, 0);
  {
    v1::AttackRequest req;
    req.set_attack("fgsm");
    req.set_model_path(path("model.onnx"));
    *req.mutable_csv() = csv("held.csv", "species");
    req.add_eps(0.1);
    req.add_eps(0.3);
    req.set_empirical_robustness(true);
    *req.mutable_mlflow() = recording("parity-attack");
    attack_over_grpc(channel(), req);
  }

  for (const char* experiment : {"parity-scan", "parity-train", "parity-attack"}) {
    auto from_cli = mlflow_run(cli_store, experiment);
    auto from_grpc = mlflow_run(grpc_store, experiment);
    EXPECT_EQ(from_cli["runs"], "run ") << experiment;
    EXPECT_GT(from_cli.size(), 3u) << experiment;
    EXPECT_EQ(record_differences(from_cli, from_grpc), "") << experiment;
  }
}

// Sign and verify record the same run whichever door asked — outcome, reason, signer,
// algorithm, subject digest — and both log the signature as signature/model.sig.
TEST_F(Parity, MlflowRecordsSigning) {
  auto cli_store = tmp_->path() / "cli-mlruns";
  auto grpc_store = tmp_->path() / "grpc-mlruns";
  tmp_->write("root/signed/weights.bin", "weights");
  tmp_->write("root/signed/config.json", "{}");
  const auto key = tmp_->path() / "sign-key.pem", pub = tmp_->path() / "sign-pub.pem";
  ASSERT_EQ(test::run_command("openssl ecparam -name prime256v1 -genkey -noout -out " +
                              key.string() + " 2>/dev/null && openssl ec -in " + key.string() +
                              " -pubout -out " + pub.string() + " 2>/dev/null")
                .exit_code,
            0);
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  ASSERT_EQ(cli("sign --key " + key.string() + " " + path("signed") + " >/dev/null").exit_code, 0);
  tmp_->write("root/signed/weights.bin", "weights, changed");

  auto r = cli("verify --mlflow=file:" + cli_store.string() +
               " --mlflow-experiment parity-verify --public-key " + pub.string() + " " +
               path("signed") + " >/dev/null");
  EXPECT_EQ(r.exit_code, 1);
  auto stub = v1::SigningService::NewStub(channel());
  v1::RunRecording recording;
  recording.set_enabled(true);
  recording.set_experiment("parity-verify");
  {
    v1::VerifyRequest req;
    req.set_model_path(path("signed"));
    req.set_public_key_pem(read(pub));
    *req.mutable_mlflow() = recording;
    v1::VerifyResult result;
    auto s = stub->Verify(context().get(), req, &result);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(result.verified());
  }
  auto from_cli = mlflow_run(cli_store, "parity-verify");
  auto from_grpc = mlflow_run(grpc_store, "parity-verify");
  EXPECT_EQ(from_cli["runs"], "run ");
  EXPECT_EQ(from_cli["tags/secmlops.signature.verified"], "false");
  EXPECT_EQ(from_cli["tags/secmlops.signature.reason"],
            "weights.bin: content differs from the signed digest");
  EXPECT_EQ(record_differences(from_cli, from_grpc), "");
  size_t logged = 0;
  for (const auto& store : {cli_store, grpc_store})
    for (const auto& f : fs::recursive_directory_iterator(store))
      if (f.path().filename() == "model.sig") {
        EXPECT_EQ(read(f.path()), read(root_ / "signed" / "model.sig"));
        ++logged;
      }
  EXPECT_EQ(logged, 2u);

  // A signature made over gRPC is recorded too (the server's own tracking URI).
  v1::SignRequest req;
  req.set_model_path(path("signed"));
  req.set_private_key_pem(read(key));
  req.set_dry_run(true);
  recording.set_experiment("parity-sign");
  *req.mutable_mlflow() = recording;
  v1::SignResult result;
  auto s = stub->Sign(context().get(), req, &result);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto signed_run = mlflow_run(grpc_store, "parity-sign");
  EXPECT_EQ(signed_run["tags/secmlops.signature.status"], "signed");
  EXPECT_EQ(signed_run["tags/secmlops.signature.signer"],
            from_cli["tags/secmlops.signature.signer"]);
  EXPECT_EQ(signed_run["tags/secmlops.signature.root_digest"], result.root_digest());
}

// Runs the spec through PipelineService.Run: the progress events seen and the final report.
v1::PipelineReport run_over_grpc(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& spec, const std::string& spec_name,
                                 const std::map<std::string, std::string>& sets,
                                 size_t* progress_events, size_t* step_events) {
  auto stub = v1::PipelineService::NewStub(channel);
  v1::PipelineRequest req;
  req.set_spec(spec);
  req.set_spec_name(spec_name);
  for (const auto& [k, v] : sets) {
    auto* kv = req.add_set();
    kv->set_key(k);
    kv->set_value(v);
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(240));
  auto reader = stub->Run(&ctx, req);
  v1::PipelineEvent ev;
  v1::PipelineReport report;
  bool got_report = false;
  while (reader->Read(&ev)) {
    EXPECT_FALSE(got_report) << "the report must be the last event";
    if (ev.has_progress()) ++*progress_events;
    if (ev.has_step()) ++*step_events;
    if (ev.has_report()) {
      report = ev.report();
      got_report = true;
    }
  }
  auto s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(got_report);
  return report;
}

TEST_F(Parity, Pipeline) {
  auto out_dir = tmp_->path() / "cli-pipeline";
  auto r = cli("pipeline run --format json --set vars.seed=5 --output " + out_dir.string() + " " +
               path("parity.yaml"));
  ASSERT_EQ(r.exit_code, 1) << r.out;  // the scan gate fails on the hostile samples
  auto from_cli = parse_json<v1::PipelineReport>(r.out);

  size_t progress = 0, steps = 0;
  auto from_grpc = run_over_grpc(channel(), spec_text(), path("parity.yaml"), {{"vars.seed", "5"}},
                                 &progress, &steps);
  EXPECT_GT(progress, 0u);
  EXPECT_EQ(steps, 6u);
  EXPECT_EQ(from_grpc.verdict(), "fail");
  ASSERT_EQ(from_grpc.steps_size(), 6);
  for (const auto& s : from_grpc.steps())
    EXPECT_EQ(s.status(), v1::STEP_OK) << s.id() << ": " << s.error();
  ASSERT_EQ(from_grpc.gates_size(), 3);
  int failed = 0;
  for (const auto& g : from_grpc.gates()) failed += g.passed() ? 0 : 1;
  EXPECT_EQ(failed, 1);

  // Each door writes under its own run directory; the paths below it are the same.
  ASSERT_EQ(from_grpc.settings_size(), 1);
  EXPECT_EQ(from_grpc.settings(0).key(), "vars.seed");
  ASSERT_FALSE(from_grpc.output_dir().empty());
  auto server_dir = from_grpc.output_dir();
  replace_in_strings(from_cli, from_cli.output_dir(), "<out>");
  replace_in_strings(from_grpc, server_dir, "<out>");
  clear_fields(from_cli, kRunDependent);
  clear_fields(from_grpc, kRunDependent);
  EXPECT_EQ(differences(from_cli, from_grpc), "");
}

}  // namespace
