// reflink.h: a copy that moves no data: DEST made to share SOURCE's extents (FICLONE), on the
// file systems that can (xfs with reflink, btrfs, bcachefs...). The clone is instant and takes
// no space until either file is written; the kernel refuses it across file systems (EXDEV) and
// where the file system cannot share (EOPNOTSUPP, EINVAL).
//
// The ioctl goes through the SysCalls seam, so a test can make it fail. Called by the parent
// before any worker starts, on the temporary that becomes DEST; nothing here forks or throws.
#pragma once

#include <string>

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
