// secmlopsd as clients see it: security, limits, cancellation, concurrency and plugin failures.
#include "daemon.hpp"
#include "support/scoped_env.hpp"
#include "support/temp_dir.hpp"

#include "secmlops/v1/model_service.grpc.pb.h"
#include "secmlops/v1/plugin_service.grpc.pb.h"
#include "secmlops/v1/scan_service.grpc.pb.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace secmlops;
using ::testing::HasSubstr;

namespace {

constexpr const char* kToken = "gtest-token-0123456789abcdef";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Raw bytes of a message in a ByteBuffer.
std::string bytes_of(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> slices;
  (void)b.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Waits for one completion-queue event; true when the operation succeeded.
bool next(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

class Live : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}, bool tls = false, bool mtls = false,
             bool token = false) {
    root_ = tmp_.path() / "root";
    fs::create_directories(root_);
    std::vector<std::string> args{"--plugin-dir",    SECMLOPS_FIXTURE_PLUGIN_DIR,
                                  "--scan-root",     root_.string(),
                                  "--log-level",     "warn",
                                  "--drain-seconds", "2",
                                  "--listen",        "unix:" + (tmp_.path() / "api.sock").string()};
    if (tls || token) args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    if (tls || mtls) {
      std::string cmd =
          std::string("bash ") + SECMLOPS_CERT_SCRIPT + " " + (tmp_.path() / "certs").string();
      ASSERT_EQ(std::system(cmd.c_str()), 0);
      args.insert(args.end(), {"--tls-cert", cert("server.crt"), "--tls-key", cert("server.key")});
    }
    if (mtls) args.insert(args.end(), {"--tls-client-ca", cert("ca.crt")});
    if (token) {
      auto f = tmp_.write("tokens", std::string(kToken) + "\n");
      ::chmod(f.c_str(), 0600);
      args.insert(args.end(), {"--token-file", f.string()});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_ = std::make_unique<test::Daemon>(SECMLOPSD, args, tmp_.path() / "ready");
    ASSERT_TRUE(daemon_->running());
  }
  std::string cert(const std::string& name) const {
    return (tmp_.path() / "certs" / name).string();
  }
  std::shared_ptr<grpc::Channel> unix_channel() const {
    return grpc::CreateChannel(daemon_->address(true), grpc::InsecureChannelCredentials());
  }
  std::shared_ptr<grpc::Channel> tls_channel(bool client_cert,
                                             const std::string& prefix = "") const {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = slurp(cert("ca.crt"));
    if (client_cert) {
      o.pem_private_key = slurp(cert(prefix + "client.key"));
      o.pem_cert_chain = slurp(cert(prefix + "client.crt"));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(daemon_->address(false), grpc::SslCredentials(o), args);
  }
  static grpc::Status list_plugins(const std::shared_ptr<grpc::Channel>& ch, const char* token,
                                   v1::PluginList* out = nullptr) {
    auto stub = v1::PluginService::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (token) ctx.AddMetadata("authorization", std::string("Bearer ") + token);
    v1::PluginList list;
    auto s = stub->ListPlugins(&ctx, v1::ListPluginsRequest{}, &list);
    if (out) *out = list;
    return s;
  }
  static grpc::Status upload(v1::ScanService::Stub& stub, const std::string& name,
                             const std::string& data, v1::FileReport* report,
                             size_t chunk = 64 * 1024) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto writer = stub.ScanUpload(&ctx, report);
    v1::UploadChunk c;
    c.set_name(name);
    size_t off = 0;
    do {
      c.set_data(data.substr(off, chunk));
      off += chunk;
      if (!writer->Write(c)) break;
      c.clear_name();
    } while (off < data.size());
    writer->WritesDone();
    return writer->Finish();
  }

  test::TempDir tmp_;
  fs::path root_;
  std::unique_ptr<test::Daemon> daemon_;
};

TEST_F(Live, TokensAreCheckedOnEveryListener) {
  start({}, /*tls=*/true, /*mtls=*/false, /*token=*/true);
  v1::PluginList list;
  EXPECT_TRUE(list_plugins(tls_channel(false), kToken, &list).ok());
  EXPECT_FALSE(list.plugins().empty());
  for (const auto& ch : {tls_channel(false), unix_channel()}) {
    EXPECT_EQ(list_plugins(ch, nullptr).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(list_plugins(ch, "gtest-token-0123456789abcdeX").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_TRUE(list_plugins(ch, kToken).ok());
  }
  auto stub = v1::ScanService::NewStub(unix_channel());
  v1::FileReport r;
  EXPECT_EQ(upload(*stub, "x", "EVIL", &r).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(Live, MutualTlsRefusesClientsWithoutAcceptedCertificate) {
  start({}, true, /*mtls=*/true, /*token=*/true);
  EXPECT_EQ(list_plugins(tls_channel(false), kToken).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(list_plugins(tls_channel(true, "other-"), kToken).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(list_plugins(tls_channel(true), kToken).ok());
}

TEST_F(Live, OversizedMessageIsResourceExhausted) {
  start({"--max-message-bytes", "65536"});
  auto stub = v1::ScanService::NewStub(unix_channel());
  v1::FileReport r;
  auto s = upload(*stub, "big", std::string(100000, 'A'), &r, 100000);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(upload(*stub, "ok", std::string(100000, 'A'), &r, 16000).ok());
}

TEST_F(Live, PathsEscapingTheRootsAreDenied) {
  start();
  auto outside = tmp_.write("outside/evil.bin", "EVIL");
  fs::create_symlink(outside, root_ / "link.bin");
  auto stub = v1::ScanService::NewStub(unix_channel());
  for (std::string p :
       {outside.string(), std::string("../outside/evil.bin"), std::string("link.bin")}) {
    grpc::ClientContext ctx;
    v1::ScanRequest req;
    req.add_paths(p);
    auto reader = stub->Scan(&ctx, req);
    v1::FileReport r;
    EXPECT_FALSE(reader->Read(&r));
    auto s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << p;
    EXPECT_THAT(s.error_message(), HasSubstr(p));
  }
}

TEST_F(Live, CancellingAScanStopsItPromptly) {
  start({"--threads", "1"});
  tmp_.write("root/slow.bin", "SLOW and steady");
  auto stub = v1::ScanService::NewStub(unix_channel());
  grpc::ClientContext ctx;
  v1::ScanRequest req;
  req.add_paths("slow.bin");
  auto reader = stub->Scan(&ctx, req);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ctx.TryCancel();
  });
  v1::FileReport r;
  EXPECT_FALSE(reader->Read(&r));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  canceller.join();
  // The only worker is free again well before the slow scanner's 30 s.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(upload(*stub, "after", "EVIL", &r).ok());
  EXPECT_EQ(r.findings_size(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(Live, ManyConcurrentClients) {
  start({"--threads", "2"});
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 24; ++i)
    clients.emplace_back([&, i] {
      auto stub = v1::ScanService::NewStub(unix_channel());
      for (int j = 0; j < 20; ++j) {
        v1::FileReport r;
        bool evil = (i + j) % 3 == 0;
        auto s = upload(*stub, "c", evil ? "EVIL" : "GOOD", &r);
        if (s.ok() && r.findings_size() == (evil ? 1 : 0))
          ++ok;
        else
          ++wrong;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 24 * 20);
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(Live, PluginExceptionBecomesAReportAndTheServerStaysUp) {
  start();
  tmp_.write("root/crash.bin", "CRASH!");
  auto stub = v1::ScanService::NewStub(unix_channel());
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    v1::ScanRequest req;
    req.add_paths("crash.bin");
    auto reader = stub->Scan(&ctx, req);
    v1::FileReport r;
    ASSERT_TRUE(reader->Read(&r));
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_TRUE(r.status() == v1::PARTIAL || r.status() == v1::ERROR) << r.DebugString();
  }
  EXPECT_TRUE(list_plugins(unix_channel(), nullptr).ok());
}

TEST_F(Live, SigtermExitsCleanly) {
  start();
  EXPECT_TRUE(list_plugins(unix_channel(), nullptr).ok());
  EXPECT_EQ(daemon_->stop(), 0);
}

// The standard services are called through a generic stub with hand-encoded messages, so the
// test needs no copy of their schemas.
TEST_F(Live, HealthCheckIsServing) {
  start();
  grpc::GenericStub stub(unix_channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  grpc::Slice check_all(std::string("\x0a\x00", 2));  // HealthCheckRequest{service: ""}
  grpc::ByteBuffer request(&check_all, 1), response;
  auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, nullptr);
  ASSERT_TRUE(next(cq));
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(bytes_of(response), std::string("\x08\x01", 2));  // status: SERVING
}

TEST_F(Live, ReflectionListsTheServices) {
  start();
  grpc::GenericStub stub(unix_channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(nullptr);
  ASSERT_TRUE(next(cq));
  grpc::Slice list_services(std::string("\x3a\x00", 2));  // list_services: ""
  grpc::ByteBuffer request(&list_services, 1), response;
  call->Write(request, nullptr);
  ASSERT_TRUE(next(cq));
  call->Read(&response, nullptr);
  ASSERT_TRUE(next(cq));
  auto raw = bytes_of(response);
  for (const char* service :
       {"secmlops.v1.PluginService", "secmlops.v1.ScanService", "secmlops.v1.ModelService",
        "secmlops.v1.AttackService", "grpc.health.v1.Health"})
    EXPECT_THAT(raw, HasSubstr(service));
  call->WritesDone(nullptr);
  ASSERT_TRUE(next(cq));
  grpc::Status status;
  call->Finish(&status, nullptr);
  ASSERT_TRUE(next(cq));
}

TEST(LiveRefusal, PlaintextOnAPublicAddressDoesNotStart) {
  test::TempDir t;
  test::Daemon d(SECMLOPSD, {"--plugin-dir", SECMLOPS_FIXTURE_PLUGIN_DIR, "--listen", "0.0.0.0:0"},
                 t.path() / "ready");
  EXPECT_FALSE(d.running());
  EXPECT_EQ(d.exit_code(), 2);
}

// ---- hostile clients, hostile files, hostile plugins ----

// A health check over a fresh channel: SERVING within 5 s.
bool serving(const std::shared_ptr<grpc::Channel>& ch) {
  grpc::GenericStub stub(ch);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice check_all(std::string("\x0a\x00", 2));
  grpc::ByteBuffer request(&check_all, 1), response;
  auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, nullptr);
  return next(cq) && status.ok() && bytes_of(response) == std::string("\x08\x01", 2);
}

grpc::ByteBuffer buffer_of(const std::string& bytes) {
  grpc::Slice s(bytes);
  return grpc::ByteBuffer(&s, 1);
}

TEST_F(Live, MalformedChunkIsInvalidArgumentNotATruncatedScan) {
  start();
  grpc::GenericStub stub(unix_channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call = stub.PrepareCall(&ctx, "/secmlops.v1.ScanService/ScanUpload", &cq);
  call->StartCall(nullptr);
  ASSERT_TRUE(next(cq));
  v1::UploadChunk first, payload;
  first.set_name("evil.bin");
  payload.set_data("EVIL payload after the broken chunk");
  // Field 1 (name) declared 127 bytes long with 2 present: not a decodable UploadChunk.
  for (const std::string& bytes : {first.SerializeAsString(), std::string("\x0a\x7f\x01\x02", 4),
                                   payload.SerializeAsString()}) {
    call->Write(buffer_of(bytes), nullptr);
    if (!next(cq)) break;
  }
  call->WritesDone(nullptr);
  next(cq);
  grpc::Status status;
  call->Finish(&status, nullptr);
  ASSERT_TRUE(next(cq));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("#2"));
}

TEST_F(Live, StalledUploadsStayWithinTheBudgetAndTimeOut) {
  {
    test::ScopedEnv env;  // what the daemon starts with
#if defined(__SANITIZE_ADDRESS__)
    // ASan keeps freed blocks in a quarantine (256 MB by default) before reusing them, which the
    // server's RSS would count as if the uploads' buffers were still held: that daemon runs
    // without it, so the RSS below measures what the server keeps, as without the sanitizer.
    env.set("ASAN_OPTIONS", env.original("ASAN_OPTIONS").value_or("") + ":quarantine_size_mb=0");
#endif
    start({"--threads", "2", "--max-concurrent-uploads", "64", "--upload-memory-bytes", "16777216",
           "--upload-disk-bytes", "33554432", "--upload-idle-seconds", "3", "--upload-spill-bytes",
           "262144"});
  }
  const uint64_t rss_before = daemon_->rss_bytes();
  auto ch = unix_channel();
  auto stub = v1::ScanService::NewStub(ch);
  struct Stalled {
    grpc::ClientContext ctx;
    v1::FileReport report;
    std::unique_ptr<grpc::ClientWriter<v1::UploadChunk>> writer;
  };
  std::vector<std::unique_ptr<Stalled>> stalled;
  v1::UploadChunk c;
  c.set_name("stalled");
  c.set_data(std::string(200 * 1024, 'x'));
  for (int i = 0; i < 500; ++i) {
    auto s = std::make_unique<Stalled>();
    s->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    s->writer = stub->ScanUpload(&s->ctx, &s->report);
    s->writer->Write(c);
    stalled.push_back(std::move(s));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Health and scans are still answered while 500 uploads hang.
  EXPECT_TRUE(serving(unix_channel()));
  const uint64_t rss_during = daemon_->rss_bytes();
  EXPECT_LT(rss_during, rss_before + (160u << 20)) << "RSS " << rss_before << " -> " << rss_during;
  int exhausted = 0, idle = 0, other = 0;
  for (auto& s : stalled) {
    auto status = s->writer->Finish();
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
      ++exhausted;
    else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      ++idle;
    else
      ++other;
  }
  EXPECT_GE(exhausted, 500 - 64);
  EXPECT_GE(idle, 1);
  EXPECT_EQ(other, 0);
  // Everything is released: a fresh upload is scanned.
  v1::FileReport r;
  auto s = upload(*stub, "after", "EVIL", &r);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.findings_size(), 1);
}

TEST_F(Live, HostilePluginsBecomePerFileErrorsAndTheServerLives) {
  start({"--plugin-dir", SECMLOPS_HOSTILE_PLUGIN_DIR, "--seconds-per-file", "2"});
  auto stub = v1::ScanService::NewStub(unix_channel());
  for (std::string word : {"segv", "abort", "loop", "passwd", "socket", "alloc"}) {
    v1::FileReport r;
    auto s = upload(*stub, word, "HOSTILE " + word + std::string(6 - word.size(), ' '), &r);
    ASSERT_TRUE(s.ok()) << word << ": " << s.error_message();
    ASSERT_GE(r.findings_size(), 1) << word;
    if (word == "passwd") {  // refused and reported, the scan goes on
      EXPECT_EQ(r.findings(r.findings_size() - 1).rule_id(), "HOST-SANDBOX-OPEN");
    } else {
      EXPECT_NE(r.status(), v1::SCANNED) << word;
      EXPECT_FALSE(r.error().empty()) << word;
    }
    EXPECT_EQ(r.findings(0).rule_id(), "FIXTURE-HOSTILE");
    for (const auto& f : r.findings()) EXPECT_NE(f.rule_id(), "FIXTURE-LEAK") << word;
  }
  v1::FileReport r;
  ASSERT_TRUE(upload(*stub, "after", "EVIL", &r).ok());
  EXPECT_EQ(r.findings_size(), 1);
  EXPECT_TRUE(serving(unix_channel()));
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(Live, FifoDeviceAndTruncatedFileInARoot) {
  start({"--plugin-dir", SECMLOPS_HOSTILE_PLUGIN_DIR, "--threads", "2"});
  ASSERT_EQ(::mkfifo((root_ / "a.fifo").c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", root_ / "b.dev");
  auto big = tmp_.write("root/c.bin", "HOSTILE bus   " + std::string(8 << 20, 'x'));
  tmp_.write("root/d.bin", "EVIL");
  auto stub = v1::ScanService::NewStub(unix_channel());
  std::thread truncator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    ::truncate(big.c_str(), 0);
  });
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ScanRequest req;
  req.add_paths(".");
  auto reader = stub->Scan(&ctx, req);
  std::map<std::string, v1::FileReport> seen;
  for (v1::FileReport r; reader->Read(&r);) seen[fs::path(r.path()).filename()] = r;
  EXPECT_TRUE(reader->Finish().ok());
  truncator.join();
  EXPECT_EQ(seen["a.fifo"].status(), v1::SKIPPED);
  EXPECT_EQ(seen["b.dev"].status(), v1::SKIPPED);
  EXPECT_EQ(seen["c.bin"].status(), v1::ERROR);
  EXPECT_THAT(seen["c.bin"].error(), HasSubstr("SIGBUS"));
  EXPECT_EQ(seen["d.bin"].findings_size(), 1);
  // Both workers are free.
  for (int i = 0; i < 2; ++i) {
    v1::FileReport r;
    EXPECT_TRUE(upload(*stub, "after", "EVIL", &r).ok());
  }
}

TEST_F(Live, NanAndInfinityAreRefusedByEveryMatrixOperation) {
  start();
  auto stub = v1::ModelService::NewStub(unix_channel());
  v1::TrainRequest train;
  train.set_plugin("fixture-model");
  train.set_test_size(0);
  auto* x = train.mutable_features();
  x->set_rows(4);
  x->set_cols(1);
  for (double v : {-2.0, -1.0, 1.0, 2.0}) x->add_values(v);
  for (int y : {0, 0, 1, 1}) train.add_labels(y);
  v1::TrainResponse trained;
  {
    grpc::ClientContext ctx;
    auto s = stub->Train(&ctx, train, &trained);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    v1::PredictRequest p;
    p.set_model_id(trained.model().id());
    p.mutable_features()->set_rows(2);
    p.mutable_features()->set_cols(1);
    p.mutable_features()->add_values(1.0);
    p.mutable_features()->add_values(bad);
    v1::PredictResponse out;
    grpc::ClientContext ctx;
    auto s = stub->Predict(&ctx, p, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("row 1, column 0"));
  }
}

TEST_F(Live, RefusedScannerConfigurationIsInvalidArgument) {
  start();
  tmp_.write("root/x.bin", "EVIL");
  auto stub = v1::ScanService::NewStub(unix_channel());
  grpc::ClientContext ctx;
  v1::ScanRequest req;
  req.add_paths("x.bin");
  auto* kv = req.mutable_options()->add_scanner_config();
  kv->set_key("severity");
  kv->set_value("bogus");
  auto reader = stub->Scan(&ctx, req);
  v1::FileReport r;
  EXPECT_FALSE(reader->Read(&r));
  auto s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("severity"));
}

TEST_F(Live, UnknownScannerOptionIsRefusedWithTheValidOnes) {
  // Only a scanner that declares its options (ABI 1.3): a misspelt key is refused by name.
  auto plugins = tmp_.path() / "declaring";
  fs::create_directories(plugins);
  fs::copy_file(fs::path(SECMLOPS_FIXTURE_PLUGIN_DIR) / "secmlops_fixture-c.so",
                plugins / "secmlops_fixture-c.so");
  root_ = tmp_.path() / "root";
  fs::create_directories(root_);
  tmp_.write("root/x.bin", "anything");
  daemon_ = std::make_unique<test::Daemon>(
      SECMLOPSD,
      std::vector<std::string>{"--no-builtin-plugins", "--plugin-dir", plugins.string(),
                               "--scan-root", root_.string(), "--log-level", "warn", "--listen",
                               "unix:" + (tmp_.path() / "api.sock").string()},
      tmp_.path() / "ready");
  ASSERT_TRUE(daemon_->running());
  auto stub = v1::ScanService::NewStub(unix_channel());
  for (auto [key, want] : {std::pair<std::string, std::string>{
                               "fixture.levle", "unknown scanner option 'fixture.levle'"},
                           {"fixture.level", "must be an integer"}}) {
    grpc::ClientContext ctx;
    v1::ScanRequest req;
    req.add_paths("x.bin");
    auto* kv = req.mutable_options()->add_scanner_config();
    kv->set_key(key);
    kv->set_value("high");
    auto reader = stub->Scan(&ctx, req);
    v1::FileReport r;
    EXPECT_FALSE(reader->Read(&r));
    auto s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << key;
    EXPECT_THAT(s.error_message(), HasSubstr(want));
    if (key == "fixture.levle") {
      EXPECT_THAT(s.error_message(), HasSubstr("fixture.level (integer, fixture-c)"));
    }
  }
}

TEST_F(Live, ReportsShowPathsAsTheClientNamedThem) {
  start();
  tmp_.write("root/sub/a.bin", "EVIL");
  tmp_.write("root/sub/b.bin", "nothing to see");
  ASSERT_EQ(::mkfifo((root_ / "sub" / "c.fifo").c_str(), 0600), 0);
  const std::string server_root = fs::canonical(root_).string();
  const std::string prefixed = (root_ / "sub" / "a.bin").string();
  auto stub = v1::ScanService::NewStub(unix_channel());
  v1::ScanRequest req;
  req.add_paths("sub");
  req.add_paths("./sub/a.bin");
  req.add_paths(prefixed);
  std::vector<v1::FileReport> streamed;
  {
    grpc::ClientContext ctx;
    auto reader = stub->Scan(&ctx, req);
    for (v1::FileReport r; reader->Read(&r);) streamed.push_back(r);
    ASSERT_TRUE(reader->Finish().ok());
  }
  v1::ScanReport whole;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Report(&ctx, req, &whole).ok());
  }
  ASSERT_EQ(streamed.size(), 5u);
  ASSERT_EQ(whole.files_size(), 5);
  const std::vector<std::string> want = {"sub/a.bin", "sub/b.bin", "sub/c.fifo", "./sub/a.bin",
                                         prefixed};
  for (size_t i = 0; i < want.size(); ++i) {
    for (const v1::FileReport* r :
         {static_cast<const v1::FileReport*>(&streamed[i]), &whole.files(static_cast<int>(i))}) {
      EXPECT_EQ(r->path(), want[i]);
      for (const auto& f : r->findings()) EXPECT_EQ(f.location().file(), want[i]);
      // Nothing of the server's layout but what the client itself sent.
      if (i < 4) {
        EXPECT_EQ(r->SerializeAsString().find(server_root), std::string::npos)
            << r->ShortDebugString();
      }
    }
  }
  EXPECT_EQ(whole.files(0).findings_size(), 1);
  EXPECT_EQ(whole.files(2).status(), v1::SKIPPED);
}

TEST_F(Live, ModelsBelongToTheTokenThatCreatedThem) {
  const std::string alice = "alice-token-0123456789abcdef", bob = "bob-token-0123456789abcdef";
  auto f = tmp_.write("two-tokens", alice + "\n" + bob + "\n");
  ::chmod(f.c_str(), 0600);
  start({"--token-file", f.string()});
  auto stub = v1::ModelService::NewStub(unix_channel());
  auto as = [](grpc::ClientContext& ctx, const std::string& token) {
    ctx.AddMetadata("authorization", "Bearer " + token);
  };
  v1::TrainRequest train;
  train.set_plugin("fixture-model");
  train.set_test_size(0);
  train.mutable_features()->set_rows(2);
  train.mutable_features()->set_cols(1);
  train.mutable_features()->add_values(-1);
  train.mutable_features()->add_values(1);
  train.add_labels(0);
  train.add_labels(1);
  v1::TrainResponse trained;
  {
    grpc::ClientContext ctx;
    as(ctx, alice);
    ASSERT_TRUE(stub->Train(&ctx, train, &trained).ok());
  }
  v1::ModelRef ref;
  ref.set_model_id(trained.model().id());
  {
    grpc::ClientContext ctx;
    as(ctx, bob);
    v1::DescribeResponse d;
    EXPECT_EQ(stub->Describe(&ctx, ref, &d).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    as(ctx, bob);
    v1::DeleteModelResponse d;
    EXPECT_EQ(stub->Delete(&ctx, ref, &d).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  for (const auto& [token, n] : {std::pair{bob, 0}, std::pair{alice, 1}}) {
    grpc::ClientContext ctx;
    as(ctx, token);
    v1::ListModelsResponse list;
    ASSERT_TRUE(stub->List(&ctx, v1::ListModelsRequest{}, &list).ok());
    EXPECT_EQ(list.models_size(), n);
  }
  {
    grpc::ClientContext ctx;
    as(ctx, alice);
    v1::DescribeResponse d;
    EXPECT_TRUE(stub->Describe(&ctx, ref, &d).ok());
  }
}

TEST_F(Live, FileNamesThatAreNotUtf8DoNotBreakTheStream) {
  start();
  tmp_.write(std::string("root/bad\xff\xfe name.bin"), "EVIL");
  tmp_.write("root/z.bin", "EVIL");
  auto stub = v1::ScanService::NewStub(unix_channel());
  grpc::ClientContext ctx;
  v1::ScanRequest req;
  req.add_paths(".");
  auto reader = stub->Scan(&ctx, req);
  std::vector<v1::FileReport> got;
  for (v1::FileReport r; reader->Read(&r);) got.push_back(r);
  auto s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0].path(), HasSubstr("bad\\xff\\xfe name.bin"));
  EXPECT_EQ(got[0].findings_size(), 1);
  EXPECT_EQ(got[1].findings_size(), 1);
  // UploadChunk.name is a proto3 string: a name that is not UTF-8 is an undecodable chunk.
  v1::FileReport r;
  EXPECT_EQ(upload(*stub, std::string("up\xc3\x28.bin"), "EVIL", &r).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(upload(*stub, "after.bin", "EVIL", &r).ok());
}

TEST_F(Live, PluginDirAddsToTheBuiltInPlugins) {
  start();
  v1::PluginList list;
  ASSERT_TRUE(list_plugins(unix_channel(), nullptr, &list).ok());
  std::set<std::string> names;
  for (const auto& p : list.plugins()) names.insert(p.name());
  EXPECT_TRUE(names.count("fixture-magic"));
  EXPECT_TRUE(names.count("pickle")) << "built-in plugins are kept next to --plugin-dir";
}

TEST(LiveRefusal, TlsKeyThatDoesNotMatchTheCertificateIsNamed) {
  test::TempDir t;
  std::string cmd =
      std::string("bash ") + SECMLOPS_CERT_SCRIPT + " " + (t.path() / "certs").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto log = t.path() / "log";
  auto tokens = t.write("tokens", std::string(kToken) + "\n");
  ::chmod(tokens.c_str(), 0600);
  std::string run = std::string(SECMLOPSD) + " --plugin-dir " + SECMLOPS_FIXTURE_PLUGIN_DIR +
                    " --listen 127.0.0.1:0 --token-file " + tokens.string() + " --tls-cert " +
                    (t.path() / "certs/server.crt").string() + " --tls-key " +
                    (t.path() / "certs/client.key").string() + " 2>" + log.string();
  int status = std::system(run.c_str());
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(slurp(log), HasSubstr("does not match the certificate"));
}

TEST(LiveRefusal, AbstractSocketsOnlyForAllowedUids) {
  test::TempDir t;
  std::string name = "secmlops-test-" + std::to_string(::getpid());
  {
    test::Daemon d(
        SECMLOPSD,
        {"--plugin-dir", SECMLOPS_FIXTURE_PLUGIN_DIR, "--listen", "unix-abstract:" + name},
        t.path() / "ready");
    EXPECT_FALSE(d.running());
    EXPECT_EQ(d.exit_code(), 2);
  }
  auto call = [&](const std::string& uid) {
    test::Daemon d(SECMLOPSD,
                   {"--plugin-dir", SECMLOPS_FIXTURE_PLUGIN_DIR, "--listen",
                    "unix-abstract:" + name, "--abstract-socket-uid", uid},
                   t.path() / "ready");
    EXPECT_TRUE(d.running());
    auto ch = grpc::CreateChannel("unix-abstract:" + name, grpc::InsecureChannelCredentials());
    auto stub = v1::PluginService::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    v1::PluginList list;
    return stub->ListPlugins(&ctx, v1::ListPluginsRequest{}, &list);
  };
  EXPECT_TRUE(call(std::to_string(::getuid())).ok());
  EXPECT_FALSE(call(std::to_string(::getuid() + 4242)).ok());
}

}  // namespace
