// range_copy_test.cc: CopyRange, copy_file_range's fallback to pread/pwrite, and its errors.
#include "copy/range_copy.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "app/options.h"
#include "copy/io.h"
#include "io_test_util.h"
#include "os/sys_calls.h"
#include "test_util.h"

namespace pcopy {
namespace {

TEST_F(IoTest, CopyFileRangeCopiesRange) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange}) {
    SCOPED_TRACE(MethodName(m));
    MakeFiles(kSize, kSize);
    ASSERT_OK(Copy(m, 0, kSize));
    EXPECT_TRUE(Copied(0, kSize));
    EXPECT_EQ(sink_.total, kSize);
    EXPECT_EQ(g.pread_calls, 0);
    EXPECT_TRUE(state_.Used(Method::kCopyFileRange));
    EXPECT_FALSE(state_.Used(Method::kPread));
    EXPECT_EQ(state_.fallback_errno, -1);
    EXPECT_EQ(state_.method, m);
  }
}

TEST_F(IoTest, InnerRangeLeavesTheRestAlone) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
    g = Faults{};
    MakeFiles(kSize, kSize);
    const uint64_t offset = 3 * 4096 + 5, length = 700001;
    ASSERT_OK(Copy(m, offset, length));
    EXPECT_TRUE(Copied(offset, length));
    EXPECT_EQ(sink_.total, length);
  }
}

TEST_F(IoTest, ZeroLengthDoesNothing) {
  MakeFiles(4096, 4096);
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange, Method::kPread}) {
    ASSERT_OK(Copy(m, 100, 0));
  }
  EXPECT_TRUE(Copied(0, 0));
  EXPECT_EQ(sink_.total, 0u);
  EXPECT_EQ(g.pwrite_calls, 0);
}

TEST_F(IoTest, FallbackErrnos) {
  const uint64_t offset = 3 * 4096 + 5, length = 700001;
  for (int err : {EXDEV, EOPNOTSUPP, ENOSYS, EINVAL, EPERM}) {
    // On the very first call, and after some bytes went through at an offset no buffer or step
    // size would land on.
    for (uint64_t fail_at : {offset, offset + 123457}) {
      SCOPED_TRACE(std::string(strerror(err)) + " at " + std::to_string(fail_at));
      g = Faults{};
      g.cfr_errno = err;
      g.cfr_fail_at = fail_at;
      MakeFiles(kSize, kSize);
      ASSERT_OK(Copy(Method::kCopyFileRangeOrPread, offset, length));
      EXPECT_TRUE(Copied(offset, length));
      EXPECT_EQ(sink_.total, length);
      EXPECT_EQ(state_.fallback_errno, err);
      EXPECT_EQ(state_.method, Method::kPread);
      EXPECT_TRUE(state_.Used(Method::kPread));
      EXPECT_EQ(state_.Used(Method::kCopyFileRange), fail_at != offset);
      // pread/pwrite continue exactly where copy_file_range stopped: not before (bytes twice),
      // not after (a hole).
      EXPECT_EQ(g.first_pread_offset, static_cast<int64_t>(fail_at));
    }
  }
}

// The job resolves --method auto before workers start; an unresolved kAuto that reaches
// CopyRange still copies, as copy_file_range with the fallback.
TEST_F(IoTest, UnresolvedAutoFallsBackLikeCopyFileRangeOrPread) {
  const uint64_t fail_at = 123457;
  g.cfr_errno = EXDEV;
  g.cfr_fail_at = fail_at;
  MakeFiles(kSize, kSize);
  ASSERT_OK(Copy(Method::kAuto, 0, kSize));
  EXPECT_TRUE(Copied(0, kSize));
  EXPECT_EQ(state_.fallback_errno, EXDEV);
  EXPECT_TRUE(state_.Used(Method::kCopyFileRange));
  EXPECT_EQ(g.first_pread_offset, static_cast<int64_t>(fail_at));
}

TEST_F(IoTest, FallbackSurvivesIntoTheNextRange) {
  MakeFiles(kSize, kSize);
  g.cfr_errno = EXDEV;
  g.cfr_fail_at = 0;
  state_.method = Method::kCopyFileRangeOrPread;
  const CopyEnv env = Env();
  ASSERT_OK(Named(CopyRange(env, &state_, 0, 4096, sink_)));
  const int calls = g.cfr_calls;
  ASSERT_OK(Named(CopyRange(env, &state_, 4096, kSize - 4096, sink_)));
  EXPECT_EQ(g.cfr_calls, calls) << "copy_file_range was tried again after it was declined";
  EXPECT_TRUE(Copied(0, kSize));
  EXPECT_EQ(sink_.total, kSize);
  EXPECT_EQ(state_.fallback_errno, EXDEV);
}

TEST_F(IoTest, EarlyZeroFallsBack) {
  const uint64_t offset = 4096, length = 600000;
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange}) {
    for (uint64_t zero_at : {offset, offset + 99999}) {
      SCOPED_TRACE(std::string(MethodName(m)) + " at " + std::to_string(zero_at));
      g = Faults{};
      g.cfr_zero = true;
      g.cfr_zero_at = zero_at;
      MakeFiles(kSize, kSize);
      ASSERT_OK(Copy(m, offset, length));
      EXPECT_TRUE(Copied(offset, length));
      EXPECT_EQ(sink_.total, length);
      EXPECT_EQ(state_.fallback_errno, 0);
      EXPECT_TRUE(state_.Used(Method::kPread));
      EXPECT_EQ(g.first_pread_offset, static_cast<int64_t>(zero_at));
    }
  }
}

