#include "plan.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

std::string Describe(uint64_t size, unsigned jobs, uint64_t chunk) {
  std::ostringstream s;
  s << "size " << size << ", jobs " << jobs << ", chunk " << chunk;
  return s.str();
}

// Checks every invariant plan.h promises for the contiguous strategy; returns a failure that
// names the first broken one.
::testing::AssertionResult ValidPlan(const CopyPlan& plan, uint64_t size, unsigned jobs,
                                     uint64_t chunk) {
  auto fail = [&]() {
    return ::testing::AssertionFailure() << Describe(size, jobs, chunk) << ": ";
  };
  if (plan.size != size) return fail() << "plan.size " << plan.size;
  if (plan.strategy != Strategy::kContiguous) return fail() << "wrong strategy";
  if (size == 0) {
    if (!plan.workers.empty()) return fail() << plan.workers.size() << " workers for nothing";
    return ::testing::AssertionSuccess();
  }
  const uint64_t chunks = size / chunk + (size % chunk != 0);
  if (plan.workers.empty()) return fail() << "no workers";
  if (plan.workers.size() > jobs) return fail() << plan.workers.size() << " workers > jobs";
  if (plan.workers.size() > chunks) return fail() << plan.workers.size() << " workers > chunks";
  const uint64_t align = std::min<uint64_t>(kPlanAlignment, chunk);
  uint64_t next = 0;  // contiguous: the workers cover [0, size) in order
  for (size_t w = 0; w < plan.workers.size(); ++w) {
    const WorkerPlan& wp = plan.workers[w];
    if (wp.ranges.size() != 1) return fail() << "worker " << w << " has " << wp.ranges.size();
    uint64_t bytes = 0;
    for (const ByteRange& r : wp.ranges) {
      if (r.length == 0) return fail() << "worker " << w << " has an empty range";
      if (r.offset != next) {
        return fail() << "worker " << w << " starts at " << r.offset << ", expected " << next;
      }
      if (r.offset != 0 && r.offset % align != 0) {
        return fail() << "boundary " << r.offset << " not a multiple of " << align;
      }
      if (r.end() > size || r.end() < r.offset) return fail() << "range past the end";
      next = r.end();
      bytes += r.length;
    }
    if (wp.bytes() != bytes) return fail() << "bytes() " << wp.bytes() << " != " << bytes;
  }
  if (next != size) return fail() << "coverage ends at " << next;
  return ::testing::AssertionSuccess();
}

