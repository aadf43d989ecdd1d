#include "io.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "options.h"
#include "test_util.h"
#include "transfer_methods.h"
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
  int sf_errno = 0;
  uint64_t sf_fail_at = 0;
  bool sf_zero = false;  // sendfile returns 0 from sf_zero_at on, as at the end of the source
  uint64_t sf_zero_at = 0;
  bool pwrite_discard = false;  // pwrite claims success without writing (or reading buf)
  int direct_src_fd = -1;       // reads and writes on these must be O_DIRECT-aligned
  int direct_dst_fd = -1;
  uint64_t probe_offset[3] = {~0ull, ~0ull, ~0ull};  // a discarded pwrite over one of these
                                                     // offsets records the byte written there

  // What the fakes saw.
  int pread_calls = 0;
  int pwrite_calls = 0;
  int cfr_calls = 0;
  int sf_calls = 0;
  int direct_reads = 0;      // preads on direct_src_fd
  int direct_writes = 0;     // pwrites on direct_dst_fd
  int unaligned_direct = 0;  // ... of which had an unaligned offset, count or buffer
  uint64_t max_sf_len = 0;
  uint64_t discarded_next = 0;  // where the next discarded pwrite should start
  uint64_t discarded = 0;       // bytes discarded, all in one run from the first offset
  bool discarded_gap = false;   // a discarded pwrite did not start where the last one ended
  int probe_byte[3] = {-1, -1, -1};
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

// Counts the preads or pwrites on an O_DIRECT descriptor, and those a real O_DIRECT file would
// refuse.
void CheckDirect(int fd, const void* buf, size_t count, off_t offset, int direct_fd, int* calls) {
  if (fd < 0 || fd != direct_fd) return;
  ++*calls;
  if (count % 4096 != 0 || offset % 4096 != 0 || reinterpret_cast<uintptr_t>(buf) % 4096 != 0) {
    ++g.unaligned_direct;
  }
}

ssize_t FakePread(int fd, void* buf, size_t count, off_t offset) {
  ++g.pread_calls;
  CheckDirect(fd, buf, count, offset, g.direct_src_fd, &g.direct_reads);
  if (g.first_pread_offset < 0) g.first_pread_offset = offset;
  if (Runaway(g.pread_calls) || Interrupt(g.pread_calls)) return -1;
  if (FailsAt(g.pread_errno, g.pread_fail_at, static_cast<uint64_t>(offset), &count)) return -1;
  return ::pread(fd, buf, Cap(count), offset);
}

