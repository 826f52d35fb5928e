// The programs' entry points: whatever escapes a program's body (an allocation failure while it
// sets up, before its own error handling is in place) ends the process with a one-line message
// and exit 2, never with std::terminate's abort and core dump.
#pragma once

#include <cstdio>
#include <exception>

namespace secmlops::host {

template <typename Body>
int guarded_main(const char* program, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: unexpected error\n", program);
  }
  return 2;
}

}  // namespace secmlops::host