// Every byte is covered exactly once, checked independently of the ordering assumption above.
::testing::AssertionResult CoveredOnce(const CopyPlan& plan, uint64_t size) {
  std::vector<ByteRange> all;
  for (const WorkerPlan& w : plan.workers) all.insert(all.end(), w.ranges.begin(), w.ranges.end());
  std::sort(all.begin(), all.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  uint64_t next = 0;
  for (const ByteRange& r : all) {
    if (r.offset != next) return ::testing::AssertionFailure() << "gap or overlap at " << next;
    next = r.end();
  }
  if (next != size) return ::testing::AssertionFailure() << "covered up to " << next;
  return ::testing::AssertionSuccess();
}

TEST(PlanTest, SmallSizesEveryJobCountAndChunk) {
  for (uint64_t chunk : {uint64_t{1}, uint64_t{7}, uint64_t{4096}}) {
    for (uint64_t size = 0; size <= 300; ++size) {
      for (unsigned jobs = 1; jobs <= 17; ++jobs) {
        const CopyPlan plan = MakePlan(size, jobs, chunk, Strategy::kContiguous);
        ASSERT_TRUE(ValidPlan(plan, size, jobs, chunk));
        ASSERT_TRUE(CoveredOnce(plan, size)) << Describe(size, jobs, chunk);
      }
    }
  }
}

TEST(PlanTest, SizeZeroHasNoWorkers) {
  for (unsigned jobs : {1u, 2u, 64u}) {
    const CopyPlan plan = MakePlan(0, jobs, kPlanAlignment, Strategy::kContiguous);
    EXPECT_EQ(plan.size, 0u);
    EXPECT_TRUE(plan.workers.empty());
  }
}

TEST(PlanTest, UsesEveryJobWhenThereIsEnoughWork) {
  // With a chunk of 1 byte, 17 jobs and 300 bytes, nothing stops every job getting a range.
  const CopyPlan plan = MakePlan(300, 17, 1, Strategy::kContiguous);
  EXPECT_EQ(plan.workers.size(), 17u);
}

TEST(PlanTest, NoMoreWorkersThanChunks) {
  // 10 MiB in 1 MiB chunks: at most 10 workers, and 10 is what 16 jobs should get.
  const CopyPlan plan = MakePlan(10ull << 20, 16, 1ull << 20, Strategy::kContiguous);
  EXPECT_EQ(plan.workers.size(), 10u);
  EXPECT_TRUE(ValidPlan(plan, 10ull << 20, 16, 1ull << 20));
  // A file smaller than one chunk gets a single worker.
  const CopyPlan one = MakePlan(1000, 16, 4096, Strategy::kContiguous);
  ASSERT_EQ(one.workers.size(), 1u);
  EXPECT_EQ(one.workers[0].ranges[0], (ByteRange{0, 1000}));
}

TEST(PlanTest, LargeSizes) {
  const uint64_t kSizes[] = {4ull << 30, (1ull << 40) + 3, (4ull << 30) + 4095, 1ull << 62,
                             std::numeric_limits<uint64_t>::max()};
  for (uint64_t size : kSizes) {
    for (unsigned jobs : {1u, 2u, 3u, 16u}) {
      for (uint64_t chunk : {uint64_t{4096}, uint64_t{1} << 20}) {
        const CopyPlan plan = MakePlan(size, jobs, chunk, Strategy::kContiguous);
        ASSERT_TRUE(ValidPlan(plan, size, jobs, chunk));
        ASSERT_TRUE(CoveredOnce(plan, size)) << Describe(size, jobs, chunk);
        // Plenty of work for every job, so every job gets a near-equal share.
        ASSERT_EQ(plan.workers.size(), jobs) << Describe(size, jobs, chunk);
        uint64_t lo = std::numeric_limits<uint64_t>::max(), hi = 0;
        for (const WorkerPlan& w : plan.workers) {
          lo = std::min(lo, w.bytes());
          hi = std::max(hi, w.bytes());
          // Internal boundaries on page multiples, so no two workers share a page.
          if (w.ranges[0].offset != 0) {
            EXPECT_EQ(w.ranges[0].offset % kPlanAlignment, 0u) << Describe(size, jobs, chunk);
          }
        }
        EXPECT_LE(hi - lo, 2 * kPlanAlignment) << Describe(size, jobs, chunk);
      }
    }
  }
}

TEST(PlanTest, FourGiBInSixteenEqualParts) {
  const CopyPlan plan = MakePlan(4ull << 30, 16, 1ull << 20, Strategy::kContiguous);
  ASSERT_EQ(plan.workers.size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(plan.workers[i].ranges[0], (ByteRange{i << 28, 1ull << 28})) << i;
  }
}

TEST(PlanTest, TwoJobsCopyTwoHalves) {
  for (uint64_t size : {uint64_t{1} << 30, (uint64_t{1} << 30) + 2 * 4096 + 2,
                        uint64_t{1000} * 4096 + 4094, uint64_t{2} * 12345 * 4096}) {
    ASSERT_EQ(size % 2, 0u);
    const CopyPlan plan = MakePlan(size, 2, 4096, Strategy::kContiguous);
    ASSERT_EQ(plan.workers.size(), 2u) << size;
    const ByteRange lower = plan.workers[0].ranges[0];
    const ByteRange upper = plan.workers[1].ranges[0];
    EXPECT_EQ(lower.offset, 0u);
    EXPECT_EQ(upper.offset, lower.end());
    EXPECT_EQ(upper.end(), size);
    const uint64_t diff =
        lower.length > upper.length ? lower.length - upper.length : upper.length - lower.length;
    EXPECT_LE(diff, 4096u) << size;
    EXPECT_EQ(upper.offset % 4096, 0u) << size;
  }
}

TEST(PlanTest, SmallChunkAlignsToChunk) {
  // A chunk smaller than a page: boundaries on chunk multiples.
  const CopyPlan plan = MakePlan(1000, 3, 100, Strategy::kContiguous);
  ASSERT_TRUE(ValidPlan(plan, 1000, 3, 100));
  ASSERT_EQ(plan.workers.size(), 3u);
  for (const WorkerPlan& w : plan.workers) EXPECT_EQ(w.ranges[0].offset % 100, 0u);
}

TEST(PlanTest, WorkerBytesSumsRanges) {
  WorkerPlan w;
  EXPECT_EQ(w.bytes(), 0u);
  w.ranges = {{0, 10}, {100, 5}, {200, 1}};
  EXPECT_EQ(w.bytes(), 16u);
}

}  // namespace
}  // namespace pcopy
