// transfer_methods.h: the copy methods beyond copy_file_range and pread/pwrite, and the
// per-worker descriptors they need. Each copier has CopyRange's contract (io.h): exact offsets,
// EINTR and short counts retried, progress after every piece, "source changed" if SOURCE ends.
//
//   sendfile  sendfile(2) from SOURCE into a DEST descriptor that has its own file position:
//             sendfile writes at the position, so workers must not share one open file.
//   mmap      SOURCE mapped read-only one range at a time, written with pwrite (pwrite, not a
//             mapped DEST, so a full disk is ENOSPC and not SIGBUS).
//   direct    O_DIRECT reads and writes through an aligned buffer, bypassing the page cache; the
//             unaligned head and tail of a range go through the ordinary descriptors.
//
// MethodFds opens what a method needs in the worker itself, after fork(), by reopening the
// inherited descriptors through /proc/self/fd: a new open file description each time.
#pragma once

#include <cstdint>

#include "base/unique_fd.h"
#include "copy/io.h"

namespace pcopy {

// O_DIRECT offsets, lengths and buffer addresses are multiples of this (4096 covers 512-byte and
// 4 KiB logical blocks).
inline constexpr uint64_t kDirectAlignment = 4096;

IoError CopyRangeSendfile(const CopyEnv& env, uint64_t offset, uint64_t length,
                          ProgressSink& progress);
IoError CopyRangeMmap(const CopyEnv& env, uint64_t offset, uint64_t length, ProgressSink& progress);
IoError CopyRangeDirect(const CopyEnv& env, uint64_t offset, uint64_t length,
                        ProgressSink& progress);

class MethodFds {
 public:
  // Opens the descriptors method needs and records them in *env; nothing for other methods.
  IoError Open(Method method, CopyEnv* env);

 private:
  UniqueFd sendfile_dst_;
  UniqueFd direct_src_;
  UniqueFd direct_dst_;
};

}  // namespace pcopy
