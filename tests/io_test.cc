#include "io.h"

#include <sys/sendfile.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"
#include "unique_fd.h"

namespace pcopy {
namespace {

// ---------------------------------------------------------------------------------------------
// The fake syscall layer. Static state, because a SysCalls table holds plain function pointers.
// The fakes move real bytes between the real files, and inject faults on top.

struct Faults {
  bool eintr_every_other = false;  // every function fails with EINTR on its 1st, 3rd, ... call
  size_t cap = 0;                  // each call moves at most cap bytes (0: no cap)
  bool random_caps = false;        // ... or a pseudo-random count in [1, cap]
  uint64_t rng = 88172645463325252ull;

  // A call that starts at or past *_fail_at fails with *_errno; one that crosses it stops short
  // at it, as a real bad block or full disk would.
  int pread_errno = 0;
  uint64_t pread_fail_at = 0;
  int pwrite_errno = 0;
  uint64_t pwrite_fail_at = 0;
  bool pwrite_returns_zero = false;
  int cfr_errno = 0;
  uint64_t cfr_fail_at = 0;
  bool cfr_zero = false;  // copy_file_range returns 0 from cfr_zero_at on (an "early 0")
  uint64_t cfr_zero_at = 0;
  bool cfr_pretend = false;  // copy_file_range claims success without moving data

  // What the fakes saw.
  int pread_calls = 0;
  int pwrite_calls = 0;
  int cfr_calls = 0;
  int64_t first_pread_offset = -1;
  uint64_t max_cfr_len = 0;
  bool runaway = false;  // a loop kept calling a syscall that could not make progress
};

Faults g;

constexpr int kRunawayCalls = 1000000;

size_t Cap(size_t count) {
  if (g.cap == 0) return count;
  size_t c = g.cap;
  if (g.random_caps) {
    g.rng ^= g.rng << 13;
    g.rng ^= g.rng >> 7;
    g.rng ^= g.rng << 17;
    c = 1 + static_cast<size_t>(g.rng % g.cap);
  }
  return std::min(count, c);
}

bool Interrupt(int calls) {
  if (g.eintr_every_other && calls % 2 == 1) {
    errno = EINTR;
    return true;
  }
  return false;
}

// Applies a fail-at point to a call at [at, at + *count): true if the call must fail.
bool FailsAt(int err, uint64_t fail_at, uint64_t at, size_t* count) {
  if (err == 0) return false;
  if (at >= fail_at) {
    errno = err;
    return true;
  }
  *count = static_cast<size_t>(std::min<uint64_t>(*count, fail_at - at));
  return false;
}

bool Runaway(int calls) {
  if (calls < kRunawayCalls) return false;
  g.runaway = true;
  errno = EIO;
  return true;
}

ssize_t FakePread(int fd, void* buf, size_t count, off_t offset) {
  ++g.pread_calls;
  if (g.first_pread_offset < 0) g.first_pread_offset = offset;
  if (Runaway(g.pread_calls) || Interrupt(g.pread_calls)) return -1;
  if (FailsAt(g.pread_errno, g.pread_fail_at, static_cast<uint64_t>(offset), &count)) return -1;
  return ::pread(fd, buf, Cap(count), offset);
}

ssize_t FakePwrite(int fd, const void* buf, size_t count, off_t offset) {
  ++g.pwrite_calls;
  if (Runaway(g.pwrite_calls) || Interrupt(g.pwrite_calls)) return -1;
  if (g.pwrite_returns_zero) return 0;
  if (FailsAt(g.pwrite_errno, g.pwrite_fail_at, static_cast<uint64_t>(offset), &count)) return -1;
  return ::pwrite(fd, buf, Cap(count), offset);
}

ssize_t FakeCopyFileRange(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len,
                          unsigned flags) {
  ++g.cfr_calls;
  g.max_cfr_len = std::max<uint64_t>(g.max_cfr_len, len);
  if (Runaway(g.cfr_calls) || Interrupt(g.cfr_calls)) return -1;
  if (flags != 0 || off_in == nullptr || off_out == nullptr) {
    errno = EINVAL;
    return -1;
  }
  if (g.cfr_pretend) {
    *off_in += static_cast<off_t>(len);
    *off_out += static_cast<off_t>(len);
    return static_cast<ssize_t>(len);
  }
  const auto at = static_cast<uint64_t>(*off_in);
  if (FailsAt(g.cfr_errno, g.cfr_fail_at, at, &len)) return -1;
  if (g.cfr_zero && at >= g.cfr_zero_at) return 0;
  if (g.cfr_zero) len = static_cast<size_t>(std::min<uint64_t>(len, g.cfr_zero_at - at));
  static char bounce[256 << 10];
  len = std::min(Cap(len), sizeof bounce);
  const ssize_t n = ::pread(fd_in, bounce, len, *off_in);
  if (n <= 0) return n;
  const ssize_t w = ::pwrite(fd_out, bounce, static_cast<size_t>(n), *off_out);
  if (w < 0) return w;
  *off_in += w;
  *off_out += w;
  return w;
}

constexpr SysCalls kFake = {&FakePread, &FakePwrite, &FakeCopyFileRange, &::sendfile};

class CountingSink final : public ProgressSink {
 public:
  void Add(uint64_t bytes) override {
    total += bytes;
    ++calls;
    if (bytes == 0) ++zero_adds;
  }
  uint64_t total = 0;
  int calls = 0;
  int zero_adds = 0;
};

::testing::AssertionResult Contains(const std::string& text, const std::string& fragment) {
  if (text.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << fragment << "'";
}

const char* kMethodNames[] = {"auto", "copy_file_range", "pread"};

// ---------------------------------------------------------------------------------------------

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g = Faults{};
    src_ = dir_ / "src.img";
    dst_ = dir_ / "dst.img";
  }

