// range_copy.h: copying one byte range between two open files by the chosen method, the way
// every worker does it. CopyRange dispatches to the copiers of io.h and transfer_methods.h and
// owns copy_file_range's fallback to pread/pwrite. Safe in a forked worker: no allocation, no
// exception, EINTR and short counts retried.
#pragma once

#include <cstdint>

#include "copy/io.h"

namespace pcopy {

// Copies [offset, offset + length) from env.src_fd to env.dst_fd at the same offsets, calling
// progress.Add(bytes) after each piece lands. kSourceEnded if the source ends first.
IoError CopyRange(const CopyEnv& env, TransferState* state, uint64_t offset, uint64_t length,
                  ProgressSink& progress);

}  // namespace pcopy
