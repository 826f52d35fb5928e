// Pieces of secmlopsd tested without a server: path confinement, listener policy, tokens,
// CSV datasets, config files.
#include "auth.hpp"
#include "memory_trim.hpp"
#include "server_config.hpp"
#include "support/temp_dir.hpp"

#include "secmlops/host/csv.hpp"
#include "secmlops/host/path_guard.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace secmlops;
using secmlops::host::RootedPath;
using ::testing::HasSubstr;

TEST(PathGuard, InsideOutsideAndSymlinks) {
  test::TempDir t;
  auto root = t.path() / "root";
  auto file = t.write("root/models/a.pkl", "x");
  auto secret = t.write("secret.txt", "s");
  fs::create_symlink(secret, root / "escape");
  fs::create_symlink(t.path(), root / "up");
  fs::create_symlink(file, root / "alias.pkl");
  std::vector<fs::path> roots{root};

  auto ok = host::resolve_under_roots(roots, "models/a.pkl");
  EXPECT_EQ(ok.verdict, RootedPath::Verdict::inside);
  EXPECT_EQ(ok.path, fs::canonical(file));
  EXPECT_EQ(host::resolve_under_roots(roots, file.string()).verdict, RootedPath::Verdict::inside);
  EXPECT_EQ(host::resolve_under_roots(roots, "alias.pkl").verdict, RootedPath::Verdict::inside);
  EXPECT_EQ(host::resolve_under_roots(roots, "models/").verdict, RootedPath::Verdict::inside);

  for (std::string bad :
       {secret.string(), std::string("../secret.txt"), std::string("models/../../secret.txt"),
        std::string("escape"), std::string("up/secret.txt"), std::string("/etc/passwd"),
        std::string("")}) {
    auto r = host::resolve_under_roots(roots, bad);
    EXPECT_EQ(r.verdict, RootedPath::Verdict::outside) << bad;
  }
  EXPECT_THAT(host::resolve_under_roots(roots, "escape").reason, HasSubstr("symlink"));
  EXPECT_EQ(host::resolve_under_roots(roots, "missing.pkl").verdict,
            RootedPath::Verdict::not_found);
  EXPECT_EQ(host::resolve_under_roots({}, "models/a.pkl").verdict, RootedPath::Verdict::outside);
}

TEST(ListenerPolicy, AbstractSocketsNeedAnAllowList) {
  server::ServerConfig c;
  c.listen = {"unix-abstract:secmlops-test"};
  EXPECT_THAT(server::validate(c), HasSubstr("abstract unix socket"));
  c.abstract_socket_uids = {1000};
  EXPECT_EQ(server::validate(c), "");
}

TEST(ListenerPolicy, PlaintextOnlyLocal) {
  for (const char* a :
       {"unix:/tmp/x.sock", "127.0.0.1:1", "127.9.9.9:5", "[::1]:50051", "localhost:80"})
    EXPECT_TRUE(server::is_local_address(a)) << a;
  for (const char* a : {"0.0.0.0:1", "[::]:1", "10.0.0.1:443", "example.com:443", "128.0.0.1:1",
                        "unix-abstract:secmlops"})
    EXPECT_FALSE(server::is_local_address(a)) << a;

  server::ServerConfig c;
  c.listen = {"0.0.0.0:8443"};
  EXPECT_THAT(server::validate(c), HasSubstr("refusing plaintext"));
  c.tls_cert = "c.pem";
  c.tls_key = "k.pem";
  EXPECT_THAT(server::validate(c), HasSubstr("--token-file"));
  c.token_file = "tokens";
  EXPECT_EQ(server::validate(c), "");
  c = {};
  c.listen = {"0.0.0.0:8443"};
  c.allow_insecure_remote = true;
  EXPECT_EQ(server::validate(c), "");
  c = {};
  c.listen = {"127.0.0.1:0"};
  c.tls_client_ca = "ca.pem";
  EXPECT_THAT(server::validate(c), HasSubstr("mTLS"));
}

TEST(TokenAuth, AcceptsOnlyListedTokensAndRefusesLooseFiles) {
  test::TempDir t;
  auto f = t.write("tokens", "# comment\n\nfirst-token-0123456789\n  second-token-abcdefghij  \n");
  ::chmod(f.c_str(), 0600);
  auto auth = server::TokenAuth::from_file(f);
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.accepts("first-token-0123456789"));
  EXPECT_TRUE(auth.accepts("second-token-abcdefghij"));
  EXPECT_FALSE(auth.accepts("first-token-012345678"));
  EXPECT_FALSE(auth.accepts(""));
  ::chmod(f.c_str(), 0644);
  EXPECT_THROW(server::TokenAuth::from_file(f), std::runtime_error);
  auto shortf = t.write("short", "abc\n");
  ::chmod(shortf.c_str(), 0600);
  EXPECT_THROW(server::TokenAuth::from_file(shortf), std::runtime_error);
}

TEST(ConfigFile, ReadsKeysRelativeToFileAndRejectsUnknownOnes) {
  test::TempDir t;
  auto f =
      t.write("conf/secmlopsd.yaml",
              "listen: [\"unix:/tmp/a.sock\", \"127.0.0.1:0\"]\n"
              "tls_cert: certs/server.crt\nscan_roots: /srv/models\nthreads: 3\nreflection: false\n"
              "memory_trim_seconds: 0.5\n");
  server::ServerConfig c;
  server::load_config_file(f, c);
  EXPECT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.tls_cert, (t.path() / "conf/certs/server.crt").string());
  ASSERT_EQ(c.scan_roots.size(), 1u);
  EXPECT_EQ(c.scan_roots[0], "/srv/models");
  EXPECT_EQ(c.threads, 3u);
  EXPECT_FALSE(c.reflection);
  EXPECT_EQ(c.memory_trim_seconds, 0.5);
  server::ServerConfig negative;
  negative.listen = {"127.0.0.1:0"};
  EXPECT_EQ(server::validate(negative), "");
  negative.memory_trim_seconds = -1;
  EXPECT_THAT(server::validate(negative), HasSubstr("--memory-trim-seconds"));
  auto bad = t.write("bad.yaml", "listne: x\n");
  EXPECT_THROW(server::load_config_file(bad, c), std::runtime_error);
  auto badv = t.write("badv.yaml", "threads: many\n");
  EXPECT_THROW(server::load_config_file(badv, c), std::runtime_error);
}

TEST(MemoryTrimmer, TrimsOnlyWhenEnoughIsFree) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan replaces malloc: glibc's arenas are not in use";
#else
  EXPECT_FALSE(server::MemoryTrimmer::trim_if_worth_it(UINT64_MAX));
  // 4 MiB freed in 8 KiB holes between live blocks: free chunks glibc cannot return by itself
  // (only free space at the top of an arena goes back on free()).
  std::vector<std::unique_ptr<char[]> > blocks;
  for (int i = 0; i < 1024; ++i) {
    blocks.emplace_back(new char[8192]);
    std::memset(blocks.back().get(), 1, 8192);
  }
  for (size_t i = 0; i < blocks.size(); i += 2) blocks[i].reset();
  EXPECT_TRUE(server::MemoryTrimmer::trim_if_worth_it(1u << 20));
#endif
  // The periodic thread starts and stops promptly.
  auto start = std::chrono::steady_clock::now();
  {
    server::MemoryTrimmer trimmer(std::chrono::milliseconds(10), 1u << 20);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  { server::MemoryTrimmer disabled(std::chrono::milliseconds(0), 1u << 20); }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}
