// io_test_util.cc: the fake syscalls, their fault state and the IoTest fixture's helpers.
#include "io_test_util.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "copy/range_copy.h"

namespace pcopy {

Faults g;
const FakeSysCalls kFake;

namespace {

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

}  // namespace

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

::testing::AssertionResult Contains(const std::string& text, const std::string& fragment) {
  if (text.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << fragment << "'";
}

std::string InChild(const std::function<std::string()>& f) {
  const test::ChildReport r = test::InChild(f, 0);
  if (!r.error.empty()) return r.error;
  if (WIFSIGNALED(r.wait_status))
    return "killed by signal " + std::to_string(WTERMSIG(r.wait_status));
  return r.said;
}

void IoTest::SetUp() {
  g = Faults{};
  src_ = dir_ / "src.img";
  dst_ = dir_ / "dst.img";
}

void IoTest::MakeFiles(uint64_t src_size, uint64_t dst_size) {
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

std::string IoTest::OpenDirect() {
  direct_src_fd_ = UniqueFd(open(src_.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
  if (!direct_src_fd_.valid()) return dir_.path() + " refuses O_DIRECT: " + strerror(errno);
  direct_dst_fd_ = UniqueFd(open(dst_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
  if (!direct_dst_fd_.valid()) return dir_.path() + " refuses O_DIRECT: " + strerror(errno);
  g.direct_src_fd = direct_src_fd_.get();
  g.direct_dst_fd = direct_dst_fd_.get();
  return "";
}

CopyEnv IoTest::Env(size_t buffer_size, uint64_t max_step, const SysCalls* sys) {
  // Aligned as a worker's is, for O_DIRECT.
  buffer_.reset(static_cast<char*>(
      ::operator new (std::max<size_t>(buffer_size, 1), std::align_val_t{kDirectAlignment})));
  memset(buffer_.get(), 0, buffer_size);
  CopyEnv env;
  env.sys = sys;
  env.src_fd = src_fd_.get();
  env.dst_fd = dst_fd_.get();
  env.buffer = std::span<char>(buffer_.get(), buffer_size);
  env.max_step = max_step;
  env.sendfile_dst_fd = sendfile_dst_fd_.get();
  env.direct_src_fd = direct_src_fd_.get();
  env.direct_dst_fd = direct_dst_fd_.get();
  return env;
}

Status IoTest::Copy(Method method, uint64_t offset, uint64_t length, size_t buffer_size) {
  state_ = TransferState{};
  state_.method = method;
  sink_ = CountingSink{};
  const CopyEnv env = Env(buffer_size);
  return Named(CopyRange(env, &state_, offset, length, sink_));
}

::testing::AssertionResult IoTest::Copied(uint64_t offset, uint64_t length) {
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

}  // namespace pcopy
