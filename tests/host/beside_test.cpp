#include "secmlops/host/beside.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace secmlops::host {
namespace {

TEST(RunBeside, RunsTheHelperOnAnotherThreadAndBothToTheEnd) {
  std::thread::id helper_id, own_id;
  run_beside([&] { helper_id = std::this_thread::get_id(); },
             [&] { own_id = std::this_thread::get_id(); });
  EXPECT_EQ(own_id, std::this_thread::get_id());
  EXPECT_NE(helper_id, std::thread::id());
  EXPECT_NE(helper_id, own_id);
}

TEST(RunBeside, TheHelpersErrorReachesTheCallerAfterItsOwnHalf) {
  bool own_done = false;
  try {
    run_beside([] { throw std::runtime_error("helper: row 7"); }, [&] { own_done = true; });
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "helper: row 7");
  }
  EXPECT_TRUE(own_done);
}

TEST(RunBeside, TheCallersErrorWinsAndTheHelperHasFinishedBeforeItArrives) {
  std::atomic<bool> helper_done{false};
  try {
    run_beside(
        [&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          helper_done = true;
          throw std::logic_error("helper");
        },
        [] { throw std::runtime_error("own"); });
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "own");
    EXPECT_TRUE(helper_done);  // joined: the locals it used are still alive while it runs
  }
}

}  // namespace
}  // namespace secmlops::host
