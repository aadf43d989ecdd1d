// sparse_write_test.cc: --sparse=always's writes (copy/io.h): whole aligned 4 KiB blocks of
// zeros are not written, everything else is, in as few pwrites as the zeros allow, and the
// bytes read back equal the bytes given (DEST's holes read as zeros).
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "copy/io.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::ReadFile;
using test::TempDir;

// pwrite that records each call's offset and count, then writes.
class RecordingWrites final : public SysCalls {
 public:
  ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const override {
    writes.push_back({static_cast<uint64_t>(offset), count});
    return SysCalls::pwrite(fd, buf, count, offset);
  }
  mutable std::vector<ByteRange> writes;
};

class SparseWriteTest : public testing::Test {
 protected:
  // Writes `bytes` at offset into a fresh empty file with the zero blocks skipped; returns the
  // file's content from offset on.
  std::string Write(const std::string& bytes, uint64_t offset) {
    UniqueFd fd(open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(ftruncate(fd.get(), static_cast<off_t>(offset + bytes.size())), 0);
    sys_.writes.clear();
    EXPECT_TRUE(
        WriteSkippingZeroBlocks(sys_, fd.get(), IoFile::kDest, bytes.data(), bytes.size(), offset)
            .ok());
    return ReadFile(path_).substr(offset);
  }

  TempDir t_;
  const std::string path_ = t_ / "dst";
  RecordingWrites sys_;
};

std::string Block(char c) { return std::string(kSparseBlock, c); }

TEST_F(SparseWriteTest, ZeroBlocksAreSkippedAndTheRestJoined) {
  const std::string bytes = Block('a') + Block('\0') + Block('\0') + Block('b') + Block('c');
  EXPECT_EQ(Write(bytes, 0), bytes);
  EXPECT_EQ(sys_.writes, (std::vector<ByteRange>{{0, 4096}, {3 * 4096, 2 * 4096}}));
}

TEST_F(SparseWriteTest, AllZerosWritesNothing) {
  const std::string bytes = Block('\0') + Block('\0');
  EXPECT_EQ(Write(bytes, 8192), bytes);
  EXPECT_TRUE(sys_.writes.empty());
}

// A block with one non-zero byte, even its last, is data.
TEST_F(SparseWriteTest, OneByteMakesABlockData) {
  std::string bytes = Block('\0');
  bytes.back() = 1;
  EXPECT_EQ(Write(bytes, 0), bytes);
  EXPECT_EQ(sys_.writes, (std::vector<ByteRange>{{0, 4096}}));
}

// Blocks are aligned to file offsets, not to the buffer: zeros at 100..4195 hold no whole block
// and are written; a partial block at either end always is.
TEST_F(SparseWriteTest, OnlyWholeAlignedBlocksAreSkipped) {
  const std::string bytes = std::string(4096, '\0') + Block('\0') + "tail";
  EXPECT_EQ(Write(bytes, 100), bytes);
  // [100, 4096) partial, [4096, 8192) skipped, [8192, 8296) partial and holds the tail.
  EXPECT_EQ(sys_.writes, (std::vector<ByteRange>{{100, 3996}, {8192, 104}}));
}

TEST_F(SparseWriteTest, NothingToWrite) {
  EXPECT_EQ(Write("", 0), "");
  EXPECT_TRUE(sys_.writes.empty());
}

}  // namespace
}  // namespace pcopy
