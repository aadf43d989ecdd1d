// writeback.h: the durable pipeline of --fsync. A worker's written bytes go to the disk while it
// copies the next ones, so that the final fdatasync has little left to wait for.
//
// Without it, a --fsync copy writes everything into the page cache and then waits for the whole
// file at the end: the reads and the disk writes never overlap, and the dirty pages pile up until
// the kernel throttles the writers. Here each window of bytes written (kWritebackWindow) is handed
// to the disk at once (sync_file_range WRITE: starts writeback, does not wait), and waited for a
// few windows later (WAIT_BEFORE | WRITE | WAIT_AFTER), when it is usually done; its pages are
// then clean and are dropped (POSIX_FADV_DONTNEED), so a copy larger than memory does not evict
// everything else and a later read-back (--verify) reads the storage. sync_file_range does not
// flush the file's metadata or the device's cache: the caller's fdatasync at the end still makes
// the copy durable; this only moves the waiting earlier, where it overlaps the copy.
//
// A file system without sync_file_range (ENOSYS, EINVAL, EOPNOTSUPP: os/stepped_sync.h) turns
// the pipeline off, not the copy: the final fdatasync then does all the work, as before.
//
// One per worker and file; used inside forked workers, so it reports an IoError (no allocation
// beyond its small queue, no exceptions). Every call goes through the SysCalls seam.
#pragma once

#include <cstdint>
#include <deque>

#include "base/byte_range.h"
#include "copy/io_error.h"
#include "os/sys_calls.h"

namespace pcopy {

// 8 MiB windows, 4 in flight per worker: 32 MiB of each worker's writes under writeback at a time.
inline constexpr uint64_t kWritebackWindow = uint64_t{8} << 20;
inline constexpr size_t kWritebackDepth = 4;

// Starts the writeback of r (sync_file_range WRITE) without waiting for it: for a piece whose
// descriptor is about to be closed (a tree's chunk), so that the final fdatasync finds it done.
IoError StartWriteback(const SysCalls* sys, int fd, const ByteRange& r);

class WritebackPipeline {
 public:
  WritebackPipeline(const SysCalls* sys, int fd, uint64_t window = kWritebackWindow,
                    size_t depth = kWritebackDepth)
      : sys_(sys), fd_(fd), window_(window), depth_(depth) {}

  // [offset, offset + length) of fd was just written. Starts the writeback of a full window, and
  // waits for the oldest window beyond the depth. An error is kSync on DEST at the window's offset.
  IoError Wrote(uint64_t offset, uint64_t length);

  // Starts what is pending and waits for everything started (the end of a unit of work).
  IoError Drain();

 private:
  IoError Start();
  IoError WaitOldest();

  const SysCalls* sys_;
  int fd_;
  uint64_t window_;
  size_t depth_;
  bool unsupported_ = false;       // the file system has no sync_file_range: do nothing
  ByteRange pending_{};            // written, writeback not started yet
  std::deque<ByteRange> started_;  // writeback started, oldest first
};

}  // namespace pcopy
