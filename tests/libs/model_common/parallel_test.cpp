// The thread helpers of the model cores: row blocks that do not depend on the thread count, and
// a pool that runs many short loops on the same threads.
#include <secmlops/models/parallel.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace {

using secmlops::models::LoopPool;
using secmlops::models::row_blocks;

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

}  // namespace
