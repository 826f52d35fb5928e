#pragma once

// The archive fixtures (tests/fixtures/make_archive_fixtures.py), generated once per build tree
// at test time. Concurrent test processes generate into private directories and rename: the
// first one wins, the others discard theirs.
#include "support/run_command.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>

namespace secmlops::test {

inline std::filesystem::path archive_fixture(const std::string& name) {
  static const std::filesystem::path dir = [] {
    namespace fs = std::filesystem;
    // The folder is named for the generator's content, so a build tree never keeps fixtures an
    // older generator made.
    const std::string script = SECMLOPS_SOURCE_DIR "/tests/fixtures/make_archive_fixtures.py";
    std::ifstream in(script, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::path d = fs::current_path() /
                 ("container-fixtures-" + std::to_string(std::hash<std::string>{}(text)));
    if (!fs::exists(d)) {
      fs::path tmp = d.string() + ".tmp-" + std::to_string(::getpid());
      auto r = run_command("/usr/bin/python3 " + script + " " + tmp.string());
      if (r.exit_code != 0) throw std::runtime_error("fixture generation failed");
      std::error_code ec;
      fs::rename(tmp, d, ec);
      if (ec) fs::remove_all(tmp, ec);
    }
    return d;
  }();
  return dir / name;
}

}  // namespace secmlops::test
