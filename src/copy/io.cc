#include "copy/io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace pcopy {

Status CopyThroughBuffer(const CopyEnv& env, int src_fd, int dst_fd, std::span<char> buffer,
                         uint64_t offset, uint64_t length, ProgressSink& progress) {
  while (length > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
    size_t got = 0;
    if (Status s = ReadFull(*env.sys, src_fd, env.src_name, buffer.data(), want, offset, &got);
        !s.ok()) {
      return s;
    }
    if (got < want) return SourceChanged(env.src_name, offset + got);
    if (Status s = WriteFull(*env.sys, dst_fd, env.dst_name, buffer.data(), got, offset); !s.ok()) {
      return s;
    }
    offset += got;
    length -= got;
    progress.Add(got);
  }
  return {};
}

Status CopyRangeReadWrite(const CopyEnv& env, uint64_t offset, uint64_t length,
                          ProgressSink& progress) {
  return CopyThroughBuffer(env, env.src_fd, env.dst_fd, env.buffer, offset, length, progress);
}

Status SourceChanged(std::string_view src_name, uint64_t offset) {
  return Status::Failure("read", src_name,
                         "unexpected end of file (the source changed during the copy)", offset);
}

bool IsCopyFileRangeFallbackErrno(int err) {
  return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == EPERM;
}

Status ReadFull(const SysCalls& sys, int fd, std::string_view name, char* buf, size_t count,
                uint64_t offset, size_t* got) {
  *got = 0;
  while (*got < count) {
    ssize_t n = sys.pread(fd, buf + *got, count - *got, static_cast<off_t>(offset + *got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read", name, errno, offset + *got);
    }
    if (n == 0) break;  // end of file
    *got += static_cast<size_t>(n);
  }
  return {};
}

Status WriteFull(const SysCalls& sys, int fd, std::string_view name, const char* buf, size_t count,
                 uint64_t offset) {
  size_t done = 0;
  while (done < count) {
    ssize_t n = sys.pwrite(fd, buf + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write", name, errno, offset + done);
    }
    // pwrite returning 0 for a non-zero count means no progress is possible; looping would spin.
    if (n == 0) return Status::FromErrno("write", name, EIO, offset + done);
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace pcopy
