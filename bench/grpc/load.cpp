// Starts secmlopsd on a unix socket and drives ScanUpload of a small pickle-like file from
// several client threads: reports p50/p90/p99 latency, throughput, and the server's RSS sampled
// from /proc during the run (after a warm-up) to show memory stays flat.
//   bench_grpc_load [--requests N] [--concurrency C] [--size BYTES] [--server-threads T]
//                   [--address ADDR (use a running server instead of starting one)]
#include "server/daemon.hpp"
#include "support/temp_dir.hpp"

#include "secmlops/v1/scan_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// A small protocol-4 pickle of a dict, as a model checkpoint's metadata might be.
std::string pickle_like(size_t size) {
  std::string s = "\x80\x04\x95";
  s += std::string("\x20\x00\x00\x00\x00\x00\x00\x00", 8);
  // Hex escapes are split from following letters ("\x05" "dense") so they stay one byte.
  s += "}\x94(\x8c\x05"
       "model\x94\x8c\x05"
       "dense\x94\x8c\x06"
       "layers\x94K\x03u.";
  while (s.size() < size) s += '\0';
  s.resize(size);
  return s;
}

uint64_t arg(int argc, char** argv, const char* name, uint64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::stoull(argv[i + 1]);
  return fallback;
}
std::string sarg(int argc, char** argv, const char* name, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace secmlops;
  const uint64_t requests = arg(argc, argv, "--requests", 100000);
  const uint64_t concurrency = arg(argc, argv, "--concurrency", 4);
  const uint64_t size = arg(argc, argv, "--size", 512);
  const uint64_t server_threads = arg(argc, argv, "--server-threads", 2);
  const uint64_t warmup = arg(argc, argv, "--warmup", 20000);
  std::string address = sarg(argc, argv, "--address", "");

  test::TempDir tmp;
  std::unique_ptr<test::Daemon> daemon;
  if (address.empty()) {
    std::vector<std::string> args{"--listen",    "unix:" + (tmp.path() / "bench.sock").string(),
                                  "--log-level", "error",
                                  "--threads",   std::to_string(server_threads)};
    std::string dirs = SECMLOPS_BENCH_PLUGIN_DIRS;
    for (size_t start = 0; start <= dirs.size();) {
      auto colon = dirs.find(':', start);
      auto d = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!d.empty()) args.insert(args.end(), {"--plugin-dir", d});
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    daemon = std::make_unique<test::Daemon>(SECMLOPSD, args, tmp.path() / "ready");
    if (!daemon->running()) {
      std::fprintf(stderr, "secmlopsd did not start (exit %d)\n", daemon->exit_code());
      return 1;
    }
    address = daemon->address(true);
  }

  const std::string payload = pickle_like(size);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (uint64_t i = 0; i < concurrency; ++i) {
    grpc::ChannelArguments ca;
    ca.SetInt("grpc.channel_id", static_cast<int>(i));  // one connection per client thread
    channels.push_back(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), ca));
  }

  std::atomic<uint64_t> next{0}, failures{0};
  std::vector<std::vector<double>> latencies(concurrency);
  std::mutex rss_mu;
  std::vector<std::tuple<uint64_t, uint64_t, size_t>> rss;  // (requests done, bytes, threads)
  const uint64_t total = warmup + requests;
  const uint64_t sample_every = std::max<uint64_t>(1, requests / 20);
  Clock::time_point measure_start{};
  std::atomic<bool> started{false};

  auto worker = [&](uint64_t id) {
    auto stub = v1::ScanService::NewStub(channels[id]);
    v1::UploadChunk chunk;
    chunk.set_name("bench.pkl");
    chunk.set_data(payload);
    for (;;) {
      uint64_t n = next.fetch_add(1);
      if (n >= total) return;
      if (n == warmup && !started.exchange(true)) measure_start = Clock::now();
      auto t0 = Clock::now();
      grpc::ClientContext ctx;
      v1::FileReport report;
      auto writer = stub->ScanUpload(&ctx, &report);
      writer->WriteLast(chunk, grpc::WriteOptions());
      auto status = writer->Finish();
      double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (!status.ok() || report.size() != payload.size()) ++failures;
      if (n >= warmup) {
        latencies[id].push_back(us);
        uint64_t done = n - warmup;
        if (daemon && done % sample_every == 0) {
          std::lock_guard lock(rss_mu);
          rss.emplace_back(done, daemon->rss_bytes(), daemon->thread_count());
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t i = 0; i < concurrency; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - measure_start).count();
  if (daemon) rss.emplace_back(requests, daemon->rss_bytes(), daemon->thread_count());

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::sort(rss.begin(), rss.end());
  std::printf(
      "ScanUpload of a %llu-byte file: %llu requests (after %llu warm-up), %llu client threads, "
      "%llu server workers\n",
      static_cast<unsigned long long>(size), static_cast<unsigned long long>(all.size()),
      static_cast<unsigned long long>(warmup), static_cast<unsigned long long>(concurrency),
      static_cast<unsigned long long>(server_threads));
  std::printf("latency us: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n", pct(0.5), pct(0.9), pct(0.99),
              all.empty() ? 0.0 : all.back());
  std::printf("throughput: %.0f RPC/s over %.2f s; failures: %llu\n",
              static_cast<double>(all.size()) / seconds, seconds,
              static_cast<unsigned long long>(failures.load()));
  if (!rss.empty()) {
    const double first = static_cast<double>(std::get<1>(rss.front()));
    const double last = static_cast<double>(std::get<1>(rss.back()));
    uint64_t lo = std::get<1>(rss.front()), hi = lo;
    size_t max_threads = 0;
    for (const auto& [n, bytes, threads] : rss) {
      lo = std::min(lo, bytes);
      hi = std::max(hi, bytes);
      max_threads = std::max(max_threads, threads);
      std::printf("  after %7llu requests: server RSS %.1f MiB, %zu threads\n",
                  static_cast<unsigned long long>(n), static_cast<double>(bytes) / 1048576.0,
                  threads);
    }
    std::printf("server RSS MiB: first %.1f  last %.1f  min %.1f  max %.1f  (last/first %+.1f%%); "
                "up to %zu threads\n",
                first / 1048576.0, last / 1048576.0, static_cast<double>(lo) / 1048576.0,
                static_cast<double>(hi) / 1048576.0, 100.0 * (last / first - 1.0), max_threads);
  }
  return failures.load() == 0 ? 0 : 1;
}
