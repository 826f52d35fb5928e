#include "progress.hpp"

#include "secmlops/host/printable.hpp"

#include <spdlog/fmt/fmt.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

namespace secmlops::cli {
namespace {

// Attacker-chosen names (files, models) are escaped before they reach the terminal.
using host::printable;

struct Printer {
  bool tty;
  bool plain_steps;
  std::mutex mu;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  size_t last_width = 0;

  void operator()(const v1::ProgressEvent& e) {
    std::lock_guard lock(mu);
    const bool boundary = e.phase() != "progress";
    if (tty) {
      std::string line;
      if (!e.step().empty()) line += "[" + printable(e.step(), 24) + "] ";
      line += e.phase() == "progress" ? e.kind() : e.phase();
      if (!e.item().empty()) line += " " + printable(e.item(), 60);
      if (e.eps() != 0) line += fmt::format(" eps {:g}", e.eps());
      if (e.total() > 0) {
        line += fmt::format(" {}/{}", e.done(), e.total());
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (e.done() > 0 && elapsed > 0) {
          const double rate = static_cast<double>(e.done()) / elapsed;
          line += fmt::format(" ({:.3g}/s, {:.0f}s left)", rate,
                              static_cast<double>(e.total() - e.done()) / rate);
        }
      } else if (e.done() > 0) {
        line += fmt::format(" {}", e.done());
      }
      if (!e.message().empty()) line += " — " + printable(e.message(), 60);
      std::string pad = line.size() < last_width ? std::string(last_width - line.size(), ' ') : "";
      std::fprintf(stderr, "\r%s%s", line.c_str(), pad.c_str());
      last_width = line.size();
      if (boundary && plain_steps && e.phase() != "started") {
        std::fputc('\n', stderr);
        last_width = 0;
      }
      std::fflush(stderr);
    } else if (plain_steps && boundary) {
      std::string line = fmt::format("{} {} {}", printable(e.step(), 40), e.kind(), e.phase());
      if (e.elapsed_seconds() > 0) line += fmt::format(" ({:.2f}s)", e.elapsed_seconds());
      if (!e.message().empty()) line += ": " + printable(e.message(), 200);
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }
  ~Printer() {
    if (tty && last_width > 0) std::fprintf(stderr, "\r%s\r", std::string(last_width, ' ').c_str());
  }
};

}  // namespace

std::function<void(const v1::ProgressEvent&)> progress_printer(bool plain_steps) {
  auto p = std::make_shared<Printer>();
  p->tty = ::isatty(STDERR_FILENO) != 0;
  p->plain_steps = plain_steps;
  if (!p->tty && !plain_steps) return {};
  return [p](const v1::ProgressEvent& e) { (*p)(e); };
}

}  // namespace secmlops::cli
