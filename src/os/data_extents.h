// data_extents.h: where a file's data lies, so that a copy can skip its holes.
//
// A sparse file (truncate -s 1T f) has a length but few or no blocks: the kernel reads its holes
// as zeros without storing them. lseek(SEEK_DATA / SEEK_HOLE) tells the data apart from the holes
// without reading a byte, so a copy can move only the data and leave DEST's holes unwritten.
// Every call goes through the SysCalls seam; nothing is read, written or changed (the file
// position moves, which no pcopy reader uses: they all read with pread).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/byte_range.h"
#include "base/status.h"
#include "os/sys_calls.h"

namespace pcopy {

// --sparse. auto: a regular file with fewer blocks than its length needs is mapped and only its
// data copied; always: every regular file is mapped, and whole zero blocks inside the data are
// left unwritten too (as cp --sparse=always); never: every byte is copied.
enum class SparseMode { kAuto, kAlways, kNever };

// A regular file whose allocated blocks (st_blocks, in 512-byte units) hold less than its length:
// it has holes (or is compressed or inline, which the mapping then finds to be all data).
bool MayHaveHoles(const struct stat& st);

// The data of fd's first `size` bytes, by SEEK_DATA and SEEK_HOLE: sorted, disjoint, non-empty
// ranges inside [0, size). No range for a file that is all hole. A file system that cannot
// seek by data (EINVAL, EOPNOTSUPP, ENOSYS on the first SEEK_DATA) gives one range [0, size), as
// does the kernel's own fallback for file systems without holes. Other failures name `name`:
// "cannot find the data of 'f': Input/output error".
Status DataExtents(const SysCalls& sys, int fd, uint64_t size, const std::string& name,
                   std::vector<ByteRange>* out);

// The ranges of fd to copy under `mode`, for a file whose first `size` bytes are copied: the
// data extents (DataExtents) of a regular file with kAlways, or with kAuto where MayHaveHoles;
// otherwise one range [0, size) (none for size 0).
Status SourceExtents(const SysCalls& sys, int fd, uint64_t size, SparseMode mode,
                     const std::string& name, std::vector<ByteRange>* out);

// The bytes the ranges hold together.
uint64_t TotalBytes(const std::vector<ByteRange>& ranges);

}  // namespace pcopy
