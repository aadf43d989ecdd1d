// reflink.h: a copy that moves no data: DEST made to share SOURCE's extents (FICLONE), on the
// file systems that can (xfs with reflink, btrfs, bcachefs...). The clone is instant and takes
// no space until either file is written; the kernel refuses it across file systems (EXDEV) and
// where the file system cannot share (EOPNOTSUPP, EINVAL).
//
// A tree's large files are cloned in parts instead (FICLONERANGE), one chunk per task, by the
// worker that takes it: the parent's walk never waits on a clone, and a declined chunk falls
// back to a copy of that chunk alone.
//
// The ioctls go through the SysCalls seam, so a test can make them fail. CloneIfAsked is called
// by the parent before any worker starts, on the temporary that becomes DEST; CloneRange by tree
// workers; nothing here forks or throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/byte_range.h"
#include "base/status.h"
#include "os/sys_calls.h"

namespace pcopy {

// --reflink. auto: clone where both files are on one file system type that can share extents,
// and copy the data where the clone is declined; always: clone or fail; never: never clone, and
// keep --method auto off copy_file_range, which may share extents by itself.
enum class ReflinkMode { kAuto, kAlways, kNever };

// Whether --reflink=auto should try: one file system type on both sides (files or directories)
// that can share extents.
bool MayShareExtents(const SysCalls& sys, int src_fd, int dst_fd);

// FICLONE: dst_fd becomes a copy of all of src_fd, sharing its extents; dst_fd's length becomes
// src_fd's. 0 on success, else the errno (EINTR retried).
int CloneWholeFile(const SysCalls& sys, int src_fd, int dst_fd);

// FICLONERANGE: bytes [offset, offset + length) of dst_fd become a clone of the same bytes of
// src_fd. The kernel wants offset and length multiples of the file system's block size
// (CloneBlockSize), except the length of a range that ends exactly at src_fd's end, whose last
// block is shared whole; and that last block only where it also ends dst_fd (EINVAL where dst_fd
// is longer). So dst_fd is best sized to src_fd's length first (a clone also extends a shorter
// file). 0 on success, else the errno (EINTR retried).
int CloneRange(const SysCalls& sys, int src_fd, int dst_fd, uint64_t offset, uint64_t length);

// The alignment FICLONERANGE asks of ranges on fd's file system: its block size (f_bsize), or
// 4096 where statfs fails or says something that is not a power of two.
uint64_t CloneBlockSize(const SysCalls& sys, int fd);

// A file's data extents made ranges FICLONERANGE accepts: each rounded out to multiples of
// `block` (its end at most `size`, the file's length), and merged where they then meet. What the
// rounding adds is hole, and a hole cloned stays a hole.
std::vector<ByteRange> CloneRanges(const std::vector<ByteRange>& extents, uint64_t block,
                                   uint64_t size);

// --reflink=always for a tree, before anything is created: the errno every clone from src_fd's
// file system into dst_fd's (directories) would meet, so that the copy fails in one line rather
// than once per file after building a tree of empty directories. EXDEV between file systems of
// two types (two superblocks: the kernel never clones across them); EOPNOTSUPP within ext4 or
// tmpfs, which have no clone at all. 0 elsewhere, where each file's clone tells.
int CloneRefusal(const SysCalls& sys, int src_fd, int dst_fd);

// The FICLONE errnos that say "not here" rather than "something is wrong": EOPNOTSUPP, EXDEV,
// EINVAL, and ENOTTY or ENOSYS from a kernel or file system without the ioctl.
bool IsCloneDeclinedErrno(int err);

struct CloneResult {
  bool tried = false;   // FICLONE was called
  bool cloned = false;  // DEST now holds SOURCE's bytes; nothing is left to copy
  int declined = 0;     // with kAuto, the errno of a declined FICLONE (the data is copied)
};

// --reflink for one file, before its data is copied: kNever does nothing; kAuto clones where
// both descriptors are on one file system type that can share extents (file_system.h) and falls
// back, quietly, on the declining errnos; kAlways clones or fails with
// "cannot clone 'SRC' to 'DST': Operation not supported". dst_fd must be empty (a fresh
// temporary). Names are as the user wrote them, for the message.
Status CloneIfAsked(const SysCalls& sys, ReflinkMode mode, int src_fd, int dst_fd,
                    const std::string& src_name, const std::string& dst_name, CloneResult* out);

}  // namespace pcopy
