// Starts secmlopsd on a unix socket and drives ScanUpload of a small pickle-like file from
// several client threads: reports p50/p90/p99 latency, throughput, and whether the server's
// memory stays flat: its RSS (/proc/<pid>/status VmRSS) right after start-up and the first
// --settle requests is the baseline; every --sample-every requests after that it is sampled
// again, and the largest deviation from the baseline is reported in % (target: within 10%
// over 100,000 requests).
//   bench_grpc_load [--requests N (in total, default 100000)] [--settle S (default 1000)]
//                   [--sample-every K (default 1000)] [--concurrency C] [--size BYTES]
//                   [--server-threads T] [--address ADDR (a running server: no RSS)]
//                   [-- more secmlopsd flags, e.g. --memory-trim-seconds 0]
#include "server/daemon.hpp"
#include "support/temp_dir.hpp"

#include "secmlops/v1/scan_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// A small, valid protocol-2 pickle of a dict, as a model checkpoint's metadata might be:
// {"model": "dense", "layers": 3, "note": "xxx..."} with the note sized so the file has `size`
// bytes (at least the 53 of the other fields).
std::string small_pickle(size_t size) {
  auto unicode = [](const std::string& text) {  // BINUNICODE: 'X', 4-byte length, UTF-8
    std::string op = "X";
    for (int i = 0; i < 4; ++i) op += static_cast<char>((text.size() >> (8 * i)) & 0xff);
    return op + text;
  };
  const std::string head = "\x80\x02}(" + unicode("model") + unicode("dense") + unicode("layers") +
                           "K\x03" + unicode("note");
  const std::string tail = "u.";  // SETITEMS, STOP
  const size_t fixed = head.size() + 5 + tail.size();
  return head + unicode(std::string(size > fixed ? size - fixed : 0, 'x')) + tail;
}

