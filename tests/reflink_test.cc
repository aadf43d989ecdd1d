// reflink_test.cc: --reflink's decision for one file (copy/reflink.h), through a fake ioctl and
// fstatfs: which errnos auto falls back on, which fail, EINTR retried, always on a file system
// that cannot clone, and FICLONE called with the source descriptor itself. Then the range clone
// a tree's chunks use (FICLONERANGE): its arguments, its errnos, the block size, the rounding of
// data extents to whole blocks, a tree's up-front refusal under always, and the kernel's own
// rules on a loop-mounted xfs (root only).
#include "copy/reflink.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "e2e_copy_util.h"
#include "sparse_test_util.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::TempDir;
using test::WriteFile;

constexpr long kXfsMagic = 0x58465342, kBtrfsMagic = 0x9123683E;

// ioctl answers from `errnos` in turn (0: success) and records what it was asked; with `xfs`,
// fstatfs says every file is on xfs, which can share extents.
class FakeClone final : public SysCalls {
 public:
  int ioctl(int fd, unsigned long request, void* arg) const override {
    asked.push_back({fd, request, arg, {}});
    if (request == FICLONERANGE) asked.back().range = *static_cast<file_clone_range*>(arg);
    const int err = next < errnos.size() ? errnos[next++] : 0;
    if (err == 0) return 0;
    errno = err;
    return -1;
  }
  int fstatfs(int fd, struct statfs* st) const override {
    const int rc = SysCalls::fstatfs(fd, st);
    if (rc == 0 && xfs) st->f_type = kXfsMagic;
    if (rc == 0 && block_size != 0) st->f_bsize = block_size;
    return rc;
  }
  struct Call {
    int fd;
    unsigned long request;
    void* arg;
    file_clone_range range;  // FICLONERANGE's argument, as it was at the call
  };
  std::vector<int> errnos;
  bool xfs = true;
  long block_size = 0;  // what fstatfs says, if not 0
  mutable size_t next = 0;
  mutable std::vector<Call> asked;
};

// The real fd is on xfs or btrfs, where FICLONE may succeed.
bool OnCloningFileSystem(int fd) {
  struct statfs st;
  return fstatfs(fd, &st) == 0 && (st.f_type == kXfsMagic || st.f_type == kBtrfsMagic);
}

