// io.h: copying one byte range between two open files, the way every worker does it.
//
// All syscalls go through a SysCalls table so tests can inject EINTR, short counts and
// copy_file_range failures without touching the kernel. Every loop here retries EINTR, continues
// after short counts, and reports the exact offset where a call failed. Nothing here forks, throws
// or allocates more than the caller's buffer; it is safe in a forked worker.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "status.h"

struct statvfs;

namespace pcopy {

struct SysCalls {
  ssize_t (*pread)(int fd, void* buf, size_t count, off_t offset);
  ssize_t (*pwrite)(int fd, const void* buf, size_t count, off_t offset);
  ssize_t (*copy_file_range)(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len,
                             unsigned flags);
  ssize_t (*sendfile)(int out_fd, int in_fd, off_t* offset, size_t count);
  // The parent's checks before any worker starts: DEST's free space, and reserving its blocks.
  int (*statvfs)(const char* path, struct ::statvfs* buf);
  int (*fallocate)(int fd, int mode, off_t offset, off_t length);
};

const SysCalls& RealSysCalls();

// How a range is moved (--method). kAuto is the user's "let pcopy choose"; the copy job resolves
// it per file system before any worker starts (ChooseMethod in copy_job.cc), and a caller that
// passes it unresolved gets kCopyFileRangeOrPread. kCopyFileRangeOrPread starts with
// copy_file_range and switches to pread/pwrite, for good, at the exact offset reached when the
// kernel declines (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EPERM) or returns 0 early (some file
// systems, such as procfs, do). kCopyFileRange reports those errors instead, but still falls back
// on an early 0, because only a read can tell whether the source ended. The others are described
// in transfer_methods.h.
enum class Method {
  kAuto,
  kCopyFileRange,
  kPread,
  kSendfile,
  kMmap,
  kDirect,
  kCopyFileRangeOrPread
};

constexpr uint32_t MethodBit(Method m) { return 1u << static_cast<unsigned>(m); }

// Told about every piece of a range as it lands. An interface rather than std::function so that
// a worker's copy loop never allocates.
class ProgressSink {
 public:
  virtual void Add(uint64_t bytes) = 0;

 protected:
  ~ProgressSink() = default;
};

struct CopyEnv {
  const SysCalls* sys = nullptr;
  int src_fd = -1;
  int dst_fd = -1;
  std::string_view src_name;  // for messages only
  std::string_view dst_name;
  std::span<char> buffer;    // bounce buffer, aligned to kDirectAlignment; its size is the I/O size
  uint64_t max_step = 0;     // most bytes moved by one copy_file_range or sendfile call
  int sendfile_dst_fd = -1;  // DEST with a file position of its own (sendfile writes there)
  int direct_src_fd = -1;    // SOURCE and DEST opened with O_DIRECT
  int direct_dst_fd = -1;
};

// What a copier switched to and why; survives from one range to the next within a worker.
struct TransferState {
  Method method = Method::kAuto;
  uint32_t used = 0;  // MethodBit of every method that moved bytes
  bool Used(Method m) const { return (used & MethodBit(m)) != 0; }
  int fallback_errno = -1;  // -1: no fallback; 0: copy_file_range returned 0 early; else errno
};

// Copies [offset, offset + length) from env.src_fd to env.dst_fd at the same offsets, calling
// progress.Add(bytes) after each piece lands. Fails with "source changed" if the source ends first.
Status CopyRange(const CopyEnv& env, TransferState* state, uint64_t offset, uint64_t length,
                 ProgressSink& progress);

// Reads into buffer and writes out, piece by piece, between the given descriptors (env names
// them in messages); "source changed" if the source ends first.
Status CopyThroughBuffer(const CopyEnv& env, int src_fd, int dst_fd, std::span<char> buffer,
                         uint64_t offset, uint64_t length, ProgressSink& progress);

// CopyRange with pread/pwrite through env.buffer only.
Status CopyRangeReadWrite(const CopyEnv& env, uint64_t offset, uint64_t length,
                          ProgressSink& progress);

// Reads until count bytes or end of file; *got says how many. Retries EINTR and short reads.
Status ReadFull(const SysCalls& sys, int fd, std::string_view name, char* buf, size_t count,
                uint64_t offset, size_t* got);
// Writes all count bytes. Retries EINTR and short writes; a zero-byte write is an error.
Status WriteFull(const SysCalls& sys, int fd, std::string_view name, const char* buf, size_t count,
                 uint64_t offset);

bool IsCopyFileRangeFallbackErrno(int err);

// The error for a source that ended before the planned size: it shrank after it was sized.
Status SourceChanged(std::string_view src_name, uint64_t offset);

}  // namespace pcopy
