// reflink_test.cc: --reflink's decision for one file (copy/reflink.h), through a fake ioctl and
// fstatfs: which errnos auto falls back on, which fail, EINTR retried, always on a file system
// that cannot clone, and FICLONE called with the source descriptor itself.
#include "copy/reflink.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.h"
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
    asked.push_back({fd, request, arg});
    const int err = next < errnos.size() ? errnos[next++] : 0;
    if (err == 0) return 0;
    errno = err;
    return -1;
  }
  int fstatfs(int fd, struct statfs* st) const override {
    const int rc = SysCalls::fstatfs(fd, st);
    if (rc == 0 && xfs) st->f_type = kXfsMagic;
    return rc;
  }
  struct Call {
    int fd;
    unsigned long request;
    void* arg;
  };
  std::vector<int> errnos;
  bool xfs = true;
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

}  // namespace
}  // namespace pcopy
