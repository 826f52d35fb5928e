// Two halves of one job at once: one on a helper thread, one on the caller's.
#pragma once

#include <exception>
#include <system_error>
#include <thread>

namespace secmlops::host {

// Runs `helper` on a second thread while `own` runs on the caller's, and returns when both are
// done. The helper's thread is joined on every path, so both may use the caller's locals. An
// error of `own` reaches the caller as is (the helper still finishes first); an error of `helper`
// is rethrown on the caller's thread once `own` has finished, never ending the process. When no
// thread can be started (a process or memory limit), `helper` runs on the caller after `own`:
// slower, never a failure.
template <class Helper, class Own>
void run_beside(Helper&& helper, Own&& own) {
  std::exception_ptr helper_failed;
  std::jthread thread;
  try {
    thread = std::jthread([&] {
      try {
        helper();
      } catch (...) {
        helper_failed = std::current_exception();
      }
    });
  } catch (const std::system_error&) {
    own();
    helper();
    return;
  }
  own();
  thread.join();
  if (helper_failed) std::rethrow_exception(helper_failed);
}

}  // namespace secmlops::host