class ReflinkTest : public testing::Test {
 protected:
  void SetUp() override {
    WriteFile(t_ / "a", "the source");
    src_ = UniqueFd(open((t_ / "a").c_str(), O_RDONLY | O_CLOEXEC));
    dst_ = UniqueFd(open((t_ / "b").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    ASSERT_TRUE(src_.valid() && dst_.valid());
  }
  Status Clone(const SysCalls& sys, ReflinkMode mode) {
    return CloneIfAsked(sys, mode, src_.get(), dst_.get(), "a", "b", &result_);
  }

  TempDir t_;
  UniqueFd src_, dst_;
  CloneResult result_;
};

TEST_F(ReflinkTest, ClonesWithTheSourceDescriptorAsArgument) {
  FakeClone sys;
  ASSERT_OK(Clone(sys, ReflinkMode::kAuto));
  EXPECT_TRUE(result_.tried);
  EXPECT_TRUE(result_.cloned);
  ASSERT_EQ(sys.asked.size(), 1u);
  EXPECT_EQ(sys.asked[0].fd, dst_.get());
  EXPECT_EQ(sys.asked[0].request, static_cast<unsigned long>(FICLONE));
  EXPECT_EQ(reinterpret_cast<intptr_t>(sys.asked[0].arg), src_.get());
}

TEST_F(ReflinkTest, AutoFallsBackWhereTheCloneIsDeclined) {
  for (int err : {EOPNOTSUPP, EXDEV, EINVAL, ENOTTY, ENOSYS}) {
    SCOPED_TRACE(err);
    FakeClone sys;
    sys.errnos = {err};
    ASSERT_OK(Clone(sys, ReflinkMode::kAuto));
    EXPECT_TRUE(result_.tried);
    EXPECT_FALSE(result_.cloned);
    EXPECT_EQ(result_.declined, err);
  }
}

// auto fails on an errno that is not a refusal; always on any: one line naming both files.
TEST_F(ReflinkTest, FailuresNameBothFilesAndTheCause) {
  struct Case {
    ReflinkMode mode;
    int err;
    const char* message;
  };
  for (const Case& c : {Case{ReflinkMode::kAuto, EPERM, "Operation not permitted"},
                        Case{ReflinkMode::kAlways, EXDEV, "Invalid cross-device link"},
                        Case{ReflinkMode::kAlways, EOPNOTSUPP, "Operation not supported"}}) {
    SCOPED_TRACE(c.message);
    FakeClone sys;
    sys.errnos = {c.err};
    EXPECT_EQ(Clone(sys, c.mode).ToString(), std::string("cannot clone 'a' to 'b': ") + c.message);
    EXPECT_FALSE(result_.cloned);
    EXPECT_EQ(result_.declined, 0);
  }
}

TEST_F(ReflinkTest, EintrIsRetried) {
  FakeClone sys;
  sys.errnos = {EINTR, EINTR, 0};
  ASSERT_OK(Clone(sys, ReflinkMode::kAlways));
  EXPECT_TRUE(result_.cloned);
  EXPECT_EQ(sys.asked.size(), 3u);
}

TEST_F(ReflinkTest, NeverAsksNothing) {
  FakeClone sys;
  ASSERT_OK(Clone(sys, ReflinkMode::kNever));
  EXPECT_FALSE(result_.tried);
  EXPECT_TRUE(sys.asked.empty());
}

// On a file system that cannot share extents auto does not even ask; always asks anyway.
TEST_F(ReflinkTest, AutoAsksOnlyWhereExtentsCanBeShared) {
  FakeClone sys;
  sys.xfs = false;
  if (OnCloningFileSystem(src_.get())) GTEST_SKIP() << "$TMPDIR can share extents";
  ASSERT_OK(Clone(sys, ReflinkMode::kAuto));
  EXPECT_FALSE(result_.tried);
  EXPECT_TRUE(sys.asked.empty());
  sys.errnos = {EOPNOTSUPP};
  EXPECT_FALSE(Clone(sys, ReflinkMode::kAlways).ok());
  EXPECT_EQ(sys.asked.size(), 1u);
}

// The real kernel on $TMPDIR's file system (ext4 or tmpfs here): FICLONE is refused.
TEST_F(ReflinkTest, AlwaysOnAFileSystemThatCannotClone) {
  if (OnCloningFileSystem(src_.get())) GTEST_SKIP() << "$TMPDIR can share extents";
  EXPECT_EQ(Clone(RealSysCalls(), ReflinkMode::kAlways).ToString(),
            "cannot clone 'a' to 'b': Operation not supported");
  EXPECT_EQ(IsCloneDeclinedErrno(EOPNOTSUPP), true);
}

// ---------------------------------------------------------------------------------------------
// FICLONERANGE, for one chunk of a large file.

TEST_F(ReflinkTest, CloneRangeAsksForTheSameRangeOfBothFiles) {
  FakeClone sys;
  EXPECT_EQ(CloneRange(sys, src_.get(), dst_.get(), 1 << 20, 5000), 0);
  ASSERT_EQ(sys.asked.size(), 1u);
  EXPECT_EQ(sys.asked[0].fd, dst_.get());
  EXPECT_EQ(sys.asked[0].request, static_cast<unsigned long>(FICLONERANGE));
  EXPECT_EQ(sys.asked[0].range.src_fd, src_.get());
  EXPECT_EQ(sys.asked[0].range.src_offset, 1u << 20);
  EXPECT_EQ(sys.asked[0].range.dest_offset, 1u << 20);
  EXPECT_EQ(sys.asked[0].range.src_length, 5000u);
}

// Length 0 would clone to the end of the source: nothing is asked instead.
TEST_F(ReflinkTest, CloneRangeOfNothingAsksNothing) {
  FakeClone sys;
  EXPECT_EQ(CloneRange(sys, src_.get(), dst_.get(), 4096, 0), 0);
  EXPECT_TRUE(sys.asked.empty());
}

TEST_F(ReflinkTest, CloneRangeRetriesEintrAndReturnsTheErrno) {
  for (int err : {EOPNOTSUPP, EXDEV, EINVAL, EIO, ENOSPC}) {
    SCOPED_TRACE(err);
    FakeClone sys;
    sys.errnos = {EINTR, err};
    EXPECT_EQ(CloneRange(sys, src_.get(), dst_.get(), 0, 4096), err);
    EXPECT_EQ(sys.asked.size(), 2u);
    // What a worker then does with it: auto copies the chunk on the first three.
    EXPECT_EQ(IsCloneDeclinedErrno(err), err == EOPNOTSUPP || err == EXDEV || err == EINVAL);
  }
}

// The real kernel on $TMPDIR's file system (ext4 or tmpfs here): the range clone is declined.
TEST_F(ReflinkTest, CloneRangeIsDeclinedWhereTheFileSystemCannotClone) {
  if (OnCloningFileSystem(src_.get())) GTEST_SKIP() << "$TMPDIR can share extents";
  const int err = CloneRange(RealSysCalls(), src_.get(), dst_.get(), 0, 10);
  EXPECT_TRUE(IsCloneDeclinedErrno(err)) << strerror(err);
}

TEST_F(ReflinkTest, CloneBlockSizeIsTheFileSystemsBlock) {
  FakeClone sys;
  sys.block_size = 65536;
  EXPECT_EQ(CloneBlockSize(sys, src_.get()), 65536u);
  sys.block_size = 3000;  // not a power of two: no alignment to trust
  EXPECT_EQ(CloneBlockSize(sys, src_.get()), 4096u);
  EXPECT_EQ(CloneBlockSize(sys, -1), 4096u);
}

// fstatfs says what `types` holds for each descriptor.
class FakeFileSystems final : public SysCalls {
 public:
  int fstatfs(int fd, struct statfs* st) const override {
    const int rc = SysCalls::fstatfs(fd, st);
    if (rc == 0) st->f_type = types.at(fd);
    return rc;
  }
  std::map<int, long> types;
};

// A tree's --reflink=always is refused up front only where every clone would be.
TEST_F(ReflinkTest, CloneRefusalForATree) {
  constexpr long kExt4 = 0xEF53, kTmpfs = 0x01021994, kOther = 0x12345678;
  struct Case {
    long src, dst;
    int err;
  };
  for (const Case& c : {Case{kXfsMagic, kXfsMagic, 0}, Case{kBtrfsMagic, kBtrfsMagic, 0},
                        Case{kXfsMagic, kBtrfsMagic, EXDEV}, Case{kXfsMagic, kExt4, EXDEV},
                        Case{kExt4, kExt4, EOPNOTSUPP}, Case{kTmpfs, kTmpfs, EOPNOTSUPP},
                        Case{kOther, kOther, 0}}) {
    SCOPED_TRACE(testing::Message() << std::hex << c.src << " to " << c.dst);
    FakeFileSystems sys;
    sys.types = {{src_.get(), c.src}, {dst_.get(), c.dst}};
    EXPECT_EQ(CloneRefusal(sys, src_.get(), dst_.get()), c.err);
  }
  EXPECT_EQ(CloneRefusal(RealSysCalls(), -1, dst_.get()), 0);  // unknown: the files tell
}

TEST(CloneRanges, RoundsOutToBlocksMergesAndStopsAtTheEnd) {
  const std::vector<ByteRange> data = {{0, 100}, {5000, 10}, {8192, 4096}, {20000, 100}};
  EXPECT_EQ(CloneRanges(data, 4096, 20100), (std::vector<ByteRange>{{0, 12288}, {16384, 3716}}));
  EXPECT_EQ(CloneRanges({{0, 1 << 20}}, 4096, 1 << 20), (std::vector<ByteRange>{{0, 1 << 20}}));
  EXPECT_EQ(CloneRanges({}, 4096, 1 << 20), std::vector<ByteRange>{});
}

// The kernel's rules, which the tree's chunks are laid out to meet: whole blocks, except a range
// that ends at the source's end, into a file sized to the source's length. Chunks cloned in any
// order make a file equal to the source, sharing its extents.
TEST(CloneRangeOnXfs, ChunksInAnyOrderMakeAClone) {
  if (!test::IsRoot()) GTEST_SKIP() << "needs root to loop-mount xfs";
  TempDir t;
  const std::string mnt = t / "mnt", src = mnt + "/src", dst = mnt + "/dst";
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  test::LoopMount mount(mnt, "xfs", t / "image", 512 * test::kMiB, {"-m", "reflink=1"});
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  constexpr uint64_t kChunk = 64 * 1024, kSize = 3 * kChunk + 1234;
  test::MakeRandomFile(src, kSize, 7);
  UniqueFd in(open(src.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd out(open(dst.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  ASSERT_TRUE(in.valid() && out.valid());
  const SysCalls& sys = RealSysCalls();
  ASSERT_EQ(CloneBlockSize(sys, out.get()) % 4096, 0u);
  EXPECT_EQ(CloneRange(sys, in.get(), out.get(), 0, kChunk + 100), EINVAL);  // not whole blocks
  ASSERT_EQ(ftruncate(out.get(), kSize), 0);
  for (uint64_t offset : {3 * kChunk, kChunk, 0 * kChunk, 2 * kChunk}) {
    SCOPED_TRACE(offset);
    EXPECT_EQ(CloneRange(sys, in.get(), out.get(), offset, std::min(kChunk, kSize - offset)), 0);
  }
  EXPECT_TRUE(test::SameBytes(src, dst));
  EXPECT_GE(test::SharedBytes(dst), kSize);
}

}  // namespace
}  // namespace pcopy
