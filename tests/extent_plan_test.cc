// extent_plan_test.cc: the plan of a file with holes (plan/extent_plan.h), pure: extents aligned
// and merged; the data, not the length, split among the workers by every strategy; no unit
// touching a hole; and a file without holes planned exactly as MakePlan plans it.
#include "plan/extent_plan.h"

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "app/options.h"
#include "test_util.h"

namespace pcopy {
namespace {

constexpr uint64_t kKiB = 1ull << 10, kMiB = 1ull << 20, kTiB = 1ull << 40;

TEST(AlignExtentsTest, RoundsOutwardClampsAndMerges) {
  EXPECT_EQ(AlignExtents({{100, 10}}, 1 * kMiB), (std::vector<ByteRange>{{0, 4096}}));
  EXPECT_EQ(AlignExtents({{4096, 4096}, {3 * 4096, 1}}, kMiB),
            (std::vector<ByteRange>{{4096, 4096}, {3 * 4096, 4096}}));
  // 5000 rounds up to 8192, which touches the next extent's rounded start: one range.
  EXPECT_EQ(AlignExtents({{0, 5000}, {9000, 100}}, kMiB), (std::vector<ByteRange>{{0, 12288}}));
  // The end of the file is not a multiple of 4096: the last range stops there.
  EXPECT_EQ(AlignExtents({{8192, 100}}, 8300), (std::vector<ByteRange>{{8192, 108}}));
  // Past the end (the file shrank), and empty: dropped.
  EXPECT_EQ(AlignExtents({{0, 0}, {kMiB, 10}}, kMiB), (std::vector<ByteRange>{}));
  EXPECT_EQ(AlignExtents({}, kMiB), (std::vector<ByteRange>{}));
}

TEST(ExtentPlanTest, WithoutHolesItIsMakePlan) {
  for (Strategy s :
       {Strategy::kContiguous, Strategy::kInterleaved, Strategy::kDynamic, Strategy::kGuided}) {
    for (uint64_t size : {uint64_t{1}, uint64_t{4097}, 3 * kMiB + 5, 64 * kMiB}) {
      for (unsigned jobs : {1u, 3u, 8u}) {
        SCOPED_TRACE(std::string(StrategyName(s)) + " size " + std::to_string(size) + " -j " +
                     std::to_string(jobs));
        const CopyPlan want = MakePlan(size, jobs, 256 * kKiB, s);
        const CopyPlan got = MakeExtentPlan({{0, size}}, size, jobs, 256 * kKiB, s);
        EXPECT_EQ(got.size, want.size);
        EXPECT_EQ(got.chunk_size, want.chunk_size);
        EXPECT_EQ(got.queue, want.queue);
        ASSERT_EQ(got.workers.size(), want.workers.size());
        for (size_t w = 0; w < got.workers.size(); ++w) {
          EXPECT_EQ(got.workers[w].ranges, want.workers[w].ranges) << "worker " << w;
        }
      }
    }
  }
}

TEST(ExtentPlanTest, AllHolesGivesNoWork) {
  const CopyPlan plan = MakeExtentPlan({}, kTiB, 8, kMiB, Strategy::kDynamic);
  EXPECT_EQ(plan.size, 0u);
  EXPECT_TRUE(plan.workers.empty());
  EXPECT_TRUE(plan.queue.empty());
  const WorkList list = MakeExtentWorkList({}, kTiB, 8, kMiB, Strategy::kContiguous, 0);
  EXPECT_TRUE(list.units.empty());
  EXPECT_EQ(list.workers, 0u);
  EXPECT_EQ(list.bytes, 0u);
}

// A terabyte file with four megabytes of data: -j 4 contiguous gives each worker one megabyte,
// not a quarter of the length (which would leave three workers nothing but holes).
TEST(ExtentPlanTest, ContiguousSplitsTheDataNotTheLength) {
  const std::vector<ByteRange> data = {
      {0, kMiB}, {kTiB / 4, kMiB}, {kTiB / 2, kMiB}, {kTiB - kMiB, kMiB}};
  const CopyPlan plan = MakeExtentPlan(data, kTiB, 4, kMiB, Strategy::kContiguous);
  EXPECT_EQ(plan.size, 4 * kMiB);
  ASSERT_EQ(plan.workers.size(), 4u);
  for (size_t w = 0; w < 4; ++w) {
    EXPECT_EQ(plan.workers[w].ranges, (std::vector<ByteRange>{data[w]})) << "worker " << w;
  }
}

TEST(ExtentPlanTest, WorkListCarriesTheFileIndex) {
  const WorkList list =
      MakeExtentWorkList({{0, 4096}, {kMiB, 4096}}, 2 * kMiB, 2, kMiB, Strategy::kDynamic, 7);
  ASSERT_EQ(list.units.size(), 2u);
  EXPECT_EQ(list.units[0], (WorkUnit{7, 0, 4096}));
  EXPECT_EQ(list.units[1], (WorkUnit{7, kMiB, 4096}));
  EXPECT_EQ(list.bytes, 8192u);
  EXPECT_TRUE(list.shared());
}

// ---------------------------------------------------------------------------------------------
// Every strategy x -j x chunk size over holed layouts: the units cover the aligned data exactly
// once, never a byte of a hole, and start on page boundaries.

struct ExtentCase {
  Strategy strategy;
  unsigned jobs;
  uint64_t chunk;
};

void PrintTo(const ExtentCase& c, std::ostream* os) {
  *os << "--strategy " << StrategyName(c.strategy) << " -j " << c.jobs << " --chunk-size "
      << c.chunk;
}

std::string ExtentCaseName(const testing::TestParamInfo<ExtentCase>& info) {
  return std::string(StrategyName(info.param.strategy)) + "_j" + std::to_string(info.param.jobs) +
         "_chunk" + std::to_string(info.param.chunk / kKiB) + "K";
}

std::vector<ExtentCase> AllExtentCases() {
  std::vector<ExtentCase> cases;
  for (Strategy s :
       {Strategy::kContiguous, Strategy::kInterleaved, Strategy::kDynamic, Strategy::kGuided}) {
    for (unsigned jobs : {1u, 2u, 5u, 16u}) {
      for (uint64_t chunk : {4 * kKiB, 64 * kKiB, kMiB}) cases.push_back({s, jobs, chunk});
    }
  }
  return cases;
}

// Layouts of data in a file of kLayoutSize bytes: one at each end, unaligned edges, many small.
constexpr uint64_t kLayoutSize = 64 * kMiB + 123;

std::vector<std::vector<ByteRange>> Layouts() {
  std::vector<ByteRange> many;
  for (uint64_t i = 0; i < 200; ++i) many.push_back({i * 300 * kKiB + 17, 5000 + i * 11});
  return {{{0, 4096}},
          {{kLayoutSize - 100, 100}},
          {{1000, 3 * kMiB}, {10 * kMiB + 1, 1}, {40 * kMiB, 5 * kMiB + 7}},
          many};
}

class ExtentPlanMatrix : public testing::TestWithParam<ExtentCase> {};

::testing::AssertionResult CoversExactly(const WorkList& list, const std::vector<ByteRange>& want) {
  std::vector<ByteRange> got;
  for (const WorkUnit& u : list.units) got.push_back({u.offset, u.length});
  std::sort(got.begin(), got.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  size_t e = 0;
  uint64_t next = want.empty() ? 0 : want[0].offset;
  for (const ByteRange& r : got) {
    if (r.length == 0) return testing::AssertionFailure() << "empty unit at " << r.offset;
    if (r.offset % kPlanAlignment != 0)
      return testing::AssertionFailure() << "unaligned " << r.offset;
    if (e < want.size() && next == want[e].end() && ++e < want.size()) next = want[e].offset;
    if (e == want.size() || r.offset != next || r.end() > want[e].end()) {
      return testing::AssertionFailure() << "unit at " << r.offset << " outside the data or a "
                                         << "gap or overlap before it (expected " << next << ")";
    }
    next = r.end();
  }
  if (!want.empty() && (e + 1 != want.size() || next != want.back().end())) {
    return testing::AssertionFailure() << "data left uncovered from " << next;
  }
  return testing::AssertionSuccess();
}

TEST_P(ExtentPlanMatrix, UnitsCoverTheDataOnly) {
  const ExtentCase& c = GetParam();
  for (const std::vector<ByteRange>& layout : Layouts()) {
    SCOPED_TRACE(std::to_string(layout.size()) + " extents from " +
                 std::to_string(layout[0].offset));
    const std::vector<ByteRange> aligned = AlignExtents(layout, kLayoutSize);
    const WorkList list = MakeExtentWorkList(layout, kLayoutSize, c.jobs, c.chunk, c.strategy, 0);
    uint64_t data = 0;
    for (const ByteRange& r : aligned) data += r.length;
    EXPECT_EQ(list.bytes, data);
    EXPECT_LE(list.workers, c.jobs);
    EXPECT_TRUE(CoversExactly(list, aligned));
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, ExtentPlanMatrix, testing::ValuesIn(AllExtentCases()),
                         ExtentCaseName);

}  // namespace
}  // namespace pcopy