TEST_F(IoTest, CopyFileRangeMethodReportsDeclines) {
  for (int err : {EXDEV, EOPNOTSUPP, ENOSYS, EINVAL, EPERM}) {
    SCOPED_TRACE(strerror(err));
    g = Faults{};
    g.cfr_errno = err;
    g.cfr_fail_at = 300000;
    MakeFiles(kSize, kSize);
    const Status s = Copy(Method::kCopyFileRange, 4096, 500000);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err(), err);
    EXPECT_EQ(s.op(), "copy_file_range");
    EXPECT_EQ(s.offset(), std::optional<uint64_t>(300000));
    EXPECT_TRUE(Contains(s.ToString(), "copy_file_range '" + src_ + "'"));
    EXPECT_TRUE(Contains(s.ToString(), "'" + dst_ + "' at offset 300000: "));
    EXPECT_TRUE(Contains(s.ToString(), strerror(err)));
    EXPECT_EQ(g.pread_calls, 0);
    EXPECT_EQ(sink_.total, 300000u - 4096u);
  }
}

TEST_F(IoTest, CopyFileRangeExdevMessage) {
  g.cfr_errno = EXDEV;
  g.cfr_fail_at = 0;
  MakeFiles(4096, 4096);
  const Status s = Copy(Method::kCopyFileRange, 0, 4096);
  EXPECT_EQ(s.ToString(), "copy_file_range '" + src_ + "' to '" + dst_ +
                              "' at offset 0: Invalid cross-device link");
}

TEST_F(IoTest, OtherCopyFileRangeErrorsAreNotFallbacks) {
  g.cfr_errno = EIO;
  g.cfr_fail_at = 200000;
  MakeFiles(kSize, kSize);
  const Status s = Copy(Method::kCopyFileRangeOrPread, 0, kSize);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err(), EIO);
  EXPECT_EQ(s.op(), "copy_file_range");
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(200000));
  EXPECT_EQ(g.pread_calls, 0);
  EXPECT_EQ(state_.fallback_errno, -1);
}

TEST_F(IoTest, CopyFileRangeEnospcIsAWrite) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange}) {
    SCOPED_TRACE(MethodName(m));
    const uint64_t full_at = 4096 * 50 + 7;
    g = Faults{};
    g.cfr_errno = ENOSPC;
    g.cfr_fail_at = full_at;
    MakeFiles(kSize, kSize);
    const Status s = Copy(m, 0, kSize);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.ToString(), "write '" + dst_ + "' at offset " + std::to_string(full_at) +
                                ": No space left on device");
    EXPECT_EQ(g.pread_calls, 0) << "ENOSPC is no reason to fall back";
    EXPECT_EQ(sink_.total, full_at);
  }
}

TEST_F(IoTest, PreadEioAfterFallback) {
  g.cfr_errno = EXDEV;
  g.cfr_fail_at = 50000;
  g.pread_errno = EIO;
  g.pread_fail_at = 70001;
  MakeFiles(kSize, kSize);
  const Status s = Copy(Method::kCopyFileRangeOrPread, 0, kSize);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "read '" + src_ + "' at offset 70001: Input/output error");
}

TEST_F(IoTest, SourceShorterThanRange) {
  const uint64_t src_size = 10000;
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
    g = Faults{};
    MakeFiles(src_size, 20000);
    const Status s = Copy(m, 0, 20000, 4096);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(Contains(s.ToString(), "unexpected end of file")) << s.ToString();
    EXPECT_TRUE(Contains(s.ToString(), "read '" + src_ + "' at offset 10000: "));
    EXPECT_EQ(s.ToString(), Named(SourceChanged(src_size)).ToString());
    EXPECT_LE(sink_.total, src_size);
  }
}

TEST_F(IoTest, CopyFileRangeStepsStayBelowTwoGiB) {
  MakeFiles(0, 0);
  g.cfr_pretend = true;
  const uint64_t length = 5ull << 30;
  state_.method = Method::kCopyFileRangeOrPread;
  CopyEnv env = Env(4096, UINT64_MAX);
  ASSERT_OK(Named(CopyRange(env, &state_, 0, length, sink_)));
  EXPECT_EQ(sink_.total, length);
  EXPECT_LT(g.max_cfr_len, 2ull << 30);
  EXPECT_GE(g.cfr_calls, 3);

  g = Faults{};
  g.cfr_pretend = true;
  sink_ = CountingSink{};
  env = Env(4096, 1 << 20);
  ASSERT_OK(Named(CopyRange(env, &state_, 0, 10ull << 20, sink_)));
  EXPECT_EQ(g.max_cfr_len, 1u << 20);
  EXPECT_EQ(g.cfr_calls, 10);
  EXPECT_EQ(sink_.total, 10ull << 20);
}

TEST_F(IoTest, RealSysCallsCopy) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
    MakeFiles(kSize, kSize);
    state_ = TransferState{};
    state_.method = m;
    sink_ = CountingSink{};
    const CopyEnv env = Env(64 << 10, 1 << 20, &RealSysCalls());
    ASSERT_OK(Named(CopyRange(env, &state_, 4096, kSize - 4096, sink_)));
    EXPECT_TRUE(Copied(4096, kSize - 4096));
    EXPECT_EQ(sink_.total, kSize - 4096);
  }
}

TEST(IoFallbackErrnoTest, Classification) {
  for (int err : {EXDEV, EOPNOTSUPP, ENOSYS, EINVAL, EPERM}) {
    EXPECT_TRUE(IsCopyFileRangeFallbackErrno(err)) << strerror(err);
  }
  for (int err : {0, EIO, ENOSPC, EINTR, EBADF, EDQUOT, EFBIG, EAGAIN}) {
    EXPECT_FALSE(IsCopyFileRangeFallbackErrno(err)) << strerror(err);
  }
}

}  // namespace
}  // namespace pcopy
