// preallocate_test.cc: the copy's checks of DEST's room before any worker starts, through the
// SysCalls seam (statvfs and fallocate): the free space check, the temporary's preallocation and
// its ENOSPC, the refusals that are simply written through, and, with both checks blinded, the
// ENOSPC the workers meet on a real small tmpfs with each method. In-process RunCopy.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "app/copy_job.h"
#include "base/size_parse.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::Exists;
using test::ListDir;
using test::Quoted;
using test::SameBytes;
using test::TempDir;
using test::Temporaries;

constexpr uint64_t kMiB = 1ull << 20;

// What the fakes do; reset by each test.
int g_fallocate_errno = 0;   // 0: call the real fallocate
int g_fallocate_eintrs = 0;  // EINTRs to give before that
int g_fallocate_calls = 0;
bool g_plenty_of_room = false;  // statvfs reports 1000 times the file system's size free
bool g_no_room = false;         // statvfs reports one free block
std::string g_worker_marker;    // created by the first pwrite of any process

int FakeFallocate(int fd, int mode, off_t offset, off_t length) {
  ++g_fallocate_calls;
  if (g_fallocate_eintrs > 0) {
    --g_fallocate_eintrs;
    errno = EINTR;
    return -1;
  }
  if (g_fallocate_errno != 0) {
    errno = g_fallocate_errno;
    return -1;
  }
  return ::fallocate(fd, mode, offset, length);
}

int FakeStatvfs(const char* path, struct statvfs* st) {
  if (::statvfs(path, st) != 0) return -1;
  if (g_plenty_of_room) st->f_bavail = st->f_blocks * 1000;
  if (g_no_room) st->f_bavail = 1;
  return 0;
}

ssize_t MarkingPwrite(int fd, const void* buf, size_t count, off_t offset) {
  if (!g_worker_marker.empty()) close(open(g_worker_marker.c_str(), O_WRONLY | O_CREAT, 0600));
  return ::pwrite(fd, buf, count, offset);
}

// The fakes above as a SysCalls; every other call goes to the kernel.
class PreallocateSysCalls final : public SysCalls {
 public:
  int fallocate(int fd, int mode, off_t offset, off_t length) const override {
    return FakeFallocate(fd, mode, offset, length);
  }
  int statvfs(const char* path, struct statvfs* st) const override { return FakeStatvfs(path, st); }
  ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const override {
    return MarkingPwrite(fd, buf, count, offset);
  }
};

class PreallocateTest : public testing::Test {
 protected:
  void SetUp() override {
    g_fallocate_errno = g_fallocate_eintrs = g_fallocate_calls = 0;
    g_plenty_of_room = g_no_room = false;
    g_worker_marker = marker_dir_ / "a worker wrote";
    src_ = t_ / "src";
    test::MakeRandomFile(src_, 4 * kMiB + 3, 131);
  }

  CopyOutcome Copy(const std::string& dst, Method method = Method::kPread,
                   ReflinkMode reflink = ReflinkMode::kAuto) {
    const PreallocateSysCalls sys;
    Options o;
    o.source = src_;
    o.dest = dst;
    o.jobs = 2;
    o.jobs_given = true;  // forked workers, whatever the size (app/in_process.h)
    o.method = method;
    o.reflink = reflink;
    CopyOutcome outcome = test::CopyInProcess(o, sys);
    return outcome;
  }
  bool WorkerWrote() const { return Exists(g_worker_marker); }

  TempDir t_, marker_dir_;
  std::string src_;
};

TEST_F(PreallocateTest, NoSpaceFromFallocateFailsBeforeAnyWorkerStarts) {
  g_fallocate_errno = ENOSPC;
  const std::string dst = t_ / "dst";
  const CopyOutcome outcome = Copy(dst);
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(),
            "cannot allocate space for " + Quoted(dst) + ": No space left on device");
  EXPECT_EQ(g_fallocate_calls, 1);
  EXPECT_FALSE(WorkerWrote()) << "a worker started after the allocation failed";
  EXPECT_EQ(t_.List(), std::vector<std::string>{"src"});
}

TEST_F(PreallocateTest, FileSystemsThatCannotPreallocateAreWrittenAnyway) {
  for (int err : {EOPNOTSUPP, ENOSYS, EINVAL}) {
    SCOPED_TRACE(err);
    g_fallocate_errno = err;
    const std::string dst = t_ / ("dst" + std::to_string(err));
    const CopyOutcome outcome = Copy(dst);
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    EXPECT_TRUE(SameBytes(src_, dst));
  }
  EXPECT_TRUE(Temporaries(t_.path()).empty());
}

