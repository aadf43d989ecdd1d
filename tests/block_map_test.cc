#include "plan/block_map.h"

#include <gtest/gtest.h>

#include <random>

namespace pcopy {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST(BlockMap, GridIsOneMiBUntilTheBitmapWouldPassAMillionBlocks) {
  EXPECT_EQ(GridFor(0).count(), 0u);
  EXPECT_EQ(GridFor(1).block, kMiB);
  EXPECT_EQ(GridFor(1).count(), 1u);
  EXPECT_EQ(GridFor(3 * kMiB + 1).count(), 4u);
  EXPECT_EQ(GridFor(3 * kMiB + 1).Block(3), (ByteRange{3 * kMiB, 1}));
  EXPECT_EQ(GridFor(kMaxJournalBlocks * kMiB).block, kMiB);
  const BlockGrid big = GridFor(kMaxJournalBlocks * kMiB + 1);
  EXPECT_EQ(big.block, 2 * kMiB);
  EXPECT_LE(big.count(), kMaxJournalBlocks);
}

TEST(BlockMap, ABlockIsCoveredOnlyWhenAllItsNeededBytesWereWritten) {
  const BlockGrid grid = GridFor(4 * kMiB);
  const std::vector<ByteRange> needed = {{0, 4 * kMiB}};
  // Block 0 whole, block 1 but its last byte, block 2 in two pieces from two workers, out of order
  // and overlapping; nothing of block 3.
  const BlockBitmap covered = CoveredBlocks(
      grid, needed,
      {{2 * kMiB + 4096, kMiB - 4096}, {kMiB, kMiB - 1}, {0, kMiB}, {2 * kMiB, 8192}});
  EXPECT_TRUE(covered.Test(0));
  EXPECT_FALSE(covered.Test(1));
  EXPECT_TRUE(covered.Test(2));
  EXPECT_FALSE(covered.Test(3));
  EXPECT_EQ(covered.Ones(), 2u);
}

TEST(BlockMap, HolesNeedNothing) {
  const BlockGrid grid = GridFor(4 * kMiB);
  // Data in blocks 0 and 2 only (a sparse SOURCE): the hole blocks count as durable at once.
  const std::vector<ByteRange> needed = {{0, 4096}, {2 * kMiB + 8192, 4096}};
  BlockBitmap covered = CoveredBlocks(grid, needed, {{0, 4096}});
  EXPECT_TRUE(covered.Test(0));
  EXPECT_TRUE(covered.Test(1));
  EXPECT_FALSE(covered.Test(2));
  EXPECT_TRUE(covered.Test(3));
  EXPECT_EQ(BytesInBlocks(needed, grid, covered), 4096u);
  EXPECT_EQ(WithoutBlocks(needed, grid, covered),
            (std::vector<ByteRange>{{2 * kMiB + 8192, 4096}}));
}

TEST(BlockMap, WithoutBlocksLeavesExactlyTheBlocksNotDurable) {
  const uint64_t size = 5 * kMiB + 12345;
  const BlockGrid grid = GridFor(size);
  const std::vector<ByteRange> needed = {{0, size}};
  BlockBitmap durable(grid.count());
  durable.Set(1);
  durable.Set(2);
  durable.Set(5);  // the short last block
  EXPECT_EQ(WithoutBlocks(needed, grid, durable),
            (std::vector<ByteRange>{{0, kMiB}, {3 * kMiB, 2 * kMiB}}));
  EXPECT_EQ(BytesInBlocks(needed, grid, durable), 2 * kMiB + 12345);
}

// Whatever the needed ranges and the durable blocks, the bytes left and the bytes in durable
// blocks partition the needed bytes, and nothing left lies in a durable block.
TEST(BlockMap, LeftAndDurablePartitionTheNeededBytes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    const uint64_t size = rng() % (9 * kMiB) + 1;
    const BlockGrid grid = GridFor(size);
    std::vector<ByteRange> needed;
    for (uint64_t at = rng() % 100000; at < size;) {
      const uint64_t len = std::min(size - at, rng() % (2 * kMiB) + 1);
      needed.push_back({at, len});
      at += len + rng() % (kMiB);
    }
    BlockBitmap durable(grid.count());
    for (uint64_t i = 0; i < grid.count(); ++i) {
      if (rng() % 2) durable.Set(i);
    }
    uint64_t total = 0;
    for (const ByteRange& r : needed) total += r.length;
    uint64_t left = 0;
    for (const ByteRange& r : WithoutBlocks(needed, grid, durable)) {
      left += r.length;
      for (uint64_t i = r.offset / grid.block; i <= (r.end() - 1) / grid.block; ++i) {
        ASSERT_FALSE(durable.Test(i)) << "round " << round << ": a durable block is copied again";
      }
    }
    ASSERT_EQ(left + BytesInBlocks(needed, grid, durable), total) << "round " << round;
    // And writing exactly what is left covers every block.
    BlockBitmap after = CoveredBlocks(grid, needed, WithoutBlocks(needed, grid, durable));
    after.Merge(durable);
    ASSERT_EQ(after.Ones(), grid.count()) << "round " << round;
  }
}

}  // namespace
}  // namespace pcopy
