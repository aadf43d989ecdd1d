#include "io.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "transfer_methods.h"

namespace pcopy {
namespace {

ssize_t RealCopyFileRange(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len,
                          unsigned flags) {
  return ::copy_file_range(fd_in, off_in, fd_out, off_out, len, flags);
}

ssize_t RealSendfile(int out_fd, int in_fd, off_t* offset, size_t count) {
  return ::sendfile(out_fd, in_fd, offset, count);
}

constexpr SysCalls kReal = {&::pread,      &::pwrite,  &RealCopyFileRange,
                            &RealSendfile, &::statvfs, &::fallocate};

// One copy_file_range call must stay below 2 GiB (the kernel caps a call at MAX_RW_COUNT).
constexpr uint64_t kMaxCopyFileRangeStep = 1ull << 30;

// copy_file_range errors that can only be the destination's are reported as writes, so a full
// disk reads the same whichever method hit it.
Status CopyFileRangeError(const CopyEnv& env, int err, uint64_t offset) {
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return Status::FromErrno("write", env.dst_name, err, offset);
  }
  return Status::FromErrno("copy_file_range", env.src_name, err, offset)
      .WithSecondPath(env.dst_name);
}

}  // namespace

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

const SysCalls& RealSysCalls() { return kReal; }

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

Status CopyRange(const CopyEnv& env, TransferState* state, uint64_t offset, uint64_t length,
                 ProgressSink& progress) {
  if (length == 0) return {};
  switch (state->method) {
    case Method::kSendfile:
      state->used |= MethodBit(Method::kSendfile);
      return CopyRangeSendfile(env, offset, length, progress);
    case Method::kMmap:
      state->used |= MethodBit(Method::kMmap);
      return CopyRangeMmap(env, offset, length, progress);
    case Method::kDirect:
      state->used |= MethodBit(Method::kDirect);
      return CopyRangeDirect(env, offset, length, progress);
    case Method::kAuto:
    case Method::kCopyFileRangeOrPread:
    case Method::kCopyFileRange:
    case Method::kPread:
      break;
  }
  const uint64_t step = std::clamp<uint64_t>(env.max_step, 1, kMaxCopyFileRangeStep);
  while (length > 0 && state->method != Method::kPread) {
    off_t in = static_cast<off_t>(offset);
    off_t out = static_cast<off_t>(offset);
    ssize_t n = env.sys->copy_file_range(env.src_fd, &in, env.dst_fd, &out,
                                         static_cast<size_t>(std::min(length, step)), 0);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (state->method == Method::kCopyFileRange || !IsCopyFileRangeFallbackErrno(err)) {
        return CopyFileRangeError(env, err, offset);
      }
      state->method = Method::kPread;
      state->fallback_errno = err;
      break;
    }
    if (n == 0) {
      // End of the source, or a file system whose copy_file_range copies nothing: a read decides.
      state->method = Method::kPread;
      state->fallback_errno = 0;
      break;
    }
    state->used |= MethodBit(Method::kCopyFileRange);
    offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
    progress.Add(static_cast<uint64_t>(n));
  }
  if (length == 0) return {};
  state->used |= MethodBit(Method::kPread);
  return CopyRangeReadWrite(env, offset, length, progress);
}

}  // namespace pcopy