TEST_F(PreallocateTest, InterruptedFallocateIsRetried) {
  g_fallocate_eintrs = 2;
  const std::string dst = t_ / "dst";
  const CopyOutcome outcome = Copy(dst);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(g_fallocate_calls, 3);
  EXPECT_TRUE(SameBytes(src_, dst));
}

TEST_F(PreallocateTest, SpaceCheckReadsTheDestinationsFileSystem) {
  g_no_room = true;
  const std::string dst = t_ / "dst";
  struct statvfs st {};
  ASSERT_EQ(statvfs(t_.path().c_str(), &st), 0);
  const CopyOutcome outcome = Copy(dst);
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(), "not enough space for " + Quoted(dst) + " on " +
                                           Quoted(t_.path()) + ": 4.00 MiB needed, " +
                                           FormatBytes(st.f_frsize) + " available");
  EXPECT_EQ(g_fallocate_calls, 0);
  EXPECT_FALSE(WorkerWrote());
  EXPECT_EQ(t_.List(), std::vector<std::string>{"src"});
}

// A real small tmpfs, with the free space check blinded: the kernel's own fallocate refuses.
TEST_F(PreallocateTest, RealFallocateOnATmpfsTooSmall) {
  if (!test::IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const std::string mnt = t_ / "mnt";
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  test::TmpfsMount mount(mnt, "size=1m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  g_plenty_of_room = true;
  const std::string dst = mnt + "/dst";
  const CopyOutcome outcome = Copy(dst);
  EXPECT_EQ(outcome.status.ToString(),
            "cannot allocate space for " + Quoted(dst) + ": No space left on device");
  EXPECT_FALSE(WorkerWrote());
  EXPECT_TRUE(ListDir(mnt).empty()) << testing::PrintToString(ListDir(mnt));
}

// Where neither check can see it coming (a file system whose free space is misreported, that
// cannot preallocate), the workers meet ENOSPC themselves: one line, nothing left, each method.
TEST_F(PreallocateTest, WorkersMeetNoSpaceWhenNeitherCheckSeesIt) {
  if (!test::IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const std::string mnt = t_ / "mnt";
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  test::TmpfsMount mount(mnt, "size=1m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  g_plenty_of_room = true;
  g_fallocate_errno = EOPNOTSUPP;
  for (Method m :
       {Method::kPread, Method::kSendfile, Method::kMmap, Method::kCopyFileRangeOrPread}) {
    SCOPED_TRACE(MethodName(m));
    const std::string dst = mnt + "/dst";
    const CopyOutcome outcome = Copy(dst, m);
    EXPECT_EQ(outcome.exit_code, kExitFailure);
    const std::string message = outcome.status.ToString();
    EXPECT_NE(message.find(Quoted(dst)), std::string::npos) << message;
    EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
    EXPECT_TRUE(ListDir(mnt).empty()) << testing::PrintToString(ListDir(mnt));
  }
}

// A clone (--reflink=auto) or copy_file_range shares extents on xfs: the copy takes no room, so
// neither the free space check nor the preallocation (which would defeat the sharing) applies.
TEST_F(PreallocateTest, ReflinkCopiesNeedNoRoom) {
  if (!test::IsRoot()) GTEST_SKIP() << "needs root to loop-mount xfs";
  const std::string mnt = t_ / "mnt";
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  test::LoopMount mount(mnt, "xfs", t_ / "image", 512 * kMiB);
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  src_ = mnt + "/src";
  test::MakeRandomFile(src_, 8 * kMiB, 132);
  g_no_room = true;
  const std::string dst = mnt + "/dst";
  const CopyOutcome outcome = Copy(dst, Method::kAuto);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(g_fallocate_calls, 0);
  EXPECT_TRUE(SameBytes(src_, dst));
  g_no_room = false;
  const CopyOutcome written = Copy(mnt + "/dst2", Method::kPread, ReflinkMode::kNever);
  ASSERT_TRUE(written.status.ok()) << written.status.ToString();
  EXPECT_EQ(g_fallocate_calls, 1) << "pread writes every byte: its temporary is preallocated";
}

}  // namespace
}  // namespace pcopy