  // A random source of src_size bytes and a destination of dst_size different random bytes.
  void MakeFiles(uint64_t src_size, uint64_t dst_size) {
    test::MakeRandomFile(src_, src_size, 11);
    test::MakeRandomFile(dst_, dst_size, 22);
    src_bytes_ = test::ReadFile(src_);
    dst_before_ = test::ReadFile(dst_);
    src_fd_ = UniqueFd(open(src_.c_str(), O_RDONLY | O_CLOEXEC));
    dst_fd_ = UniqueFd(open(dst_.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(src_fd_.valid());
    ASSERT_TRUE(dst_fd_.valid());
  }

  CopyEnv Env(size_t buffer_size = 64 << 10, uint64_t max_step = 1 << 20,
              const SysCalls* sys = &kFake) {
    buffer_.assign(buffer_size, '\0');
    CopyEnv env;
    env.sys = sys;
    env.src_fd = src_fd_.get();
    env.dst_fd = dst_fd_.get();
    env.src_name = src_;
    env.dst_name = dst_;
    env.buffer = std::span<char>(buffer_.data(), buffer_.size());
    env.max_step = max_step;
    return env;
  }

  Status Copy(Method method, uint64_t offset, uint64_t length, size_t buffer_size = 64 << 10) {
    state_ = TransferState{};
    state_.method = method;
    sink_ = CountingSink{};
    const CopyEnv env = Env(buffer_size);
    return CopyRange(env, &state_, offset, length, sink_);
  }

  // dst now holds src's bytes in [offset, offset + length) and its old bytes everywhere else.
  ::testing::AssertionResult Copied(uint64_t offset, uint64_t length) {
    std::string expected = dst_before_;
    if (expected.size() < offset + length) expected.resize(offset + length, '\0');
    expected.replace(offset, length, src_bytes_, offset, length);
    const std::string actual = test::ReadFile(dst_);
    if (actual.size() != expected.size()) {
      return ::testing::AssertionFailure()
             << "dst has " << actual.size() << " bytes, expected " << expected.size();
    }
    const auto diff = std::mismatch(actual.begin(), actual.end(), expected.begin()).first;
    if (diff != actual.end()) {
      return ::testing::AssertionFailure() << "dst differs at offset " << (diff - actual.begin());
    }
    return ::testing::AssertionSuccess();
  }

  test::TempDir dir_;
  std::string src_, dst_;
  std::string src_bytes_, dst_before_;
  UniqueFd src_fd_, dst_fd_;
  std::vector<char> buffer_;
  TransferState state_;
  CountingSink sink_;
};

constexpr uint64_t kSize = (1 << 20) + 12345;  // not a multiple of any buffer or step

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

TEST_F(IoTest, CopyFileRangeCopiesRange) {
  for (Method m : {Method::kAuto, Method::kCopyFileRange}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
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
  for (Method m : {Method::kAuto, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
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
  for (Method m : {Method::kAuto, Method::kCopyFileRange, Method::kPread}) {
    ASSERT_OK(Copy(m, 100, 0));
  }
  EXPECT_TRUE(Copied(0, 0));
  EXPECT_EQ(sink_.total, 0u);
  EXPECT_EQ(g.pwrite_calls, 0);
}

TEST_F(IoTest, EintrOnEveryOtherCall) {
  for (Method m : {Method::kAuto, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
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
  for (Method m : {Method::kAuto, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
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
  for (Method m : {Method::kAuto, Method::kPread}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
    g = Faults{};
    g.cap = 1;
    MakeFiles(5000, 5000);
    ASSERT_OK(Copy(m, 0, 5000, 4096));
    EXPECT_TRUE(Copied(0, 5000));
    EXPECT_EQ(sink_.total, 5000u);
  }
}

TEST_F(IoTest, ShortCountsAndEintrTogether) {
  for (Method m : {Method::kAuto, Method::kPread}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
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
      ASSERT_OK(Copy(Method::kAuto, offset, length));
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

TEST_F(IoTest, FallbackSurvivesIntoTheNextRange) {
  MakeFiles(kSize, kSize);
  g.cfr_errno = EXDEV;
  g.cfr_fail_at = 0;
  state_.method = Method::kAuto;
  const CopyEnv env = Env();
  ASSERT_OK(CopyRange(env, &state_, 0, 4096, sink_));
  const int calls = g.cfr_calls;
  ASSERT_OK(CopyRange(env, &state_, 4096, kSize - 4096, sink_));
  EXPECT_EQ(g.cfr_calls, calls) << "copy_file_range was tried again after it was declined";
  EXPECT_TRUE(Copied(0, kSize));
  EXPECT_EQ(sink_.total, kSize);
  EXPECT_EQ(state_.fallback_errno, EXDEV);
}

TEST_F(IoTest, EarlyZeroFallsBack) {
  const uint64_t offset = 4096, length = 600000;
  for (Method m : {Method::kAuto, Method::kCopyFileRange}) {
    for (uint64_t zero_at : {offset, offset + 99999}) {
      SCOPED_TRACE(std::string(kMethodNames[static_cast<int>(m)]) + " at " +
                   std::to_string(zero_at));
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
  const Status s = Copy(Method::kAuto, 0, kSize);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err(), EIO);
  EXPECT_EQ(s.op(), "copy_file_range");
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(200000));
  EXPECT_EQ(g.pread_calls, 0);
  EXPECT_EQ(state_.fallback_errno, -1);
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

TEST_F(IoTest, CopyFileRangeEnospcIsAWrite) {
  for (Method m : {Method::kAuto, Method::kCopyFileRange}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
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

TEST_F(IoTest, PreadEioAfterFallback) {
  g.cfr_errno = EXDEV;
  g.cfr_fail_at = 50000;
  g.pread_errno = EIO;
  g.pread_fail_at = 70001;
  MakeFiles(kSize, kSize);
  const Status s = Copy(Method::kAuto, 0, kSize);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "read '" + src_ + "' at offset 70001: Input/output error");
}

TEST_F(IoTest, SourceShorterThanRange) {
  const uint64_t src_size = 10000;
  for (Method m : {Method::kAuto, Method::kCopyFileRange, Method::kPread}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
    g = Faults{};
    MakeFiles(src_size, 20000);
    const Status s = Copy(m, 0, 20000, 4096);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(Contains(s.ToString(), "unexpected end of file")) << s.ToString();
    EXPECT_TRUE(Contains(s.ToString(), "read '" + src_ + "' at offset 10000: "));
    EXPECT_EQ(s.ToString(), SourceChanged(src_, src_size).ToString());
    EXPECT_LE(sink_.total, src_size);
  }
}

TEST_F(IoTest, SourceEndsInsideAnInnerRange) {
  MakeFiles(10000, 20000);
  const Status s = Copy(Method::kPread, 4096, 8000, 4096);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), SourceChanged(src_, 10000).ToString());
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(10000));
}

TEST_F(IoTest, SourceChangedMessage) {
  const Status s = SourceChanged("src.img", 42);
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

TEST_F(IoTest, CopyFileRangeStepsStayBelowTwoGiB) {
  MakeFiles(0, 0);
  g.cfr_pretend = true;
  const uint64_t length = 5ull << 30;
  state_.method = Method::kAuto;
  CopyEnv env = Env(4096, UINT64_MAX);
  ASSERT_OK(CopyRange(env, &state_, 0, length, sink_));
  EXPECT_EQ(sink_.total, length);
  EXPECT_LT(g.max_cfr_len, 2ull << 30);
  EXPECT_GE(g.cfr_calls, 3);

  g = Faults{};
  g.cfr_pretend = true;
  sink_ = CountingSink{};
  env = Env(4096, 1 << 20);
  ASSERT_OK(CopyRange(env, &state_, 0, 10ull << 20, sink_));
  EXPECT_EQ(g.max_cfr_len, 1u << 20);
  EXPECT_EQ(g.cfr_calls, 10);
  EXPECT_EQ(sink_.total, 10ull << 20);
}

TEST_F(IoTest, PreadUsesTheBufferSize) {
  MakeFiles(100000, 100000);
  ASSERT_OK(Copy(Method::kPread, 0, 100000, 10000));
  EXPECT_EQ(g.pread_calls, 10);
  EXPECT_EQ(g.pwrite_calls, 10);
  EXPECT_EQ(sink_.calls, 10);
}

TEST_F(IoTest, RealSysCallsCopy) {
  for (Method m : {Method::kAuto, Method::kPread}) {
    SCOPED_TRACE(kMethodNames[static_cast<int>(m)]);
    MakeFiles(kSize, kSize);
    state_ = TransferState{};
    state_.method = m;
    sink_ = CountingSink{};
    const CopyEnv env = Env(64 << 10, 1 << 20, &RealSysCalls());
    ASSERT_OK(CopyRange(env, &state_, 4096, kSize - 4096, sink_));
    EXPECT_TRUE(Copied(4096, kSize - 4096));
    EXPECT_EQ(sink_.total, kSize - 4096);
  }
}

TEST_F(IoTest, ReadFullStopsAtEndOfFile) {
  g.cap = 100;
  g.eintr_every_other = true;
  MakeFiles(1000, 0);
  std::vector<char> buf(2000);
  size_t got = 99;
  ASSERT_OK(ReadFull(kFake, src_fd_.get(), src_, buf.data(), buf.size(), 300, &got));
  EXPECT_EQ(got, 700u);
  EXPECT_EQ(std::string(buf.data(), got), src_bytes_.substr(300));
  ASSERT_OK(ReadFull(kFake, src_fd_.get(), src_, buf.data(), buf.size(), 5000, &got));
  EXPECT_EQ(got, 0u);
}

TEST_F(IoTest, ReadFullReportsTheFailingOffset) {
  g.cap = 100;
  g.pread_errno = EIO;
  g.pread_fail_at = 555;
  MakeFiles(1000, 0);
  std::vector<char> buf(1000);
  size_t got = 0;
  const Status s = ReadFull(kFake, src_fd_.get(), src_, buf.data(), buf.size(), 0, &got);
  EXPECT_EQ(s.ToString(), "read '" + src_ + "' at offset 555: Input/output error");
}

TEST_F(IoTest, WriteFullWithShortWritesAndEintr) {
  g.cap = 333;
  g.eintr_every_other = true;
  MakeFiles(0, 0);
  const std::string data(5000, 'x');
  ASSERT_OK(WriteFull(kFake, dst_fd_.get(), dst_, data.data(), data.size(), 10));
  EXPECT_EQ(test::ReadFile(dst_), std::string(10, '\0') + data);
}

TEST_F(IoTest, WriteFullZeroIsAnError) {
  g.pwrite_returns_zero = true;
  MakeFiles(0, 0);
  const std::string data(10, 'x');
  const Status s = WriteFull(kFake, dst_fd_.get(), dst_, data.data(), data.size(), 77);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.offset(), std::optional<uint64_t>(77));
  EXPECT_EQ(g.pwrite_calls, 1);
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
