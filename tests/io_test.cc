// io_test.cc: the pread/pwrite loops (io.h): EINTR, short counts, zero writes, ReadFull, WriteFull.
#include "copy/io.h"

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/options.h"
#include "io_test_util.h"
#include "test_util.h"

namespace pcopy {
namespace {

TEST_F(IoTest, PreadCopiesRange) {
  MakeFiles(kSize, kSize);
  ASSERT_OK(Copy(Method::kPread, 0, kSize));
  EXPECT_TRUE(Copied(0, kSize));
  EXPECT_EQ(sink_.total, kSize);
  EXPECT_EQ(g.cfr_calls, 0);
  EXPECT_TRUE(state_.Used(Method::kPread));
  EXPECT_FALSE(state_.Used(Method::kCopyFileRange));
  EXPECT_EQ(state_.fallback_errno, -1);
}

TEST_F(IoTest, EintrOnEveryOtherCall) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
    g = Faults{};
    g.eintr_every_other = true;
    MakeFiles(kSize, kSize);
    ASSERT_OK(Copy(m, 0, kSize));
    EXPECT_TRUE(Copied(0, kSize));
    EXPECT_EQ(sink_.total, kSize);
    EXPECT_EQ(state_.fallback_errno, -1) << "EINTR is no reason to fall back";
    if (m != Method::kPread) {
      EXPECT_FALSE(state_.Used(Method::kPread));
      EXPECT_GT(g.cfr_calls, 2);
    } else {
      EXPECT_GT(g.pread_calls, 2);
      EXPECT_GT(g.pwrite_calls, 2);
    }
  }
}

TEST_F(IoTest, ShortCounts) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
    g = Faults{};
    g.cap = 4095;
    g.random_caps = true;
    MakeFiles(300000, 300000);
    ASSERT_OK(Copy(m, 7, 299990));
    EXPECT_TRUE(Copied(7, 299990));
    EXPECT_EQ(sink_.total, 299990u);
    EXPECT_EQ(state_.fallback_errno, -1);
    EXPECT_EQ(sink_.zero_adds, 0);
  }
}

TEST_F(IoTest, OneByteAtATime) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
    g = Faults{};
    g.cap = 1;
    MakeFiles(5000, 5000);
    ASSERT_OK(Copy(m, 0, 5000, 4096));
    EXPECT_TRUE(Copied(0, 5000));
    EXPECT_EQ(sink_.total, 5000u);
  }
}

TEST_F(IoTest, ShortCountsAndEintrTogether) {
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
    g = Faults{};
    g.cap = 4095;
    g.random_caps = true;
    g.eintr_every_other = true;
    MakeFiles(200000, 200000);
    ASSERT_OK(Copy(m, 0, 200000, 10000));
    EXPECT_TRUE(Copied(0, 200000));
    EXPECT_EQ(sink_.total, 200000u);
  }
}

TEST_F(IoTest, PwriteEnospc) {
  const uint64_t offset = 8192, length = 900000, full_at = 8192 + 333333;
  g.pwrite_errno = ENOSPC;
  g.pwrite_fail_at = full_at;
  MakeFiles(kSize, kSize);
  const Status s = Copy(Method::kPread, offset, length);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "write '" + dst_ + "' at offset " + std::to_string(full_at) +
                              ": No space left on device");
  EXPECT_EQ(s.err(), ENOSPC);
  EXPECT_LE(sink_.total, full_at - offset);
}

TEST_F(IoTest, PreadEio) {
  const uint64_t bad_at = 100000;
  g.pread_errno = EIO;
  g.pread_fail_at = bad_at;
  MakeFiles(kSize, kSize);
  const Status s = Copy(Method::kPread, 0, kSize);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "read '" + src_ + "' at offset 100000: Input/output error");
  EXPECT_EQ(s.err(), EIO);
  EXPECT_LE(sink_.total, bad_at);
}

TEST_F(IoTest, SourceEndsInsideAnInnerRange) {
  MakeFiles(10000, 20000);
  const Status s = Copy(Method::kPread, 4096, 8000, 4096);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), Named(SourceChanged(10000)).ToString());
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(10000));
}

TEST_F(IoTest, SourceChangedMessage) {
  const Status s = ToStatus(SourceChanged(42), "src.img", "dst.img");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.ToString(), "read 'src.img' at offset 42: unexpected end of file"));
  EXPECT_TRUE(Contains(s.ToString(), "source changed"));
}

TEST_F(IoTest, PwriteReturningZeroIsAnError) {
  g.pwrite_returns_zero = true;
  MakeFiles(100000, 100000);
  const Status s = Copy(Method::kPread, 5000, 90000);
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(g.runaway) << "kept calling pwrite";
  EXPECT_EQ(g.pwrite_calls, 1);
  EXPECT_EQ(s.op(), "write");
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(5000));
  EXPECT_TRUE(Contains(s.ToString(), "write '" + dst_ + "' at offset 5000: "));
  EXPECT_EQ(sink_.total, 0u);
}

TEST_F(IoTest, PreadUsesTheBufferSize) {
  MakeFiles(100000, 100000);
  ASSERT_OK(Copy(Method::kPread, 0, 100000, 10000));
  EXPECT_EQ(g.pread_calls, 10);
  EXPECT_EQ(g.pwrite_calls, 10);
  EXPECT_EQ(sink_.calls, 10);
}

TEST_F(IoTest, ReadFullStopsAtEndOfFile) {
  g.cap = 100;
  g.eintr_every_other = true;
  MakeFiles(1000, 0);
  std::vector<char> buf(2000);
  size_t got = 99;
  ASSERT_OK(
      Named(ReadFull(kFake, src_fd_.get(), IoFile::kSource, buf.data(), buf.size(), 300, &got)));
  EXPECT_EQ(got, 700u);
  EXPECT_EQ(std::string(buf.data(), got), src_bytes_.substr(300));
  ASSERT_OK(
      Named(ReadFull(kFake, src_fd_.get(), IoFile::kSource, buf.data(), buf.size(), 5000, &got)));
  EXPECT_EQ(got, 0u);
}

TEST_F(IoTest, ReadFullReportsTheFailingOffset) {
  g.cap = 100;
  g.pread_errno = EIO;
  g.pread_fail_at = 555;
  MakeFiles(1000, 0);
  std::vector<char> buf(1000);
  size_t got = 0;
  const Status s =
      Named(ReadFull(kFake, src_fd_.get(), IoFile::kSource, buf.data(), buf.size(), 0, &got));
  EXPECT_EQ(s.ToString(), "read '" + src_ + "' at offset 555: Input/output error");
}

TEST_F(IoTest, WriteFullWithShortWritesAndEintr) {
  g.cap = 333;
  g.eintr_every_other = true;
  MakeFiles(0, 0);
  const std::string data(5000, 'x');
  ASSERT_OK(Named(WriteFull(kFake, dst_fd_.get(), IoFile::kDest, data.data(), data.size(), 10)));
  EXPECT_EQ(test::ReadFile(dst_), std::string(10, '\0') + data);
}

TEST_F(IoTest, WriteFullZeroIsAnError) {
  g.pwrite_returns_zero = true;
  MakeFiles(0, 0);
  const std::string data(10, 'x');
  const Status s =
      Named(WriteFull(kFake, dst_fd_.get(), IoFile::kDest, data.data(), data.size(), 77));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(77));
  EXPECT_EQ(g.pwrite_calls, 1);
}

}  // namespace
}  // namespace pcopy