uint64_t arg(int argc, char** argv, const char* name, uint64_t fallback) {
  for (int i = 1; i + 1 < argc && std::strcmp(argv[i], "--") != 0; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::stoull(argv[i + 1]);
  return fallback;
}
std::string sarg(int argc, char** argv, const char* name, std::string fallback) {
  for (int i = 1; i + 1 < argc && std::strcmp(argv[i], "--") != 0; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }

}  // namespace

int main(int argc, char** argv) {
  using namespace secmlops;
  const uint64_t requests = arg(argc, argv, "--requests", 100000);
  const uint64_t settle = std::min(requests, arg(argc, argv, "--settle", 1000));
  const uint64_t sample_every = std::max<uint64_t>(1, arg(argc, argv, "--sample-every", 1000));
  const uint64_t concurrency = arg(argc, argv, "--concurrency", 4);
  const uint64_t size = arg(argc, argv, "--size", 512);
  const uint64_t server_threads = arg(argc, argv, "--server-threads", 2);
  std::string address = sarg(argc, argv, "--address", "");

  test::TempDir tmp;
  std::unique_ptr<test::Daemon> daemon;
  if (address.empty()) {
    std::vector<std::string> args{"--listen",    "unix:" + (tmp.path() / "bench.sock").string(),
                                  "--log-level", "error",
                                  "--threads",   std::to_string(server_threads)};
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], "--") == 0) args.insert(args.end(), argv + i + 1, argv + argc);
    // A plugin directory holding exactly the bench's plugins (links to the built libraries).
    const auto plugin_dir = tmp.path() / "plugins";
    std::filesystem::create_directories(plugin_dir);
    std::string libs = SECMLOPS_BENCH_PLUGINS;
    for (size_t start = 0; start <= libs.size();) {
      auto colon = libs.find(':', start);
      std::filesystem::path lib =
          libs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!lib.empty()) std::filesystem::create_symlink(lib, plugin_dir / lib.filename());
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    args.insert(args.end(), {"--no-builtin-plugins", "--plugin-dir", plugin_dir.string()});
    daemon = std::make_unique<test::Daemon>(SECMLOPSD, args, tmp.path() / "ready");
    if (!daemon->running()) {
      std::fprintf(stderr, "secmlopsd did not start (exit %d)\n", daemon->exit_code());
      return 1;
    }
    address = daemon->address(true);
  }

  const std::string payload = small_pickle(size);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (uint64_t i = 0; i < concurrency; ++i) {
    grpc::ChannelArguments ca;
    ca.SetInt("grpc.channel_id", static_cast<int>(i));  // one connection per client thread
    channels.push_back(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), ca));
  }

  std::atomic<uint64_t> next{0}, failures{0};
  std::vector<std::vector<double>> latencies(concurrency);
  std::mutex rss_mu;
  // (requests done, bytes, threads); the first entry is the baseline after `settle` requests.
  std::vector<std::tuple<uint64_t, uint64_t, size_t>> rss;
  const std::string load_before = load_average();
  std::string first_report;
  Clock::time_point measure_start = Clock::now();

  auto worker = [&](uint64_t id) {
    auto stub = v1::ScanService::NewStub(channels[id]);
    v1::UploadChunk chunk;
    chunk.set_name("bench.pkl");
    chunk.set_data(payload);
    for (;;) {
      uint64_t n = next.fetch_add(1);
      if (n >= requests) return;
      auto t0 = Clock::now();
      grpc::ClientContext ctx;
      v1::FileReport report;
      auto writer = stub->ScanUpload(&ctx, &report);
      writer->WriteLast(chunk, grpc::WriteOptions());
      auto status = writer->Finish();
      double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (!status.ok() || report.size() != payload.size()) ++failures;
      if (n == 0) {  // what the server did with the file, to show the pickle scanner ran
        for (const auto& st : report.streams())
          first_report +=
              st.scanner() + " (" + st.format() + ", " + v1::FileStatus_Name(st.status()) + ") ";
        first_report += std::to_string(report.findings_size()) + " findings";
      }
      const uint64_t done = n + 1;
      if (done > settle) latencies[id].push_back(us);
      if (done == settle) measure_start = Clock::now();
      if (daemon && done >= settle && (done == settle || (done - settle) % sample_every == 0)) {
        std::lock_guard lock(rss_mu);
        rss.emplace_back(done, daemon->rss_bytes(), daemon->thread_count());
      }
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t i = 0; i < concurrency; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - measure_start).count();
  const std::string load_after = load_average();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::sort(rss.begin(), rss.end());
  std::printf(
      "ScanUpload of a %llu-byte file: %llu requests, %llu client threads, %llu server workers\n",
      static_cast<unsigned long long>(size), static_cast<unsigned long long>(requests),
      static_cast<unsigned long long>(concurrency),
      static_cast<unsigned long long>(server_threads));
  std::printf("first report: %s\n", first_report.c_str());
  std::printf("load average (1/5/15 min): %s at start, %s at end\n", load_before.c_str(),
              load_after.c_str());
  std::printf("latency us (requests %llu..%llu): p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n",
              static_cast<unsigned long long>(settle + 1),
              static_cast<unsigned long long>(requests), pct(0.5), pct(0.9), pct(0.99),
              all.empty() ? 0.0 : all.back());
  std::printf("throughput: %.0f RPC/s over %.2f s; failures: %llu\n",
              static_cast<double>(all.size()) / seconds, seconds,
              static_cast<unsigned long long>(failures.load()));
  if (!rss.empty()) {
    const uint64_t base = std::get<1>(rss.front());
    uint64_t lo = base, hi = base;
    size_t max_threads = 0;
    double worst = 0;  // largest |deviation| from the baseline, in %
    std::printf("server RSS MiB, every %llu requests after the first %llu (baseline first):",
                static_cast<unsigned long long>(sample_every),
                static_cast<unsigned long long>(settle));
    for (size_t i = 0; i < rss.size(); ++i) {
      const auto& [n, bytes, threads] = rss[i];
      lo = std::min(lo, bytes);
      hi = std::max(hi, bytes);
      max_threads = std::max(max_threads, threads);
      const double dev = 100.0 * (static_cast<double>(bytes) / static_cast<double>(base) - 1.0);
      if (std::abs(dev) > std::abs(worst)) worst = dev;
      std::printf("%s %.1f", i % 20 == 0 ? "\n " : "", mib(bytes));
    }
    std::printf(
        "\nserver RSS: baseline %.1f MiB after start-up + %llu requests; over requests "
        "%llu..%llu min %.1f max %.1f MiB, max deviation %+.1f%% (target within 10%%); "
        "up to %zu threads\n",
        mib(base), static_cast<unsigned long long>(settle),
        static_cast<unsigned long long>(settle + 1), static_cast<unsigned long long>(requests),
        mib(lo), mib(hi), worst, max_threads);
  }
  return failures.load() == 0 ? 0 : 1;
}
