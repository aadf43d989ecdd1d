// writeback_test.cc: the durable pipeline of --fsync (copy/writeback.h): which ranges are handed
// to the disk and when, which are waited for and dropped, and how a failure reads.
#include "copy/writeback.h"

#include <fcntl.h>

#include <cerrno>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr unsigned kWait =
    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

// Records sync_file_range and posix_fadvise as "start 0+4", "wait 0+4", "drop 0+4" (MiB);
// fails the fail_at-th sync_file_range (1-based) with fail_errno, after eintr EINTRs.
class FakeWriteback final : public SysCalls {
 public:
  int sync_file_range(int fd, off_t offset, off_t length, unsigned flags) const override {
    EXPECT_EQ(fd, 9);
    if (eintr > 0) {
      --eintr;
      errno = EINTR;
      return -1;
    }
    calls.push_back(Name(flags == SYNC_FILE_RANGE_WRITE ? "start"
                         : flags == kWait               ? "wait"
                                                        : "?",
                         offset, length));
    if (++syncs == fail_at) {
      errno = fail_errno;
      return -1;
    }
    return 0;
  }
  int posix_fadvise(int, off_t offset, off_t length, int advice) const override {
    calls.push_back(Name(advice == POSIX_FADV_DONTNEED ? "drop" : "?", offset, length));
    return 0;
  }
  static std::string Name(const char* what, off_t offset, off_t length) {
    return std::string(what) + " " + std::to_string(offset / kMiB) + "+" +
           std::to_string(length / kMiB);
  }

  mutable std::vector<std::string> calls;
  mutable int syncs = 0;
  mutable int eintr = 0;
  int fail_at = 0;
  int fail_errno = 0;
};

TEST(WritebackTest, StartsEachWindowAndWaitsForTheOldestBeyondTheDepth) {
  FakeWriteback sys;
  WritebackPipeline pipeline(&sys, 9, 4 * kMiB, 2);
  for (uint64_t mib = 0; mib < 14; ++mib) ASSERT_TRUE(pipeline.Wrote(mib * kMiB, kMiB).ok());
  const std::vector<std::string> copying = {"start 0+4", "start 4+4", "start 8+4", "wait 0+4",
                                            "drop 0+4"};
  EXPECT_EQ(sys.calls, copying);
  ASSERT_TRUE(pipeline.Drain().ok());
  const std::vector<std::string> all = {"start 0+4", "start 4+4",  "start 8+4", "wait 0+4",
                                        "drop 0+4",  "start 12+2", "wait 4+4",  "drop 4+4",
                                        "wait 8+4",  "drop 8+4",   "wait 12+2", "drop 12+2"};
  EXPECT_EQ(sys.calls, all);
}

TEST(WritebackTest, AGapStartsWhatWasPendingAndEINTRIsRetried) {
  FakeWriteback sys;
  sys.eintr = 2;
  WritebackPipeline pipeline(&sys, 9, 8 * kMiB, 4);
  ASSERT_TRUE(pipeline.Wrote(0, 2 * kMiB).ok());
  ASSERT_TRUE(pipeline.Wrote(5 * kMiB, kMiB).ok());  // another unit of the file
  ASSERT_TRUE(pipeline.Wrote(6 * kMiB, kMiB).ok());
  ASSERT_TRUE(pipeline.Drain().ok());
  const std::vector<std::string> expected = {"start 0+2", "start 5+2", "wait 0+2",
                                             "drop 0+2",  "wait 5+2",  "drop 5+2"};
  EXPECT_EQ(sys.calls, expected);
  EXPECT_TRUE(pipeline.Drain().ok()) << "a drained pipeline drains again with nothing to do";
  EXPECT_EQ(sys.calls.size(), expected.size());
}

// A file system without sync_file_range turns the pipeline off, not the copy: the caller's final
// fdatasync does the work there (as os/stepped_sync.h falls back to it).
TEST(WritebackTest, AFileSystemWithoutSyncFileRangeIsNoError) {
  for (int err : {ENOSYS, EINVAL, EOPNOTSUPP}) {
    SCOPED_TRACE(err);
    FakeWriteback sys;
    sys.fail_at = 1;
    sys.fail_errno = err;
    WritebackPipeline pipeline(&sys, 9, 4 * kMiB, 2);
    for (uint64_t mib = 0; mib < 12; ++mib) ASSERT_TRUE(pipeline.Wrote(mib * kMiB, kMiB).ok());
    ASSERT_TRUE(pipeline.Drain().ok());
    EXPECT_EQ(sys.calls, std::vector<std::string>{"start 0+4"}) << "tried again after a refusal";
    EXPECT_TRUE(StartWriteback(&sys, 9, ByteRange{0, kMiB}).ok());
  }
}

TEST(WritebackTest, AFailureIsAnFdatasyncOfDestAtTheWindowsOffset) {
  for (int fail_at : {1, 2}) {  // the start of the second window, or the wait for the first
    SCOPED_TRACE(fail_at);
    FakeWriteback sys;
    sys.fail_at = fail_at == 1 ? 2 : 3;
    sys.fail_errno = EIO;
    WritebackPipeline pipeline(&sys, 9, 4 * kMiB, 1);
    IoError e;
    for (uint64_t mib = 0; mib < 8 && e.ok(); ++mib) e = pipeline.Wrote(mib * kMiB, kMiB);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(ToStatus(e, "src", "dst").ToString(),
              fail_at == 1 ? "fdatasync 'dst' at offset 4194304: Input/output error"
                           : "fdatasync 'dst' at offset 0: Input/output error");
  }
}

}  // namespace
}  // namespace pcopy
