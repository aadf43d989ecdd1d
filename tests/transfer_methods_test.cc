// transfer_methods_test.cc: the sendfile, mmap and O_DIRECT copiers, and MethodFds.
#include "copy/transfer_methods.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "app/options.h"
#include "base/unique_fd.h"
#include "copy/io.h"
#include "copy/range_copy.h"
#include "io_test_util.h"
#include "os/sys_calls.h"
#include "test_util.h"

namespace pcopy {
namespace {

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
  ASSERT_OK(Named(CopyRange(env, &state_, 500000, kSize - 500000, sink_)));
  ASSERT_OK(Named(CopyRange(env, &state_, 4097, 500000 - 4097, sink_)));
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
    EXPECT_EQ(s.ToString(), Named(SourceChanged(zero_at)).ToString());
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
  EXPECT_EQ(s.ToString(), Named(SourceChanged(10000)).ToString());
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
  ASSERT_OK(Named(CopyRange(env, &state_, offset, length, sink_)));
  EXPECT_EQ(sink_.total, length);
  EXPECT_EQ(g.discarded, length);
  EXPECT_FALSE(g.discarded_gap) << "a pwrite did not start where the one before it ended";
  EXPECT_EQ(g.discarded_next, offset + length);
  EXPECT_EQ(g.probe_byte[0], 'Y');
  EXPECT_EQ(g.probe_byte[1], 'X');
  EXPECT_EQ(g.probe_byte[2], 'Z');
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
      return Named(CopyRange(env, &state, 0, length, sink)).ToString();
    });
    EXPECT_EQ(result, Named(SourceChanged(src_size)).ToString());
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
  EXPECT_EQ(s.ToString(), Named(SourceChanged(10000)).ToString());
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
    if (const Status s = Named(fds.Open(m, &env)); !s.ok()) {
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
    ASSERT_OK(Named(CopyRange(env, &state_, 4097, kSize - 4097 - 3, sink_)));
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
    ASSERT_OK(Named(fds.Open(m, &env)));
    EXPECT_EQ(env.sendfile_dst_fd, -1);
    EXPECT_EQ(env.direct_src_fd, -1);
    EXPECT_EQ(env.direct_dst_fd, -1);
  }
  {
    CopyEnv env = Env();
    env.sendfile_dst_fd = -1;
    MethodFds fds;
    ASSERT_OK(Named(fds.Open(Method::kSendfile, &env)));
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
    const Status s = Named(fds.Open(Method::kDirect, &env));
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

}  // namespace
}  // namespace pcopy
