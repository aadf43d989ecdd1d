// destination.h: where a copy lands, following cp's rules for DEST.
//
// DEST an existing directory: DEST/basename(SOURCE). DEST a symlink to a file: that file (the
// copy replaces the target, as cp writes through the link). A dangling symlink, a directory in
// the way, or a DEST that is not a regular file (a device, a FIFO: renaming over it would replace
// the node instead of writing into it) is refused, but for a block device where the caller
// writes one in place. Pure lookups; nothing is created here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "os/sys_calls.h"

namespace pcopy {

struct Destination {
  std::string path;     // the path to rename the finished copy onto
  std::string display;  // DEST as the user named it (DIR/basename(SOURCE) for a directory),
                        // not resolved through a symlink: what cp's messages name
  bool exists = false;
  dev_t dev = 0;  // when exists
  ino_t ino = 0;
  bool block_device = false;  // an existing block device (with devices): written in place
  dev_t rdev = 0;             // which one
};

// devices: a block device (or a symlink to one) is accepted as DEST, to be written in place
// (os/block_device.h); otherwise it is refused as any other file that is not regular.
Status ResolveDestination(const std::string& source, const std::string& dest, Destination* out,
                          const SysCalls& sys = RealSysCalls(), bool devices = false);

// As cp does: an existing DEST that this user may not write (faccessat W_OK with the effective
// ids: EACCES, EPERM, EROFS) is refused, "cannot create regular file 'x': Permission denied".
// root passes the permission bits, as with cp. Other errors are left to the copy to meet.
Status CheckWritable(const Destination& dest);

// The bytes an unprivileged writer may still use on dir's file system (f_bavail * f_frsize) and
// its whole size (f_blocks * f_frsize); false if statvfs fails or the file system is read-only.
bool FreeSpace(const SysCalls& sys, const std::string& dir, uint64_t* available, uint64_t* total);

// Refuses a copy of `needed` bytes into dir when its file system has less room, in one line:
// "not enough space for 'DEST' on 'DIR': 3.00 GiB needed, 1.20 GiB available". Passes when
// needed is 0 (unknown), or statvfs fails or finds a read-only file system (creating the
// temporary will then say what is wrong). Exact byte counts when the rounded ones would be equal.
Status CheckFreeSpace(const SysCalls& sys, const std::string& dir, const std::string& display,
                      uint64_t needed);

}  // namespace pcopy
