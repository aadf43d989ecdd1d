#include "sparse_test_util.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "base/random_bytes.h"
#include "base/unique_fd.h"
#include "os/data_extents.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

void WriteAt(const std::string& path, int flags, const std::vector<char>& bytes, uint64_t offset) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
  ASSERT_TRUE(fd.valid()) << path;
  ASSERT_EQ(pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()))
      << path;
}

}  // namespace

void MakeSparseFile(const std::string& path, uint64_t size, const std::vector<ByteRange>& data,
                    uint64_t seed) {
  {
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid()) << path;
    ASSERT_EQ(ftruncate(fd.get(), static_cast<off_t>(size)), 0) << path;
  }
  RandomBytes random(seed);
  for (const ByteRange& r : data) {
    std::vector<char> bytes(r.length);
    random.Fill(bytes);
    WriteAt(path, 0, bytes, r.offset);
  }
}

void WriteZeros(const std::string& path, uint64_t offset, uint64_t length) {
  WriteAt(path, O_CREAT, std::vector<char>(length, 0), offset);
}

uint64_t AllocatedBytes(const std::string& path) {
  // Synced first: ext4 allocates a delayed write's blocks (and its extent tree's) at writeback,
  // so an unsynced file counts fewer blocks than it will hold.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || fsync(fd.get()) != 0 || fstat(fd.get(), &st) != 0) return ~0ull;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

uint64_t SharedBytes(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  constexpr unsigned kMaxExtents = 256;
  std::vector<uint64_t> buffer((sizeof(fiemap) + kMaxExtents * sizeof(fiemap_extent)) / 8 + 1);
  auto* map = reinterpret_cast<fiemap*>(buffer.data());
  map->fm_length = FIEMAP_MAX_OFFSET;
  map->fm_flags = FIEMAP_FLAG_SYNC;
  map->fm_extent_count = kMaxExtents;
  if (ioctl(fd.get(), FS_IOC_FIEMAP, map) != 0) return 0;
  uint64_t shared = 0;
  for (unsigned i = 0; i < map->fm_mapped_extents; ++i) {
    if (map->fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED) shared += map->fm_extents[i].fe_length;
  }
  return shared;
}

std::vector<ByteRange> DataOf(const std::string& path) {
  std::vector<ByteRange> data;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) != 0) {
    ADD_FAILURE() << "cannot open " << path;
    return data;
  }
  EXPECT_OK(DataExtents(RealSysCalls(), fd.get(), static_cast<uint64_t>(st.st_size), path, &data));
  return data;
}

std::string ReadRange(const std::string& path, const ByteRange& range) {
  std::string bytes(range.length, '\0');
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  const ssize_t n =
      fd.valid() ? pread(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(range.offset))
                 : -1;
  bytes.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return bytes;
}

testing::AssertionResult SameSparseFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0) {
    return testing::AssertionFailure() << "cannot stat " << a << " or " << b;
  }
  if (sa.st_size != sb.st_size) {
    return testing::AssertionFailure() << "sizes " << sa.st_size << " and " << sb.st_size;
  }
  const std::vector<ByteRange> data = DataOf(a);
  if (DataOf(b) != data) return testing::AssertionFailure() << "data extents differ";
  for (const ByteRange& r : data) {
    if (ReadRange(a, r) != ReadRange(b, r)) {
      return testing::AssertionFailure() << "bytes differ in the data at " << r.offset;
    }
  }
  return testing::AssertionSuccess();
}

}  // namespace pcopy::test
