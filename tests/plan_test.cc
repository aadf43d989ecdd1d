#include "plan/plan.h"

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

// ---------------------------------------------------------------------------------------------
// Interleaved, dynamic and guided.

uint64_t CeilDiv(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

std::string Describe(uint64_t size, unsigned jobs, uint64_t chunk, Strategy strategy) {
  return Describe(size, jobs, chunk) + ", strategy " + std::to_string(static_cast<int>(strategy));
}

// ranges, in any order, cover [0, size) exactly once, with no empty range.
::testing::AssertionResult CoverExactlyOnce(std::vector<ByteRange> ranges, uint64_t size) {
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  uint64_t next = 0;
  for (const ByteRange& r : ranges) {
    if (r.length == 0) return ::testing::AssertionFailure() << "empty range at " << r.offset;
    if (r.offset != next) {
      return ::testing::AssertionFailure()
             << (r.offset < next ? "overlap" : "gap") << " at " << std::min(r.offset, next);
    }
    if (r.end() < r.offset) return ::testing::AssertionFailure() << "range wraps at " << r.offset;
    next = r.end();
  }
  if (next != size) return ::testing::AssertionFailure() << "covered up to " << next;
  return ::testing::AssertionSuccess();
}

// The invariants every strategy other than contiguous promises, plus the strategy's own shape.
::testing::AssertionResult ValidStrategyPlan(const CopyPlan& plan, uint64_t size, unsigned jobs,
                                             uint64_t chunk, Strategy strategy) {
  auto fail = [&]() {
    return ::testing::AssertionFailure() << Describe(size, jobs, chunk, strategy) << ": ";
  };
  if (plan.size != size) return fail() << "plan.size " << plan.size;
  if (plan.strategy != strategy) return fail() << "wrong strategy";
  if (plan.chunk_size < chunk) return fail() << "chunk size lowered to " << plan.chunk_size;
  if (CeilDiv(size, chunk) <= kMaxChunks && plan.chunk_size != chunk) {
    return fail() << "chunk size changed to " << plan.chunk_size << " without need";
  }
  if (size == 0) {
    if (!plan.workers.empty()) return fail() << plan.workers.size() << " workers for nothing";
    if (!plan.queue.empty()) return fail() << plan.queue.size() << " queued chunks for nothing";
    if (plan.self_scheduled()) return fail() << "self-scheduled with nothing to do";
    return ::testing::AssertionSuccess();
  }
  const uint64_t unit = plan.chunk_size;
  const uint64_t chunks = CeilDiv(size, unit);
  const uint64_t n = plan.workers.size();
  if (n == 0) return fail() << "no workers";
  if (n > jobs) return fail() << n << " workers > jobs";
  if (n > CeilDiv(size, chunk)) return fail() << n << " workers > ceil(size / chunk)";
  if (n > chunks) return fail() << n << " workers > chunks of " << unit;

  const bool self_scheduled = strategy == Strategy::kDynamic || strategy == Strategy::kGuided;
  if (plan.self_scheduled() != self_scheduled) return fail() << "self_scheduled() wrong";
  if (!self_scheduled) {
    if (!plan.queue.empty()) return fail() << "static plan with a queue";
    std::vector<ByteRange> all;
    for (size_t w = 0; w < n; ++w) {
      const std::vector<ByteRange>& ranges = plan.workers[w].ranges;
      if (ranges.empty()) return fail() << "worker " << w << " has no ranges";
      uint64_t bytes = 0;
      for (size_t k = 0; k < ranges.size(); ++k) {
        const ByteRange& r = ranges[k];
        bytes += r.length;
        // Interleaved: chunk i belongs to worker i mod N, and a worker takes its chunks in order.
        const uint64_t i = w + k * n;
        if (i >= chunks) return fail() << "worker " << w << " has too many ranges";
        const uint64_t want_length = std::min(unit, size - i * unit);
        if (r != ByteRange{i * unit, want_length}) {
          return fail() << "worker " << w << " range " << k << " is " << r.offset << "+" << r.length
                        << ", expected chunk " << i << " (" << i * unit << "+" << want_length
                        << ")";
        }
      }
      if (plan.workers[w].bytes() != bytes) return fail() << "bytes() of worker " << w;
      all.insert(all.end(), ranges.begin(), ranges.end());
    }
    if (all.size() != chunks) return fail() << all.size() << " ranges for " << chunks << " chunks";
    if (::testing::AssertionResult r = CoverExactlyOnce(std::move(all), size); !r) {
      return fail() << r.message();
    }
    return ::testing::AssertionSuccess();
  }

  for (size_t w = 0; w < n; ++w) {
    if (!plan.workers[w].ranges.empty()) return fail() << "worker " << w << " has own ranges";
  }
  const std::vector<ByteRange>& queue = plan.queue;
  if (queue.empty()) return fail() << "empty queue";
  if (queue.size() > kMaxChunks) return fail() << queue.size() << " chunks > kMaxChunks";
  if (n > queue.size()) return fail() << n << " workers for " << queue.size() << " chunks";
  uint64_t next = 0;  // the queue is in file order
  for (size_t k = 0; k < queue.size(); ++k) {
    const ByteRange& r = queue[k];
    const bool last = k + 1 == queue.size();
    if (r.offset != next) return fail() << "chunk " << k << " at " << r.offset << ", not " << next;
    if (r.length == 0) return fail() << "chunk " << k << " empty";
    if (r.length > size - r.offset) return fail() << "chunk " << k << " past the end";
    if (strategy == Strategy::kDynamic) {
      if (!last && r.length != unit) return fail() << "chunk " << k << " has " << r.length;
      if (last && r.length > unit) return fail() << "last chunk has " << r.length;
    } else {
      if (!last && r.length % unit != 0) {
        return fail() << "chunk " << k << " (" << r.length << ") not a multiple of " << unit;
      }
      if (k > 0 && r.length > queue[k - 1].length) {
        return fail() << "chunk " << k << " (" << r.length << ") longer than chunk " << k - 1
                      << " (" << queue[k - 1].length << ")";
      }
      // About remaining / (2N), never below the chunk size (except the final remainder).
      const uint64_t remaining = size - r.offset;
      const uint64_t target = remaining / (2 * n);
      if (!last && r.length < unit) return fail() << "chunk " << k << " below the chunk size";
      if (r.length > std::max(unit, target)) {
        return fail() << "chunk " << k << " (" << r.length << ") above max(" << unit << ", "
                      << target << ")";
      }
      if (r.length != remaining && r.length + unit <= target) {
        return fail() << "chunk " << k << " (" << r.length << ") far below " << target;
      }
    }
    next = r.end();
  }
  if (next != size) return fail() << "queue ends at " << next;
  return ::testing::AssertionSuccess();
}

constexpr Strategy kOtherStrategies[] = {Strategy::kInterleaved, Strategy::kDynamic,
                                         Strategy::kGuided};

TEST(PlanStrategyTest, SmallSizesEveryJobCountAndChunk) {
  for (Strategy strategy : kOtherStrategies) {
    for (uint64_t chunk : {uint64_t{1}, uint64_t{7}, uint64_t{4096}}) {
      for (uint64_t size = 0; size <= 300; ++size) {
        for (unsigned jobs = 1; jobs <= 17; ++jobs) {
          const CopyPlan plan = MakePlan(size, jobs, chunk, strategy);
          ASSERT_TRUE(ValidStrategyPlan(plan, size, jobs, chunk, strategy));
          // Every chunk is work for some worker: the jobs are all used while there are enough.
          if (size > 0 && strategy != Strategy::kGuided) {
            ASSERT_EQ(plan.workers.size(), std::min<uint64_t>(jobs, CeilDiv(size, chunk)))
                << Describe(size, jobs, chunk, strategy);
          }
        }
      }
    }
  }
}

TEST(PlanStrategyTest, LargeSizes) {
  for (Strategy strategy : kOtherStrategies) {
    for (uint64_t size : {uint64_t{4} << 30, (uint64_t{1} << 40) + 3}) {
      for (unsigned jobs : {1u, 2u, 3u, 16u}) {
        const uint64_t chunk = uint64_t{1} << 20;
        const CopyPlan plan = MakePlan(size, jobs, chunk, strategy);
        ASSERT_TRUE(ValidStrategyPlan(plan, size, jobs, chunk, strategy));
        EXPECT_EQ(plan.workers.size(), jobs) << Describe(size, jobs, chunk, strategy);
      }
    }
  }
}

// plan.h: "Range boundaries fall on multiples of [kPlanAlignment] (or of the chunk size, if
// smaller) so that no two workers write into the same page". That must hold also when the chunk
// size is raised to respect kMaxChunks: 2^40 + 3 bytes in 1 MiB chunks is over kMaxChunks.
TEST(PlanStrategyTest, RaisedChunkSizeKeepsPageAlignedBoundaries) {
  const uint64_t chunk = uint64_t{1} << 20;
  for (Strategy strategy : kOtherStrategies) {
    for (uint64_t size : {(uint64_t{1} << 40) + 3, (uint64_t{1} << 40) + (uint64_t{5} << 20),
                          (uint64_t{3} << 40) + 1}) {
      const CopyPlan plan = MakePlan(size, 3, chunk, strategy);
      std::vector<ByteRange> all = plan.queue;
      for (const WorkerPlan& w : plan.workers) {
        all.insert(all.end(), w.ranges.begin(), w.ranges.end());
      }
      ASSERT_FALSE(all.empty());
      size_t misaligned = 0;
      uint64_t first_bad = 0;
      for (const ByteRange& r : all) {
        if (r.offset % kPlanAlignment != 0 && misaligned++ == 0) first_bad = r.offset;
      }
      EXPECT_EQ(misaligned, 0u) << Describe(size, 3, chunk, strategy) << ": chunk size raised to "
                                << plan.chunk_size << "; first boundary off a page: " << first_bad;
    }
  }
}

TEST(PlanStrategyTest, SizeZeroHasNoWorkersAndNoQueue) {
  for (Strategy strategy : kOtherStrategies) {
    for (unsigned jobs : {1u, 2u, 64u}) {
      const CopyPlan plan = MakePlan(0, jobs, 4096, strategy);
      EXPECT_TRUE(plan.workers.empty());
      EXPECT_TRUE(plan.queue.empty());
      EXPECT_FALSE(plan.self_scheduled());
    }
  }
}

TEST(PlanStrategyTest, InterleavedDealsChunksRoundRobin) {
  // 10 chunks of 100 bytes, the last one 50, over 3 workers.
  const CopyPlan plan = MakePlan(950, 3, 100, Strategy::kInterleaved);
  ASSERT_EQ(plan.workers.size(), 3u);
  EXPECT_FALSE(plan.self_scheduled());
  EXPECT_EQ(plan.workers[0].ranges,
            (std::vector<ByteRange>{{0, 100}, {300, 100}, {600, 100}, {900, 50}}));
  EXPECT_EQ(plan.workers[1].ranges, (std::vector<ByteRange>{{100, 100}, {400, 100}, {700, 100}}));
  EXPECT_EQ(plan.workers[2].ranges, (std::vector<ByteRange>{{200, 100}, {500, 100}, {800, 100}}));
  EXPECT_EQ(plan.workers[0].bytes(), 350u);
}

TEST(PlanStrategyTest, DynamicQueuesChunksInFileOrder) {
  const CopyPlan plan = MakePlan(950, 3, 100, Strategy::kDynamic);
  ASSERT_EQ(plan.workers.size(), 3u);
  EXPECT_TRUE(plan.self_scheduled());
  ASSERT_EQ(plan.queue.size(), 10u);
  for (uint64_t i = 0; i < 9; ++i) EXPECT_EQ(plan.queue[i], (ByteRange{i * 100, 100})) << i;
  EXPECT_EQ(plan.queue[9], (ByteRange{900, 50}));
  for (const WorkerPlan& w : plan.workers) EXPECT_EQ(w.bytes(), 0u);
}

TEST(PlanStrategyTest, GuidedStartsNearSizeOverTwoN) {
  // 1 GiB, 4 workers, 1 MiB chunks: the first chunk is 128 MiB, and they shrink to 1 MiB.
  const uint64_t size = uint64_t{1} << 30, chunk = uint64_t{1} << 20;
  const CopyPlan plan = MakePlan(size, 4, chunk, Strategy::kGuided);
  ASSERT_TRUE(ValidStrategyPlan(plan, size, 4, chunk, Strategy::kGuided));
  ASSERT_EQ(plan.workers.size(), 4u);
  ASSERT_GE(plan.queue.size(), 8u);
  EXPECT_EQ(plan.queue.front(), (ByteRange{0, 128 * chunk}));
  EXPECT_EQ(plan.queue[1], (ByteRange{128 * chunk, 112 * chunk}));  // 896 MiB / 8
  EXPECT_EQ(plan.queue.back().length, chunk);
  // Far fewer hand-outs than dynamic's 1024, far more than one per worker.
  EXPECT_LT(plan.queue.size(), 200u);
  // With an unaligned size the first chunk is still size / 2N rounded down to the chunk size.
  const uint64_t odd = 100 * chunk + 12345;
  const CopyPlan p2 = MakePlan(odd, 5, chunk, Strategy::kGuided);
  ASSERT_TRUE(ValidStrategyPlan(p2, odd, 5, chunk, Strategy::kGuided));
  EXPECT_EQ(p2.queue.front().length, 10 * chunk);
  EXPECT_EQ(p2.queue.back().end(), odd);
  EXPECT_LT(p2.queue.back().length, chunk);
}

TEST(PlanStrategyTest, MaxChunksRaisesChunkSize) {
  const uint64_t size = uint64_t{1} << 40;
  for (Strategy strategy : kOtherStrategies) {
    const CopyPlan plan = MakePlan(size, 4, 1, strategy);
    EXPECT_GT(plan.chunk_size, 1u);
    EXPECT_GE(plan.chunk_size, size / kMaxChunks);
    uint64_t chunks = plan.queue.size();
    for (const WorkerPlan& w : plan.workers) chunks += w.ranges.size();
    EXPECT_LE(chunks, kMaxChunks) << static_cast<int>(strategy);
    ASSERT_TRUE(ValidStrategyPlan(plan, size, 4, 1, strategy));
  }
  const CopyPlan dynamic = MakePlan(size, 4, 1, Strategy::kDynamic);
  EXPECT_LE(dynamic.queue.size(), kMaxChunks);
  EXPECT_EQ(dynamic.queue.front().length, dynamic.chunk_size);
  // Exactly kMaxChunks chunks of the asked size are allowed as they are.
  const CopyPlan exact = MakePlan(kMaxChunks * 4096, 2, 4096, Strategy::kDynamic);
  EXPECT_EQ(exact.chunk_size, 4096u);
  EXPECT_EQ(exact.queue.size(), kMaxChunks);
}

// The checker above is what the sweeps rely on: it must reject plans that break the rules.
TEST(PlanStrategyTest, CheckerRejectsBrokenPlans) {
  const uint64_t size = 950, chunk = 100;
  auto valid = [&](const CopyPlan& p) { return ValidStrategyPlan(p, size, 3, chunk, p.strategy); };

  const CopyPlan interleaved = MakePlan(size, 3, chunk, Strategy::kInterleaved);
  ASSERT_TRUE(valid(interleaved));
  CopyPlan bad = interleaved;
  std::swap(bad.workers[0].ranges[1], bad.workers[1].ranges[1]);  // still covers every byte once
  EXPECT_FALSE(valid(bad));
  bad = interleaved;
  bad.workers[2].ranges.push_back(bad.workers[0].ranges[0]);  // a byte twice
  EXPECT_FALSE(valid(bad));
  bad = interleaved;
  bad.workers.push_back(WorkerPlan{});  // an idle worker
  EXPECT_FALSE(valid(bad));

  const CopyPlan dynamic = MakePlan(size, 3, chunk, Strategy::kDynamic);
  ASSERT_TRUE(valid(dynamic));
  bad = dynamic;
  std::swap(bad.queue[0], bad.queue[1]);  // out of file order
  EXPECT_FALSE(valid(bad));
  bad = dynamic;
  bad.queue.pop_back();  // a gap at the end
  EXPECT_FALSE(valid(bad));
  bad = dynamic;
  bad.workers[1].ranges.push_back(bad.queue.back());  // a static range in a dynamic plan
  EXPECT_FALSE(valid(bad));
  bad = dynamic;
  bad.queue[3].length = 50;  // a short chunk before the last
  bad.queue.insert(bad.queue.begin() + 4, ByteRange{350, 50});
  EXPECT_FALSE(valid(bad));

  const CopyPlan guided = MakePlan(100000, 3, chunk, Strategy::kGuided);
  ASSERT_TRUE(ValidStrategyPlan(guided, 100000, 3, chunk, Strategy::kGuided));
  ASSERT_GE(guided.queue.size(), 3u);
  bad = guided;
  // Split the first chunk in two: both halves are far below remaining / 2N.
  const uint64_t half = bad.queue[0].length / 2 / chunk * chunk;
  bad.queue.insert(bad.queue.begin() + 1, ByteRange{half, bad.queue[0].length - half});
  bad.queue[0].length = half;
  EXPECT_FALSE(ValidStrategyPlan(bad, 100000, 3, chunk, Strategy::kGuided));
  bad = guided;
  bad.strategy = Strategy::kDynamic;  // guided chunks are not all chunk-sized
  EXPECT_FALSE(ValidStrategyPlan(bad, 100000, 3, chunk, Strategy::kDynamic));
}

}  // namespace
}  // namespace pcopy
