#include "copy/writeback.h"

#include <fcntl.h>

#include <cerrno>

#include "os/stepped_sync.h"

namespace pcopy {
namespace {

// 0, or the errno of a failure; a file system without sync_file_range is not one (kUnsupported):
// the caller's final fdatasync does the work there, as before the pipeline existed.
constexpr int kUnsupported = -1;

int SyncRange(const SysCalls* sys, int fd, const ByteRange& r, unsigned flags) {
  for (;;) {
    if (sys->sync_file_range(fd, static_cast<off_t>(r.offset), static_cast<off_t>(r.length),
                             flags) == 0) {
      return 0;
    }
    if (errno == EINTR) continue;
    return IsSyncRangeUnsupported(errno) ? kUnsupported : errno;
  }
}

}  // namespace

IoError StartWriteback(const SysCalls* sys, int fd, const ByteRange& r) {
  if (r.length == 0) return {};
  if (int err = SyncRange(sys, fd, r, SYNC_FILE_RANGE_WRITE); err > 0) {
    return IoError::At(IoOp::kSync, IoFile::kDest, err, r.offset);
  }
  return {};
}

IoError WritebackPipeline::Wrote(uint64_t offset, uint64_t length) {
  if (length == 0 || unsupported_) return {};
  if (pending_.length != 0 && pending_.offset + pending_.length != offset) {
    if (IoError e = Start(); !e.ok()) return e;
  }
  if (pending_.length == 0) pending_.offset = offset;
  pending_.length += length;
  if (pending_.length < window_) return {};
  return Start();
}

IoError WritebackPipeline::Drain() {
  if (IoError e = Start(); !e.ok()) return e;
  while (!started_.empty()) {
    if (IoError e = WaitOldest(); !e.ok()) return e;
  }
  return {};
}

IoError WritebackPipeline::Start() {
  if (pending_.length == 0) return {};
  const ByteRange r = pending_;
  pending_ = ByteRange{};
  if (int err = SyncRange(sys_, fd_, r, SYNC_FILE_RANGE_WRITE); err != 0) {
    if (err != kUnsupported) return IoError::At(IoOp::kSync, IoFile::kDest, err, r.offset);
    unsupported_ = true;  // nothing started can be waited for; the final fdatasync does it all
    started_.clear();
    return {};
  }
  started_.push_back(r);
  while (started_.size() > depth_) {
    if (IoError e = WaitOldest(); !e.ok()) return e;
  }
  return {};
}

IoError WritebackPipeline::WaitOldest() {
  const ByteRange r = started_.front();
  started_.pop_front();
  const unsigned wait =
      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  if (int err = SyncRange(sys_, fd_, r, wait); err > 0) {
    return IoError::At(IoOp::kSync, IoFile::kDest, err, r.offset);
  }
  // Clean now: dropping them costs nothing and frees memory for the pages still to be written.
  (void)sys_->posix_fadvise(fd_, static_cast<off_t>(r.offset), static_cast<off_t>(r.length),
                            POSIX_FADV_DONTNEED);
  return {};
}

}  // namespace pcopy
