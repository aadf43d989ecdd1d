#include "copy/range_copy.h"

#include <algorithm>
#include <cerrno>

#include "copy/transfer_methods.h"

namespace pcopy {
namespace {

// One copy_file_range call must stay below 2 GiB (the kernel caps a call at MAX_RW_COUNT).
constexpr uint64_t kMaxCopyFileRangeStep = 1ull << 30;

// copy_file_range errors that can only be the destination's are reported as writes, so a full
// disk reads the same whichever method hit it.
IoError CopyFileRangeError(int err, uint64_t offset) {
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return IoError::At(IoOp::kWrite, IoFile::kDest, err, offset);
  }
  return IoError::At(IoOp::kCopyFileRange, IoFile::kSource, err, offset);
}

}  // namespace

IoError CopyRange(const CopyEnv& env, TransferState* state, uint64_t offset, uint64_t length,
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
        return CopyFileRangeError(err, offset);
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
