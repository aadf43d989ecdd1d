// io_error.h: how a copy kernel reports a failure: a fixed-size record, no text, no allocation.
//
// The kernels (io.h, transfer_methods.h, range_copy.h) run inside forked workers and, later, MPI
// ranks. They know neither the names the user typed nor how to phrase a message, and must not
// allocate on an error path, so each failure is recorded where it happens as an IoError: the
// operation (chosen at the call site), which file (SOURCE or DEST, and which file of many), the
// errno and the offset. A worker copies it field by field into its shared slot; the parent, or
// an in-process caller, turns it into the one-line Status with ToStatus, the only place that
// words these messages.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace pcopy {

enum class IoOp : uint8_t {
  kNone = 0,
  kRead,            // pread
  kWrite,           // pwrite, or a kernel copy that failed for a reason of DEST's (ENOSPC...)
  kCopyFileRange,   // copy_file_range, SOURCE to DEST
  kSendfile,        // sendfile, SOURCE to DEST
  kSeek,            // lseek of the descriptor sendfile writes through
  kOpen,            // open by path (a worker opens its files itself)
  kReplaced,        // the file opened is not the one the parent examined (no errno)
  kStat,            // fstat
  kMmap,            // mmap of a SOURCE window
  kOpenDirect,      // reopening with O_DIRECT
  kReopen,          // reopening DEST for sendfile
  kSourceEnded,     // the source ended before the planned size (no errno)
  kBufferTooSmall,  // --method direct with a buffer below one aligned block (no errno)
  kAllocate,        // the worker's copy buffer
  kSync,            // writeback of written DEST bytes (sync_file_range), --fsync
};

enum class IoFile : uint8_t { kSource = 0, kDest = 1 };

struct IoError {
  IoOp op = IoOp::kNone;
  IoFile file = IoFile::kSource;
  bool has_offset = false;
  int32_t err = 0;
  uint32_t file_index = 0;  // which file of a many-file copy; 0 for a single file
  uint64_t offset = 0;

  bool ok() const { return op == IoOp::kNone; }

  static IoError At(IoOp op, IoFile file, int err, uint64_t offset) {
    return IoError{op, file, true, err, 0, offset};
  }
  static IoError NoOffset(IoOp op, IoFile file, int err) {
    return IoError{op, file, false, err, 0, 0};
  }
};

// The message for e, naming SOURCE as src_name and DEST as dst_name:
//   write 'dst.img' at offset 4194304: No space left on device
//   copy_file_range 'a' to 'b' at offset 0: Input/output error
//   read 'a' at offset 42: unexpected end of file (the source changed during the copy)
Status ToStatus(const IoError& e, std::string_view src_name, std::string_view dst_name);

// A failure that involves one named file (a caller reading or writing a file of its own).
inline Status ToStatus(const IoError& e, std::string_view name) { return ToStatus(e, name, name); }

}  // namespace pcopy
