#include "copy/io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pcopy {
namespace {

// Every byte zero: the first is, and each equals the next.
bool AllZero(const char* p, size_t n) {
  return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

}  // namespace

IoError CopyThroughBuffer(const CopyEnv& env, int src_fd, int dst_fd, std::span<char> buffer,
                          uint64_t offset, uint64_t length, ProgressSink& progress) {
  while (length > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
    size_t got = 0;
    if (IoError e = ReadFull(*env.sys, src_fd, IoFile::kSource, buffer.data(), want, offset, &got);
        !e.ok()) {
      return e;
    }
    if (got < want) return SourceChanged(offset + got);
    const auto write = env.skip_zero_blocks ? WriteSkippingZeroBlocks : WriteFull;
    if (IoError e = write(*env.sys, dst_fd, IoFile::kDest, buffer.data(), got, offset); !e.ok()) {
      return e;
    }
    offset += got;
    length -= got;
    progress.Add(got);
  }
  return {};
}

IoError CopyRangeReadWrite(const CopyEnv& env, uint64_t offset, uint64_t length,
                           ProgressSink& progress) {
  return CopyThroughBuffer(env, env.src_fd, env.dst_fd, env.buffer, offset, length, progress);
}

bool IsCopyFileRangeFallbackErrno(int err) {
  return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == EPERM;
}

IoError ReadFull(const SysCalls& sys, int fd, IoFile file, char* buf, size_t count, uint64_t offset,
                 size_t* got) {
  *got = 0;
  while (*got < count) {
    ssize_t n = sys.pread(fd, buf + *got, count - *got, static_cast<off_t>(offset + *got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError::At(IoOp::kRead, file, errno, offset + *got);
    }
    if (n == 0) break;  // end of file
    *got += static_cast<size_t>(n);
  }
  return {};
}

IoError WriteFull(const SysCalls& sys, int fd, IoFile file, const char* buf, size_t count,
                  uint64_t offset) {
  size_t done = 0;
  while (done < count) {
    ssize_t n = sys.pwrite(fd, buf + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError::At(IoOp::kWrite, file, errno, offset + done);
    }
    // pwrite returning 0 for a non-zero count means no progress is possible; looping would spin.
    if (n == 0) return IoError::At(IoOp::kWrite, file, EIO, offset + done);
    done += static_cast<size_t>(n);
  }
  return {};
}

IoError WriteSkippingZeroBlocks(const SysCalls& sys, int fd, IoFile file, const char* buf,
                                size_t count, uint64_t offset) {
  size_t pending = 0;  // the start of the bytes not yet written nor skipped
  size_t block = static_cast<size_t>((kSparseBlock - offset % kSparseBlock) % kSparseBlock);
  for (; block + kSparseBlock <= count; block += kSparseBlock) {
    if (!AllZero(buf + block, kSparseBlock)) continue;
    if (IoError e = WriteFull(sys, fd, file, buf + pending, block - pending, offset + pending);
        !e.ok()) {
      return e;
    }
    pending = block + kSparseBlock;
  }
  return WriteFull(sys, fd, file, buf + pending, count - pending, offset + pending);
}

}  // namespace pcopy
