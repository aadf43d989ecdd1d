// stepped_sync_test.cc: SyncInSteps, the fdatasync that takes signals between 64 MiB steps.
#include "os/stepped_sync.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr unsigned kAllFlags =
    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

// Records the sync calls; can fail a call or raise a signal during one.
class FakeSync final : public SysCalls {
 public:
  struct Step {
    off_t offset;
    off_t length;
    unsigned flags;
  };
  int sync_file_range(int, off_t offset, off_t length, unsigned flags) const override {
    steps.push_back({offset, length, flags});
    if (raise_on_step == steps.size()) raise(SIGTERM);
    if (step_errno != 0) {
      errno = step_errno;
      return -1;
    }
    return 0;
  }
  int fdatasync(int) const override {
    ++datasyncs;
    if (datasync_errno != 0) {
      errno = datasync_errno;
      return -1;
    }
    return 0;
  }
  mutable std::vector<Step> steps;
  mutable int datasyncs = 0;
  size_t raise_on_step = 0;  // 1-based; 0: never
  int step_errno = 0;
  int datasync_errno = 0;
};

TEST(SteppedSyncTest, WritesAndWaitsInStepsThenFdatasync) {
  FakeSync sys;
  ASSERT_OK(SyncInSteps(sys, 7, "dst", 3 * kSyncStep + 5 * kMiB, nullptr));
  ASSERT_EQ(sys.steps.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(static_cast<uint64_t>(sys.steps[i].offset), i * kSyncStep);
    EXPECT_EQ(sys.steps[i].flags, kAllFlags);
  }
  EXPECT_EQ(static_cast<uint64_t>(sys.steps[0].length), kSyncStep);
  EXPECT_EQ(static_cast<uint64_t>(sys.steps[3].length), 5 * kMiB);
  EXPECT_EQ(sys.datasyncs, 1);
}

TEST(SteppedSyncTest, EmptyFileIsOnlyFdatasynced) {
  FakeSync sys;
  ASSERT_OK(SyncInSteps(sys, 7, "dst", 0, nullptr));
  EXPECT_TRUE(sys.steps.empty());
  EXPECT_EQ(sys.datasyncs, 1);
}

TEST(SteppedSyncTest, StepFailureIsReportedAsFdatasync) {
  FakeSync sys;
  sys.step_errno = EIO;
  const Status s = SyncInSteps(sys, 7, "dst", 2 * kSyncStep, nullptr);
  EXPECT_EQ(s.ToString(), "fdatasync 'dst': Input/output error");
  EXPECT_EQ(sys.steps.size(), 1u);
  EXPECT_EQ(sys.datasyncs, 0);
}

TEST(SteppedSyncTest, NoSyncFileRangeFallsBackToFdatasync) {
  FakeSync sys;
  sys.step_errno = EINVAL;
  sys.datasync_errno = EIO;
  const Status s = SyncInSteps(sys, 7, "dst", 2 * kSyncStep, nullptr);
  EXPECT_EQ(s.ToString(), "fdatasync 'dst': Input/output error");
  EXPECT_EQ(sys.steps.size(), 1u);
  EXPECT_EQ(sys.datasyncs, 1);
}

TEST(SteppedSyncTest, RealFile) {
  test::TempDir t;
  test::MakeRandomFile(t / "f", 3 * kMiB + 1, 3);
  const int fd = open((t / "f").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_OK(SyncInSteps(RealSysCalls(), fd, t / "f", 3 * kMiB + 1, nullptr));
  close(fd);
}

// A SIGTERM that arrives during step 2 (it stays pending: the guard blocks it) is taken before
// step 3: no further step and no fdatasync. In a forked child, which exits with the number of
// steps taken (or 100 + the reason it failed).
int InterruptedChild() {
  SignalGuard guard;
  FakeSync sys;
  sys.raise_on_step = 2;
  const Status s = SyncInSteps(sys, 7, "dst", 10 * kSyncStep, &guard);
  if (s.signal() != SIGTERM) return 101;
  if (sys.datasyncs != 0) return 102;
  return static_cast<int>(sys.steps.size());
}

TEST(SteppedSyncTest, SignalBetweenStepsStopsTheSync) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(10);
    _exit(InterruptedChild());
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 2) << "steps taken (101: not interrupted, 102: fdatasync ran)";
}

}  // namespace
}  // namespace pcopy
