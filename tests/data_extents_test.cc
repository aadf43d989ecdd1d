// data_extents_test.cc: finding a file's data (os/data_extents.h): on real files with holes in
// $TMPDIR, and through a fake lseek for the file systems that cannot seek by data, an error, and
// SourceExtents' choice of whether to look at all.
#include "os/data_extents.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "sparse_test_util.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::kKiB;
using test::kTiB;
using test::MakeSparseFile;
using test::TempDir;

constexpr uint64_t kMiB = 1ull << 20;

// lseek fails with `err` (0: the kernel's lseek); fstat may claim the file has no holes.
class FakeSeek final : public SysCalls {
 public:
  off_t lseek(int fd, off_t offset, int whence) const override {
    ++calls;
    if (err == 0) return SysCalls::lseek(fd, offset, whence);
    errno = err;
    return -1;
  }
  int fstat(int fd, struct stat* st) const override {
    const int rc = SysCalls::fstat(fd, st);
    if (rc == 0 && dense) st->st_blocks = (st->st_size + 511) / 512;
    return rc;
  }
  int err = 0;
  bool dense = false;
  mutable int calls = 0;
};

class DataExtentsTest : public testing::Test {
 protected:
  // A file of `size` bytes with data in `data`, opened for reading.
  void Make(uint64_t size, const std::vector<ByteRange>& data) {
    MakeSparseFile(path_, size, data);
    fd_ = UniqueFd(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd_.valid());
  }
  std::vector<ByteRange> Extents(uint64_t size, const SysCalls& sys = RealSysCalls()) {
    std::vector<ByteRange> out;
    EXPECT_OK(DataExtents(sys, fd_.get(), size, "f", &out));
    return out;
  }

  TempDir t_;
  const std::string path_ = t_ / "f";
  UniqueFd fd_;
};

TEST_F(DataExtentsTest, FindsTheDataBetweenHoles) {
  Make(4 * kMiB, {{0, 4096}, {kMiB, 8192}, {3 * kMiB, 4096}});
  EXPECT_EQ(Extents(4 * kMiB), (std::vector<ByteRange>{{0, 4096}, {kMiB, 8192}, {3 * kMiB, 4096}}));
}

TEST_F(DataExtentsTest, AllHoleHasNoData) {
  Make(kTiB, {});
  EXPECT_EQ(Extents(kTiB), (std::vector<ByteRange>{}));
}

TEST_F(DataExtentsTest, DataToTheEndEndsAtTheSize) {
  Make(kMiB + 100, {{kMiB, 100}});
  EXPECT_EQ(Extents(kMiB + 100), (std::vector<ByteRange>{{kMiB, 100}}));
}

// Only the first `size` bytes are copied (the file grew after it was sized): nothing past them.
TEST_F(DataExtentsTest, ClampedToTheSizeAsked) {
  Make(4 * kMiB, {{0, 2 * kMiB}, {3 * kMiB, 4096}});
  EXPECT_EQ(Extents(kMiB), (std::vector<ByteRange>{{0, kMiB}}));
  EXPECT_EQ(Extents(3 * kMiB), (std::vector<ByteRange>{{0, 2 * kMiB}}));
}

TEST_F(DataExtentsTest, FileSystemWithoutSeekDataIsAllData) {
  Make(kMiB, {{0, 4096}});
  for (int err : {EINVAL, EOPNOTSUPP, ENOSYS}) {
    SCOPED_TRACE(err);
    FakeSeek sys;
    sys.err = err;
    EXPECT_EQ(Extents(kMiB, sys), (std::vector<ByteRange>{{0, kMiB}}));
  }
}

TEST_F(DataExtentsTest, SeekPastTheDataMeansHoleToTheEnd) {
  Make(kMiB, {{0, 4096}});
  FakeSeek sys;
  sys.err = ENXIO;
  EXPECT_EQ(Extents(kMiB, sys), (std::vector<ByteRange>{}));
}

TEST_F(DataExtentsTest, OtherErrorsNameTheFile) {
  Make(kMiB, {{0, 4096}});
  FakeSeek sys;
  sys.err = EIO;
  std::vector<ByteRange> out;
  const Status s = DataExtents(sys, fd_.get(), kMiB, "f", &out);
  EXPECT_EQ(s.ToString(), "cannot find the data of 'f' at offset 0: Input/output error");
}

TEST_F(DataExtentsTest, SourceExtentsLooksOnlyWhereAsked) {
  Make(4 * kMiB, {{kMiB, 4096}});
  const std::vector<ByteRange> whole = {{0, 4 * kMiB}}, data = {{kMiB, 4096}};
  std::vector<ByteRange> out;
  FakeSeek sys;
  ASSERT_OK(SourceExtents(sys, fd_.get(), 4 * kMiB, SparseMode::kNever, "f", &out));
  EXPECT_EQ(out, whole);
  ASSERT_OK(SourceExtents(sys, fd_.get(), 4 * kMiB, SparseMode::kAuto, "f", &out));
  EXPECT_EQ(out, data);
  ASSERT_OK(SourceExtents(sys, fd_.get(), 4 * kMiB, SparseMode::kAlways, "f", &out));
  EXPECT_EQ(out, data);
  // A file whose blocks cover its length is not mapped under auto: no lseek at all.
  sys.dense = true;
  sys.calls = 0;
  ASSERT_OK(SourceExtents(sys, fd_.get(), 4 * kMiB, SparseMode::kAuto, "f", &out));
  EXPECT_EQ(out, whole);
  EXPECT_EQ(sys.calls, 0);
  ASSERT_OK(SourceExtents(sys, fd_.get(), 4 * kMiB, SparseMode::kAlways, "f", &out));
  EXPECT_EQ(out, data);
  EXPECT_GT(sys.calls, 0);
  ASSERT_OK(SourceExtents(sys, fd_.get(), 0, SparseMode::kNever, "f", &out));
  EXPECT_TRUE(out.empty());
}

TEST(MayHaveHolesTest, ComparesBlocksWithLength) {
  struct stat st = {};
  st.st_mode = S_IFREG | 0644;
  st.st_size = 8192;
  st.st_blocks = 8;
  EXPECT_TRUE(MayHaveHoles(st));
  st.st_blocks = 16;
  EXPECT_FALSE(MayHaveHoles(st));
  st.st_mode = S_IFBLK | 0644;
  st.st_blocks = 0;
  EXPECT_FALSE(MayHaveHoles(st)) << "a block device has no st_blocks to go by";
}

TEST(TotalBytesTest, SumsLengths) {
  EXPECT_EQ(TotalBytes({}), 0u);
  EXPECT_EQ(TotalBytes({{0, 10}, {100, 4 * kKiB}}), 10 + 4 * kKiB);
}

}  // namespace
}  // namespace pcopy
