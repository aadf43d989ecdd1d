// io_test_util.h: the fake syscall layer and the IoTest fixture that the copy loop tests share.
//
// The fake syscall layer: static state (g), shared by the in-process tests and inherited by
// workers. The fakes move real bytes between the real files, and inject faults on top.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>

#include "base/unique_fd.h"
#include "copy/io.h"
#include "copy/transfer_methods.h"
#include "test_util.h"

namespace pcopy {

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

// The faults to inject, and what the fakes saw. IoTest resets it before each test.
extern Faults g;

ssize_t FakePread(int fd, void* buf, size_t count, off_t offset);
ssize_t FakePwrite(int fd, const void* buf, size_t count, off_t offset);
ssize_t FakeCopyFileRange(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len,
                          unsigned flags);
// Like sendfile(2): reads in_fd at *offset and writes at out_fd's file position, advancing both.
ssize_t FakeSendfile(int out_fd, int in_fd, off_t* offset, size_t count);

// The fakes as a SysCalls: every other call goes to the kernel.
class FakeSysCalls final : public SysCalls {
 public:
  ssize_t pread(int fd, void* buf, size_t count, off_t offset) const override {
    return FakePread(fd, buf, count, offset);
  }
  ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const override {
    return FakePwrite(fd, buf, count, offset);
  }
  ssize_t copy_file_range(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len,
                          unsigned flags) const override {
    return FakeCopyFileRange(fd_in, off_in, fd_out, off_out, len, flags);
  }
  ssize_t sendfile(int out_fd, int in_fd, off_t* offset, size_t count) const override {
    return FakeSendfile(out_fd, in_fd, offset, count);
  }
};
extern const FakeSysCalls kFake;

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

::testing::AssertionResult Contains(const std::string& text, const std::string& fragment);

// Runs f in a forked child and returns what it returned, or how the child died: touching a
// mapping past the end of its file is SIGBUS, which must not take the test binary with it.
std::string InChild(const std::function<std::string()>& f);

struct AlignedFree {
  void operator()(char* p) const { ::operator delete (p, std::align_val_t{kDirectAlignment}); }
};

inline constexpr uint64_t kSize = (1 << 20) + 12345;  // not a multiple of any buffer or step

// ---------------------------------------------------------------------------------------------

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // A random source of src_size bytes and a destination of dst_size different random bytes.
  void MakeFiles(uint64_t src_size, uint64_t dst_size);

  // Opens SOURCE and DEST again with O_DIRECT, as MethodFds does in a worker. Empty if that
  // worked; else why not (the file system refuses O_DIRECT).
  std::string OpenDirect();

  CopyEnv Env(size_t buffer_size = 64 << 10, uint64_t max_step = 1 << 20,
              const SysCalls* sys = &kFake);

  Status Copy(Method method, uint64_t offset, uint64_t length, size_t buffer_size = 64 << 10);

  // The message an error record makes with this fixture's file names.
  Status Named(const IoError& e) const { return ToStatus(e, src_, dst_); }

  // dst now holds src's bytes in [offset, offset + length) and its old bytes everywhere else.
  ::testing::AssertionResult Copied(uint64_t offset, uint64_t length);

  test::TempDir dir_;
  std::string src_, dst_;
  std::string src_bytes_, dst_before_;
  UniqueFd src_fd_, dst_fd_, sendfile_dst_fd_, direct_src_fd_, direct_dst_fd_;
  std::unique_ptr<char, AlignedFree> buffer_;
  TransferState state_;
  CountingSink sink_;
};

}  // namespace pcopy
