#include "copy/transfer_methods.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace pcopy {
namespace {

// A new open file description of fd's file. Formats into a stack buffer: a worker allocates
// nothing but its copy buffer.
UniqueFd Reopen(const SysCalls& sys, int fd, int flags) {
  char path[40];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return UniqueFd(sys.open(path, flags | O_CLOEXEC));
}

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
uint64_t AlignDown(uint64_t v, uint64_t a) { return v / a * a; }

}  // namespace

IoError MethodFds::Open(Method method, CopyEnv* env) {
  if (method == Method::kSendfile) {
    sendfile_dst_ = Reopen(*env->sys, env->dst_fd, O_WRONLY);
    if (!sendfile_dst_.valid()) return IoError::NoOffset(IoOp::kReopen, IoFile::kDest, errno);
    env->sendfile_dst_fd = sendfile_dst_.get();
  } else if (method == Method::kDirect) {
    direct_src_ = Reopen(*env->sys, env->src_fd, O_RDONLY | O_DIRECT);
    if (!direct_src_.valid()) return IoError::NoOffset(IoOp::kOpenDirect, IoFile::kSource, errno);
    direct_dst_ = Reopen(*env->sys, env->dst_fd, O_WRONLY | O_DIRECT);
    if (!direct_dst_.valid()) return IoError::NoOffset(IoOp::kOpenDirect, IoFile::kDest, errno);
    env->direct_src_fd = direct_src_.get();
    env->direct_dst_fd = direct_dst_.get();
  }
  return {};
}

IoError CopyRangeSendfile(const CopyEnv& env, uint64_t offset, uint64_t length,
                          ProgressSink& progress) {
  if (env.sys->lseek(env.sendfile_dst_fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return IoError::At(IoOp::kSeek, IoFile::kDest, errno, offset);
  }
  const uint64_t step = std::clamp<uint64_t>(env.max_step, 1, 1ull << 30);
  off_t in = static_cast<off_t>(offset);
  while (length > 0) {
    const ssize_t n = env.sys->sendfile(env.sendfile_dst_fd, env.src_fd, &in,
                                        static_cast<size_t>(std::min(length, step)));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
        return IoError::At(IoOp::kWrite, IoFile::kDest, err, static_cast<uint64_t>(in));
      }
      return IoError::At(IoOp::kSendfile, IoFile::kSource, err, static_cast<uint64_t>(in));
    }
    if (n == 0) return SourceChanged(static_cast<uint64_t>(in));
    length -= static_cast<uint64_t>(n);
    progress.Add(static_cast<uint64_t>(n));
  }
  return {};
}

IoError CopyRangeMmap(const CopyEnv& env, uint64_t offset, uint64_t length,
                      ProgressSink& progress) {
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  // Map at most 1 GiB at a time: a huge range need not be mapped whole.
  constexpr uint64_t kWindow = 1ull << 30;
  while (length > 0) {
    const uint64_t window = std::min(length, kWindow);
    // Bytes of a mapping's last page beyond the end of the file read as zeros, without any
    // fault: a source that shrank must be caught here, not copied as zeros.
    struct stat st;
    if (env.sys->fstat(env.src_fd, &st) != 0) {
      return IoError::NoOffset(IoOp::kStat, IoFile::kSource, errno);
    }
    const auto src_size = static_cast<uint64_t>(st.st_size);
    if (src_size < offset + window) return SourceChanged(src_size);
    const uint64_t map_start = AlignDown(offset, page);
    const size_t map_length = static_cast<size_t>(offset - map_start + window);
    void* map = env.sys->mmap(nullptr, map_length, PROT_READ, MAP_SHARED, env.src_fd,
                              static_cast<off_t>(map_start));
    if (map == MAP_FAILED) return IoError::At(IoOp::kMmap, IoFile::kSource, errno, offset);
    madvise(map, map_length, MADV_SEQUENTIAL);
    const char* data = static_cast<const char*>(map) + (offset - map_start);
    IoError status;
    for (uint64_t done = 0; done < window && status.ok();) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(env.buffer.size(), window - done));
      status = WriteFull(*env.sys, env.dst_fd, IoFile::kDest, data + done, n, offset + done);
      if (status.ok()) progress.Add(n);
      done += n;
    }
    env.sys->munmap(map, map_length);
    if (!status.ok() && status.err == EFAULT && env.sys->fstat(env.src_fd, &st) == 0 &&
        static_cast<uint64_t>(st.st_size) < offset + window) {
      // The source shrank while mapped: pwrite met pages past its end.
      return SourceChanged(static_cast<uint64_t>(st.st_size));
    }
    if (!status.ok()) return status;
    offset += window;
    length -= window;
  }
  return {};
}

IoError CopyRangeDirect(const CopyEnv& env, uint64_t offset, uint64_t length,
                        ProgressSink& progress) {
  const uint64_t end = offset + length;
  const uint64_t direct_start = std::min(AlignUp(offset, kDirectAlignment), end);
  const uint64_t direct_end = std::max(AlignDown(end, kDirectAlignment), direct_start);
  const size_t step = static_cast<size_t>(AlignDown(env.buffer.size(), kDirectAlignment));
  if (step == 0) {
    return IoError::NoOffset(IoOp::kBufferTooSmall, IoFile::kDest, 0);
  }
  // The unaligned head and tail: buffered, through the ordinary descriptors.
  if (IoError e = CopyRangeReadWrite(env, offset, direct_start - offset, progress); !e.ok()) {
    return e;
  }
  if (IoError e =
          CopyThroughBuffer(env, env.direct_src_fd, env.direct_dst_fd, env.buffer.first(step),
                            direct_start, direct_end - direct_start, progress);
      !e.ok()) {
    return e;
  }
  return CopyRangeReadWrite(env, direct_end, end - direct_end, progress);
}

}  // namespace pcopy
