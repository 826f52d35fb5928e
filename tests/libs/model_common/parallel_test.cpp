// The thread helpers of the model cores: row blocks that do not depend on the thread count, and
// a pool that runs many short loops on the same threads.
#include <secmlops/models/parallel.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using secmlops::models::LoopPool;
using secmlops::models::row_blocks;
using secmlops::models::SharedPool;

TEST(RowBlocks, CoverEveryRowOnceAndDependOnTheRowCountOnly) {
  for (size_t total : {0u, 1u, 2047u, 2048u, 10000u, 100000u}) {
    auto b = row_blocks(total);
    size_t covered = 0;
    for (size_t i = 0; i < b.count; ++i) {
      EXPECT_EQ(b.begin(i), covered);
      covered += b.size(i, total);
    }
    EXPECT_EQ(covered, total) << total;
  }
  EXPECT_EQ(row_blocks(2047).count, 1u);
  EXPECT_EQ(row_blocks(10000).count, 4u);
  EXPECT_EQ(row_blocks(1000000).count, 8u);
}

TEST(LoopPool, RunsEveryIndexOnceInEveryLoop) {
  for (int jobs : {1, 2, 4}) {
    LoopPool pool(jobs);
    for (int loop = 0; loop < 200; ++loop) {
      std::vector<std::atomic<int>> hits(37);
      pool.run(hits.size(), [&](size_t i) { hits[i].fetch_add(1); });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "jobs " << jobs << ", loop " << loop;
    }
  }
}

TEST(LoopPool, RethrowsTheFirstErrorAndStaysUsable) {
  LoopPool pool(2);
  EXPECT_THROW(pool.run(64,
                        [](size_t i) {
                          if (i == 5) throw std::runtime_error("row 5");
                        }),
               std::runtime_error);
  std::atomic<size_t> sum{0};
  pool.run(10, [&](size_t i) { sum += i; });
  EXPECT_EQ(sum.load(), 45u);
}

TEST(SharedPool, RunsEveryIndexOnceAndRethrowsAnError) {
  SharedPool pool(2);
  for (size_t count : {0u, 1u, 2u, 7u, 100u}) {
    std::vector<std::atomic<int>> hits(count);
    pool.run(count, [&](size_t i) { ++hits[i]; });
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(hits[i].load(), 1) << count << " " << i;
  }
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.run(8,
                        [&](size_t i) {
                          ++ran;
                          if (i == 3) throw std::runtime_error("three");
                        }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 8);  // every index runs, even after an error
  std::atomic<int> again{0};
  pool.run(4, [&](size_t) { ++again; });
  EXPECT_EQ(again.load(), 4);
}

// A caller never waits for a kept thread that is busy elsewhere: with the pool's only thread held
// by another caller's loop, a loop still finishes, on its caller's thread alone.
TEST(SharedPool, ACallerDoesNotWaitForABusyThread) {
  SharedPool pool(1);
  std::atomic<bool> release{false}, held{false};
  std::atomic<std::thread::id> other_id{};
  std::thread other([&] {
    other_id = std::this_thread::get_id();
    // Its own index waits until the kept thread has taken the other one, which it holds.
    pool.run(2, [&](size_t) {
      if (std::this_thread::get_id() == other_id.load()) {
        while (!held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return;
      }
      held = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  });
  while (!held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::atomic<int> done{0};
  pool.run(50, [&](size_t) { ++done; });
  EXPECT_EQ(done.load(), 50);
  release = true;
  other.join();
}

}  // namespace
