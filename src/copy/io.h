// io.h: the read and write loops every copy method stands on, and the types they share.
//
// All syscalls go through the SysCalls seam (os/sys_calls.h) so tests can inject EINTR, short
// counts and failures without touching the kernel. Every loop here retries EINTR, continues
// after short counts, and reports the exact offset where a call failed. Nothing here forks, throws
// or allocates more than the caller's buffer; it is safe in a forked worker.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>

#include "copy/io_error.h"
#include "os/sys_calls.h"

namespace pcopy {

// How a range is moved (--method). kAuto is the user's "let pcopy choose"; the copy job resolves
// it per file system before any worker starts (ChooseMethod in app/method_choice.cc), and a caller
// that passes it unresolved gets kCopyFileRangeOrPread. kCopyFileRangeOrPread starts with
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
  std::span<char> buffer;    // bounce buffer, aligned to kDirectAlignment; its size is the I/O size
  uint64_t max_step = 0;     // most bytes moved by one copy_file_range or sendfile call
  int sendfile_dst_fd = -1;  // DEST with a file position of its own (sendfile writes there)
  int direct_src_fd = -1;    // SOURCE and DEST opened with O_DIRECT
  int direct_dst_fd = -1;
  // --sparse=always: a whole kSparseBlock-aligned block of zeros read is not written, leaving
  // DEST's hole there (DEST was sized with ftruncate and not allocated, so it reads as zeros).
  bool skip_zero_blocks = false;
};

// The block whose zeros --sparse=always leaves unwritten: the page and file system block size
// of every Linux file system pcopy meets, so a skipped block is a hole and not half of one.
inline constexpr uint64_t kSparseBlock = 4096;

// What a copier switched to and why; survives from one range to the next within a worker.
struct TransferState {
  Method method = Method::kAuto;
  uint32_t used = 0;  // MethodBit of every method that moved bytes
  bool Used(Method m) const { return (used & MethodBit(m)) != 0; }
  int fallback_errno = -1;  // -1: no fallback; 0: copy_file_range returned 0 early; else errno
};

// Reads into buffer and writes out, piece by piece, between the given descriptors (SOURCE's and
// DEST's); kSourceEnded if the source ends first.
IoError CopyThroughBuffer(const CopyEnv& env, int src_fd, int dst_fd, std::span<char> buffer,
                          uint64_t offset, uint64_t length, ProgressSink& progress);

// CopyRange with pread/pwrite through env.buffer only.
IoError CopyRangeReadWrite(const CopyEnv& env, uint64_t offset, uint64_t length,
                           ProgressSink& progress);

// Reads until count bytes or end of file; *got says how many. Retries EINTR and short reads.
// `file` says which file fd is, for the error record.
IoError ReadFull(const SysCalls& sys, int fd, IoFile file, char* buf, size_t count, uint64_t offset,
                 size_t* got);
// Writes all count bytes. Retries EINTR and short writes; a zero-byte write is an error.
IoError WriteFull(const SysCalls& sys, int fd, IoFile file, const char* buf, size_t count,
                  uint64_t offset);
// WriteFull, but the whole kSparseBlock blocks of zeros (aligned to file offsets) are skipped;
// the bytes between them go out in as few writes as possible.
IoError WriteSkippingZeroBlocks(const SysCalls& sys, int fd, IoFile file, const char* buf,
                                size_t count, uint64_t offset);

bool IsCopyFileRangeFallbackErrno(int err);

// The error for a source that ended before the planned size: it shrank after it was sized.
inline IoError SourceChanged(uint64_t offset) {
  return IoError::At(IoOp::kSourceEnded, IoFile::kSource, 0, offset);
}

}  // namespace pcopy
