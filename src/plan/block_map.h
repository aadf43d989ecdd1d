// block_map.h: the grid of blocks by which a resumable copy records what is durable (the journal
// of exec/resume_journal.h), and the arithmetic between it and byte ranges. Pure, as plan.h.
//
// The grid is independent of the plan: a copy resumed with another -j, strategy or chunk size
// reads the same journal. A block is durable when every byte of it that the copy must write (its
// "needed" bytes: SOURCE's data, or all of it) is on stable storage; a block that needs nothing
// (a hole) counts as durable. A resumed copy copies the needed bytes of the blocks not durable.
#pragma once

#include <cstdint>
#include <vector>

#include "base/byte_range.h"

namespace pcopy {

// 1 MiB blocks (a 200 GiB copy: a 25 KiB bitmap), larger for files of more than a TiB so that
// the bitmap stays under kMaxBlocks bits.
inline constexpr uint64_t kMinJournalBlock = 1ull << 20;
inline constexpr uint64_t kMaxJournalBlocks = 1ull << 20;

struct BlockGrid {
  uint64_t size = 0;   // the file's length
  uint64_t block = 0;  // a power of two
  uint64_t count() const { return block == 0 ? 0 : (size + block - 1) / block; }
  ByteRange Block(uint64_t i) const;
  bool operator==(const BlockGrid&) const = default;
};

BlockGrid GridFor(uint64_t size);

// One bit per block, in the journal's byte order (bit i%8 of byte i/8).
class BlockBitmap {
 public:
  BlockBitmap() = default;
  explicit BlockBitmap(uint64_t count) : bytes_((count + 7) / 8, 0), count_(count) {}
  BlockBitmap(std::vector<uint8_t> bytes, uint64_t count)
      : bytes_(std::move(bytes)), count_(count) {}

  uint64_t count() const { return count_; }
  bool Test(uint64_t i) const { return (bytes_[i / 8] >> (i % 8)) & 1u; }
  void Set(uint64_t i) { bytes_[i / 8] = static_cast<uint8_t>(bytes_[i / 8] | (1u << (i % 8))); }
  uint64_t Ones() const;
  // Every block set in either.
  void Merge(const BlockBitmap& other);
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  bool operator==(const BlockBitmap&) const = default;

 private:
  std::vector<uint8_t> bytes_;
  uint64_t count_ = 0;
};

// ranges sorted, with overlapping and touching ones joined and empty ones dropped.
std::vector<ByteRange> MergeRanges(std::vector<ByteRange> ranges);

// The blocks of grid whose needed bytes all lie in `written` (any order, overlaps allowed).
// `needed` is sorted and disjoint, as the plan's extents are.
BlockBitmap CoveredBlocks(const BlockGrid& grid, const std::vector<ByteRange>& needed,
                          std::vector<ByteRange> written);

// `needed` less the blocks set in `durable`: what a resumed copy copies, sorted and disjoint.
std::vector<ByteRange> WithoutBlocks(const std::vector<ByteRange>& needed, const BlockGrid& grid,
                                     const BlockBitmap& durable);

// The needed bytes that lie in blocks set in `durable`.
uint64_t BytesInBlocks(const std::vector<ByteRange>& needed, const BlockGrid& grid,
                       const BlockBitmap& durable);

}  // namespace pcopy
