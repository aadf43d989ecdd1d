// sparse_test_util.h: files with holes for the sparse and reflink tests: made to a pattern of
// data ranges, and measured by the blocks they hold and the extents they share.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/byte_range.h"

namespace pcopy::test {

inline constexpr uint64_t kKiB = 1ull << 10;
inline constexpr uint64_t kTiB = 1ull << 40;

// A new file of `size` bytes holding pseudo-random bytes (from seed) in each of `data` and holes
// everywhere else. Fails the test if it cannot be made.
void MakeSparseFile(const std::string& path, uint64_t size, const std::vector<ByteRange>& data,
                    uint64_t seed = 1);
// Writes `length` zero bytes at offset: allocated blocks of zeros, not a hole.
void WriteZeros(const std::string& path, uint64_t offset, uint64_t length);
// The bytes path holds on storage (st_blocks * 512) once synced; ~0 if it cannot be opened.
uint64_t AllocatedBytes(const std::string& path);
// Bytes of path that sit in extents shared with another file (FIEMAP_EXTENT_SHARED: a reflink).
uint64_t SharedBytes(const std::string& path);
// Where path's data lies, by SEEK_DATA / SEEK_HOLE over its whole length (DataExtents).
std::vector<ByteRange> DataOf(const std::string& path);
// The bytes of path in range, read with pread (shorter if the file ends first).
std::string ReadRange(const std::string& path, const ByteRange& range);
// Both files have the same length, the same data extents and the same bytes in them: equal
// bytes everywhere (the rest is holes, which read as zeros) without reading a terabyte of them.
testing::AssertionResult SameSparseFile(const std::string& a, const std::string& b);

}  // namespace pcopy::test
