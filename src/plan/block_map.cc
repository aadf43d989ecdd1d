#include "plan/block_map.h"

#include <algorithm>
#include <bit>

namespace pcopy {
namespace {

// Calls piece(block index, range) for each part of each needed range within one block, in order.
template <typename F>
void ForEachPiece(const std::vector<ByteRange>& needed, const BlockGrid& grid, F piece) {
  for (const ByteRange& r : needed) {
    for (uint64_t at = r.offset; at < r.end();) {
      const uint64_t i = at / grid.block;
      const uint64_t end = std::min(r.end(), (i + 1) * grid.block);
      piece(i, ByteRange{at, end - at});
      at = end;
    }
  }
}

}  // namespace

std::vector<ByteRange> MergeRanges(std::vector<ByteRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  std::vector<ByteRange> merged;
  for (const ByteRange& r : ranges) {
    if (r.length == 0) continue;
    if (!merged.empty() && r.offset <= merged.back().end()) {
      merged.back().length = std::max(merged.back().end(), r.end()) - merged.back().offset;
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

ByteRange BlockGrid::Block(uint64_t i) const {
  const uint64_t start = i * block;
  return ByteRange{start, std::min(size, start + block) - start};
}

BlockGrid GridFor(uint64_t size) {
  BlockGrid grid{size, kMinJournalBlock};
  while (grid.count() > kMaxJournalBlocks) grid.block *= 2;
  return grid;
}

uint64_t BlockBitmap::Ones() const {
  uint64_t n = 0;
  for (uint8_t b : bytes_) n += static_cast<uint64_t>(std::popcount(b));
  return n;
}

void BlockBitmap::Merge(const BlockBitmap& other) {
  for (size_t i = 0; i < bytes_.size() && i < other.bytes_.size(); ++i)
    bytes_[i] |= other.bytes_[i];
}

BlockBitmap CoveredBlocks(const BlockGrid& grid, const std::vector<ByteRange>& needed,
                          std::vector<ByteRange> written) {
  const std::vector<ByteRange> merged = MergeRanges(std::move(written));
  std::vector<bool> missing(grid.count(), false);
  size_t j = 0;  // pieces come in increasing order, so the covering range only moves forward
  ForEachPiece(needed, grid, [&](uint64_t i, const ByteRange& piece) {
    while (j < merged.size() && merged[j].end() <= piece.offset) ++j;
    if (j == merged.size() || merged[j].offset > piece.offset || merged[j].end() < piece.end()) {
      missing[i] = true;
    }
  });
  BlockBitmap covered(grid.count());
  for (uint64_t i = 0; i < grid.count(); ++i) {
    if (!missing[i]) covered.Set(i);
  }
  return covered;
}

std::vector<ByteRange> WithoutBlocks(const std::vector<ByteRange>& needed, const BlockGrid& grid,
                                     const BlockBitmap& durable) {
  std::vector<ByteRange> left;
  ForEachPiece(needed, grid, [&](uint64_t i, const ByteRange& piece) {
    if (durable.Test(i)) return;
    if (!left.empty() && left.back().end() == piece.offset) {
      left.back().length += piece.length;
    } else {
      left.push_back(piece);
    }
  });
  return left;
}

uint64_t BytesInBlocks(const std::vector<ByteRange>& needed, const BlockGrid& grid,
                       const BlockBitmap& durable) {
  uint64_t bytes = 0;
  ForEachPiece(needed, grid, [&](uint64_t i, const ByteRange& piece) {
    if (durable.Test(i)) bytes += piece.length;
  });
  return bytes;
}

}  // namespace pcopy