ssize_t FakePwrite(int fd, const void* buf, size_t count, off_t offset) {
  ++g.pwrite_calls;
  CheckDirect(fd, buf, count, offset, g.direct_dst_fd, &g.direct_writes);
  if (Runaway(g.pwrite_calls) || Interrupt(g.pwrite_calls)) return -1;
  if (g.pwrite_returns_zero) return 0;
  if (FailsAt(g.pwrite_errno, g.pwrite_fail_at, static_cast<uint64_t>(offset), &count)) return -1;
  if (g.pwrite_discard) {
    const auto at = static_cast<uint64_t>(offset);
    if (g.discarded != 0 && at != g.discarded_next) g.discarded_gap = true;
    for (size_t i = 0; i < std::size(g.probe_offset); ++i) {
      if (g.probe_offset[i] >= at && g.probe_offset[i] - at < count) {
        g.probe_byte[i] =
            static_cast<unsigned char>(static_cast<const char*>(buf)[g.probe_offset[i] - at]);
      }
    }
    g.discarded += count;
    g.discarded_next = at + count;
    return static_cast<ssize_t>(count);
  }
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

// Like sendfile(2): reads in_fd at *offset and writes at out_fd's file position, advancing both.
ssize_t FakeSendfile(int out_fd, int in_fd, off_t* offset, size_t count) {
  ++g.sf_calls;
  g.max_sf_len = std::max<uint64_t>(g.max_sf_len, count);
  if (Runaway(g.sf_calls) || Interrupt(g.sf_calls)) return -1;
  if (offset == nullptr) {
    errno = EINVAL;
    return -1;
  }
  const auto at = static_cast<uint64_t>(*offset);
  if (FailsAt(g.sf_errno, g.sf_fail_at, at, &count)) return -1;
  if (g.sf_zero && at >= g.sf_zero_at) return 0;
  if (g.sf_zero) count = static_cast<size_t>(std::min<uint64_t>(count, g.sf_zero_at - at));
  static char bounce[256 << 10];
  count = std::min(Cap(count), sizeof bounce);
  const ssize_t n = ::pread(in_fd, bounce, count, *offset);
  if (n <= 0) return n;
  const ssize_t w = ::write(out_fd, bounce, static_cast<size_t>(n));
  if (w < 0) return w;
  *offset += w;
  return w;
}

// The parent's statvfs and fallocate are not used by the copy loops tested here.
constexpr SysCalls kFake = {&FakePread,    &FakePwrite, &FakeCopyFileRange,
                            &FakeSendfile, nullptr,     nullptr};

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

struct AlignedFree {
  void operator()(char* p) const { ::operator delete (p, std::align_val_t{kDirectAlignment}); }
};

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
    // sendfile writes at a file position: its DEST descriptor is an open of its own.
    sendfile_dst_fd_ = UniqueFd(open(dst_.c_str(), O_WRONLY | O_CLOEXEC));
    direct_src_fd_ = UniqueFd();
    direct_dst_fd_ = UniqueFd();
    ASSERT_TRUE(src_fd_.valid());
    ASSERT_TRUE(dst_fd_.valid());
    ASSERT_TRUE(sendfile_dst_fd_.valid());
  }

  // Opens SOURCE and DEST again with O_DIRECT, as MethodFds does in a worker. Empty if that
  // worked; else why not (the file system refuses O_DIRECT).
  std::string OpenDirect() {
    direct_src_fd_ = UniqueFd(open(src_.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
    if (!direct_src_fd_.valid()) return dir_.path() + " refuses O_DIRECT: " + strerror(errno);
    direct_dst_fd_ = UniqueFd(open(dst_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
    if (!direct_dst_fd_.valid()) return dir_.path() + " refuses O_DIRECT: " + strerror(errno);
    g.direct_src_fd = direct_src_fd_.get();
    g.direct_dst_fd = direct_dst_fd_.get();
    return "";
  }

  CopyEnv Env(size_t buffer_size = 64 << 10, uint64_t max_step = 1 << 20,
              const SysCalls* sys = &kFake) {
    // Aligned as a worker's is, for O_DIRECT.
    buffer_.reset(static_cast<char*>(
        ::operator new (std::max<size_t>(buffer_size, 1), std::align_val_t{kDirectAlignment})));
    memset(buffer_.get(), 0, buffer_size);
    CopyEnv env;
    env.sys = sys;
    env.src_fd = src_fd_.get();
    env.dst_fd = dst_fd_.get();
    env.src_name = src_;
    env.dst_name = dst_;
    env.buffer = std::span<char>(buffer_.get(), buffer_size);
    env.max_step = max_step;
    env.sendfile_dst_fd = sendfile_dst_fd_.get();
    env.direct_src_fd = direct_src_fd_.get();
    env.direct_dst_fd = direct_dst_fd_.get();
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
  UniqueFd src_fd_, dst_fd_, sendfile_dst_fd_, direct_src_fd_, direct_dst_fd_;
  std::unique_ptr<char, AlignedFree> buffer_;
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
  state_.method = Method::kCopyFileRangeOrPread;
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
  for (Method m : {Method::kCopyFileRangeOrPread, Method::kPread}) {
    SCOPED_TRACE(MethodName(m));
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

// ---------------------------------------------------------------------------------------------
// sendfile, mmap and direct (transfer_methods.h).

TEST_F(IoTest, SendfileCopiesRange) {
  const uint64_t offset = 3 * 4096 + 5, length = 700001;
  MakeFiles(kSize, kSize);
  ASSERT_OK(Copy(Method::kSendfile, offset, length));
  EXPECT_TRUE(Copied(offset, length));
  EXPECT_EQ(sink_.total, length);
  EXPECT_TRUE(state_.Used(Method::kSendfile));
  EXPECT_FALSE(state_.Used(Method::kPread));
  EXPECT_EQ(state_.method, Method::kSendfile);
  EXPECT_GT(g.sf_calls, 0);
  EXPECT_EQ(g.pread_calls + g.pwrite_calls + g.cfr_calls, 0);
  EXPECT_LE(g.max_sf_len, 1u << 20) << "a sendfile call above max_step";
}

TEST_F(IoTest, SendfileEintrAndShortCounts) {
  struct Variant {
    bool eintr;
    size_t cap;
    bool random;
  };
  for (const Variant& v : {Variant{true, 0, false}, Variant{false, 4095, true},
                           Variant{true, 4095, true}, Variant{true, 1, false}}) {
    SCOPED_TRACE("eintr " + std::to_string(v.eintr) + " cap " + std::to_string(v.cap));
    g = Faults{};
    g.eintr_every_other = v.eintr;
    g.cap = v.cap;
    g.random_caps = v.random;
    const uint64_t size = v.cap == 1 ? 5000 : 300000, offset = 7, length = size - 10;
    MakeFiles(size, size);
    ASSERT_OK(Copy(Method::kSendfile, offset, length));
    EXPECT_TRUE(Copied(offset, length));
    EXPECT_EQ(sink_.total, length);
    EXPECT_EQ(sink_.zero_adds, 0);
    EXPECT_GT(g.sf_calls, 2);
  }
}

// sendfile writes at the descriptor's position: each range must start by moving it there,
// whatever an earlier range (or anything else) left it at.
TEST_F(IoTest, SendfileRangesInAnyOrder) {
  MakeFiles(kSize, kSize);
  state_.method = Method::kSendfile;
  const CopyEnv env = Env();
  ASSERT_EQ(lseek(env.sendfile_dst_fd, 12345, SEEK_SET), 12345);
  ASSERT_OK(CopyRange(env, &state_, 500000, kSize - 500000, sink_));
  ASSERT_OK(CopyRange(env, &state_, 4097, 500000 - 4097, sink_));
  EXPECT_TRUE(Copied(4097, kSize - 4097));
  EXPECT_EQ(sink_.total, kSize - 4097);
}

TEST_F(IoTest, SendfileEarlyZeroIsSourceChanged) {
  const uint64_t offset = 4096, length = 600000;
  for (uint64_t zero_at : {offset, offset + 99999}) {
    SCOPED_TRACE("0 at " + std::to_string(zero_at));
    g = Faults{};
    g.sf_zero = true;
    g.sf_zero_at = zero_at;
    MakeFiles(kSize, kSize);
    const Status s = Copy(Method::kSendfile, offset, length);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.ToString(), SourceChanged(src_, zero_at).ToString());
    EXPECT_TRUE(Contains(s.ToString(), "read '" + src_ + "' at offset " + std::to_string(zero_at) +
                                           ": unexpected end of file"));
    EXPECT_EQ(s.offset(), std::optional<uint64_t>(zero_at));
    EXPECT_EQ(sink_.total, zero_at - offset);
    EXPECT_EQ(g.pread_calls, 0) << "sendfile has no fallback";
  }
}

TEST_F(IoTest, SendfileSourceShorterThanRange) {
  MakeFiles(10000, 20000);
  const Status s = Copy(Method::kSendfile, 0, 20000, 4096);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), SourceChanged(src_, 10000).ToString());
  EXPECT_EQ(sink_.total, 10000u);
}

TEST_F(IoTest, SendfileEnospcIsAWrite) {
  const uint64_t offset = 8192, length = 900000, full_at = 8192 + 333333;
  for (int err : {ENOSPC, EDQUOT, EFBIG}) {
    SCOPED_TRACE(strerror(err));
    g = Faults{};
    g.sf_errno = err;
    g.sf_fail_at = full_at;
    MakeFiles(kSize, kSize);
    const Status s = Copy(Method::kSendfile, offset, length);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.ToString(),
              "write '" + dst_ + "' at offset " + std::to_string(full_at) + ": " + strerror(err));
    EXPECT_EQ(s.err(), err);
    EXPECT_EQ(sink_.total, full_at - offset);
  }
}

TEST_F(IoTest, SendfileOtherErrorsNameBothFiles) {
  g.sf_errno = EIO;
  g.sf_fail_at = 70001;
  MakeFiles(kSize, kSize);
  const Status s = Copy(Method::kSendfile, 0, kSize);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(),
            "sendfile '" + src_ + "' to '" + dst_ + "' at offset 70001: Input/output error");
  EXPECT_EQ(sink_.total, 70001u);
}

TEST_F(IoTest, MmapCopiesUnalignedRanges) {
  for (uint64_t offset : {0ull, 1ull, 4095ull, 4097ull, 12345ull}) {
    for (uint64_t length : {1ull, 4096ull, 300001ull}) {
      for (bool faults : {false, true}) {
        SCOPED_TRACE("offset " + std::to_string(offset) + " length " + std::to_string(length) +
                     (faults ? " with EINTR and short writes" : ""));
        g = Faults{};
        g.eintr_every_other = faults;
        g.cap = faults ? 4095 : 0;
        g.random_caps = faults;
        MakeFiles(400000, 400000);
        // A buffer that is no multiple of a page, and smaller than the longest range.
        ASSERT_OK(Copy(Method::kMmap, offset, length, 10000));
        EXPECT_TRUE(Copied(offset, length));
        EXPECT_EQ(sink_.total, length);
        EXPECT_EQ(sink_.zero_adds, 0);
        EXPECT_TRUE(state_.Used(Method::kMmap));
        EXPECT_FALSE(state_.Used(Method::kPread));
        EXPECT_EQ(g.pread_calls, 0) << "mmap reads through the mapping";
        if (!faults) {
          EXPECT_EQ(g.pwrite_calls, static_cast<int>((length + 9999) / 10000));
        }
      }
    }
  }
}

// A range longer than the 1 GiB mapping window: mapped in two windows, written without a gap or
// an overlap, and the bytes on either side of the seam are the source's. A sparse source and
// pwrites that go nowhere keep this cheap.
TEST_F(IoTest, MmapRangeOverTheWindow) {
  const uint64_t offset = 1000, length = (1ull << 30) + 10000, window_end = offset + (1ull << 30);
  {
    UniqueFd fd(open(src_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(ftruncate(fd.get(), static_cast<off_t>(offset + length + 3)), 0);
    ASSERT_EQ(pwrite(fd.get(), "Y", 1, static_cast<off_t>(window_end - 1)), 1);
    ASSERT_EQ(pwrite(fd.get(), "X", 1, static_cast<off_t>(window_end)), 1);
    ASSERT_EQ(pwrite(fd.get(), "Z", 1, static_cast<off_t>(offset + length - 1)), 1);
  }
  test::WriteFile(dst_, "");
  src_fd_ = UniqueFd(open(src_.c_str(), O_RDONLY | O_CLOEXEC));
  dst_fd_ = UniqueFd(open(dst_.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(src_fd_.valid());
  ASSERT_TRUE(dst_fd_.valid());
  g.pwrite_discard = true;
  g.probe_offset[0] = window_end - 1;
  g.probe_offset[1] = window_end;
  g.probe_offset[2] = offset + length - 1;
  state_.method = Method::kMmap;
  const CopyEnv env = Env(1 << 20);
  ASSERT_OK(CopyRange(env, &state_, offset, length, sink_));
  EXPECT_EQ(sink_.total, length);
  EXPECT_EQ(g.discarded, length);
  EXPECT_FALSE(g.discarded_gap) << "a pwrite did not start where the one before it ended";
  EXPECT_EQ(g.discarded_next, offset + length);
  EXPECT_EQ(g.probe_byte[0], 'Y');
  EXPECT_EQ(g.probe_byte[1], 'X');
  EXPECT_EQ(g.probe_byte[2], 'Z');
}

// Runs f in a forked child and returns what it returned, or how the child died: touching a
// mapping past the end of its file is SIGBUS, which must not take the test binary with it.
std::string InChild(const std::function<std::string()>& f) {
  int fds[2];
  if (pipe(fds) != 0) return std::string("pipe: ") + strerror(errno);
  const pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + strerror(errno);
  if (pid == 0) {
    close(fds[0]);
    const std::string result = f();
    _exit(write(fds[1], result.data(), result.size()) == static_cast<ssize_t>(result.size()) ? 0
                                                                                             : 1);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return std::string("waitpid: ") + strerror(errno);
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return out;
}

// CopyRange's contract, which the mmap copier shares (transfer_methods.h): a source that ends
// before the range does is "source changed" at the exact offset, never zeros or a fault. Past the
// end of the file, a mapping holds zeros to the end of the last page and faults after it.
TEST_F(IoTest, MmapSourceShorterThanRange) {
  const uint64_t src_size = 10000;
  for (uint64_t length : {3 * 4096ull, 20000ull}) {
    SCOPED_TRACE("range [0, " + std::to_string(length) + ")");
    MakeFiles(src_size, 20000);
    const std::string result = InChild([&] {
      TransferState state;
      state.method = Method::kMmap;
      CountingSink sink;
      const CopyEnv env = Env(4096);
      return CopyRange(env, &state, 0, length, sink).ToString();
    });
    EXPECT_EQ(result, SourceChanged(src_, src_size).ToString());
  }
}

struct DirectRange {
  uint64_t offset;
  uint64_t length;
  size_t buffer;
};

// The aligned middle of a range goes through the O_DIRECT descriptors in aligned pieces; the
// unaligned head and tail through the ordinary ones.
TEST_F(IoTest, DirectUnalignedHeadAndTail) {
  for (const DirectRange& r :
       {DirectRange{1000, 3 * 4096 + 5, 64 << 10}, DirectRange{0, 8 * 4096, 64 << 10},
        DirectRange{4096, 5, 64 << 10}, DirectRange{1000, 100, 64 << 10},
        DirectRange{4095, 2, 64 << 10}, DirectRange{1000, 300001, 64 << 10},
        DirectRange{4097, 300001, 10000}, DirectRange{0, 400000, 4096}}) {
    for (bool eintr : {false, true}) {
      SCOPED_TRACE("offset " + std::to_string(r.offset) + " length " + std::to_string(r.length) +
                   " buffer " + std::to_string(r.buffer) + (eintr ? " with EINTR" : ""));
      g = Faults{};
      g.eintr_every_other = eintr;
      MakeFiles(400000, 400000);
      if (const std::string why = OpenDirect(); !why.empty()) GTEST_SKIP() << why;
      ASSERT_OK(Copy(Method::kDirect, r.offset, r.length, r.buffer));
      EXPECT_TRUE(Copied(r.offset, r.length));
      EXPECT_EQ(sink_.total, r.length);
      EXPECT_EQ(sink_.zero_adds, 0);
      EXPECT_TRUE(state_.Used(Method::kDirect));
      const uint64_t first_block = (r.offset + 4095) / 4096 * 4096;
      const bool whole_block = first_block + 4096 <= r.offset + r.length;
      EXPECT_EQ(g.direct_reads > 0, whole_block) << g.direct_reads << " O_DIRECT reads";
      EXPECT_EQ(g.direct_writes > 0, whole_block) << g.direct_writes << " O_DIRECT writes";
      EXPECT_EQ(g.unaligned_direct, 0);
    }
  }
}

TEST_F(IoTest, DirectSourceShorterThanRange) {
  MakeFiles(10000, 20000);
  if (const std::string why = OpenDirect(); !why.empty()) GTEST_SKIP() << why;
  const Status s = Copy(Method::kDirect, 0, 20000, 8192);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), SourceChanged(src_, 10000).ToString());
  EXPECT_LE(sink_.total, 10000u);
}

TEST_F(IoTest, DirectNeedsAWholeBlockOfBuffer) {
  MakeFiles(20000, 20000);
  const Status s = Copy(Method::kDirect, 0, 20000, 4095);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.ToString(), "at least 4K")) << s.ToString();
  EXPECT_EQ(g.pwrite_calls, 0);
}

// The real syscalls, with the descriptors a worker's MethodFds opens through /proc/self/fd.
TEST_F(IoTest, RealSysCallsNewMethods) {
  for (Method m : {Method::kSendfile, Method::kMmap, Method::kDirect}) {
    SCOPED_TRACE(MethodName(m));
    MakeFiles(kSize, kSize);
    CopyEnv env = Env(64 << 10, 1 << 20, &RealSysCalls());
    env.sendfile_dst_fd = env.direct_src_fd = env.direct_dst_fd = -1;
    MethodFds fds;
    if (const Status s = fds.Open(m, &env); !s.ok()) {
      if (m == Method::kDirect && s.err() == EINVAL) {
        std::cout << "[   NOTE   ] " << dir_.path() << " refuses O_DIRECT: " << s.ToString()
                  << "\n";
        continue;
      }
      FAIL() << s.ToString();
    }
    state_ = TransferState{};
    state_.method = m;
    sink_ = CountingSink{};
    ASSERT_OK(CopyRange(env, &state_, 4097, kSize - 4097 - 3, sink_));
    EXPECT_TRUE(Copied(4097, kSize - 4097 - 3));
    EXPECT_EQ(sink_.total, kSize - 4097 - 3);
  }
}

TEST_F(IoTest, MethodFdsOpensWhatEachMethodNeeds) {
  MakeFiles(4096, 4096);
  for (Method m :
       {Method::kCopyFileRangeOrPread, Method::kCopyFileRange, Method::kPread, Method::kMmap}) {
    SCOPED_TRACE(MethodName(m));
    CopyEnv env = Env();
    env.sendfile_dst_fd = env.direct_src_fd = env.direct_dst_fd = -1;
    MethodFds fds;
    ASSERT_OK(fds.Open(m, &env));
    EXPECT_EQ(env.sendfile_dst_fd, -1);
    EXPECT_EQ(env.direct_src_fd, -1);
    EXPECT_EQ(env.direct_dst_fd, -1);
  }
  {
    CopyEnv env = Env();
    env.sendfile_dst_fd = -1;
    MethodFds fds;
    ASSERT_OK(fds.Open(Method::kSendfile, &env));
    ASSERT_GE(env.sendfile_dst_fd, 0);
    EXPECT_NE(env.sendfile_dst_fd, env.dst_fd);
    // A file position of its own: moving it leaves DEST's descriptor where it was.
    ASSERT_EQ(lseek(env.dst_fd, 100, SEEK_SET), 100);
    ASSERT_EQ(lseek(env.sendfile_dst_fd, 3000, SEEK_SET), 3000);
    EXPECT_EQ(lseek(env.dst_fd, 0, SEEK_CUR), 100);
    EXPECT_EQ(fcntl(env.sendfile_dst_fd, F_GETFL) & O_ACCMODE, O_WRONLY);
    EXPECT_NE(fcntl(env.sendfile_dst_fd, F_GETFD) & FD_CLOEXEC, 0);
  }
  {
    CopyEnv env = Env();
    env.direct_src_fd = env.direct_dst_fd = -1;
    MethodFds fds;
    const Status s = fds.Open(Method::kDirect, &env);
    if (!s.ok()) {
      EXPECT_EQ(s.err(), EINVAL) << s.ToString();
      GTEST_SKIP() << dir_.path() << " refuses O_DIRECT: " << s.ToString();
    }
    for (int fd : {env.direct_src_fd, env.direct_dst_fd}) {
      ASSERT_GE(fd, 0);
      EXPECT_NE(fcntl(fd, F_GETFL) & O_DIRECT, 0);
      EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    }
    EXPECT_EQ(fcntl(env.direct_src_fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(fcntl(env.direct_dst_fd, F_GETFL) & O_ACCMODE, O_WRONLY);
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
