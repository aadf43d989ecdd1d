// block_device.h: a block device as DEST (an image written to a disk, dd's main job).
//
// A device cannot be replaced by a rename: it is written in place, by the same workers as a file,
// and a failure or a signal leaves it partly written (the README says so, and so does the error).
// The parent opens it O_EXCL: the kernel then refuses a device that is mounted, or that another
// program holds exclusively (a partition of it mounted, a RAID or LVM member), and keeps it from
// being mounted while pcopy writes. The workers open it by path without O_EXCL, which an
// exclusive holder allows. Parent only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "os/sys_calls.h"

namespace pcopy {

struct DeviceDest {
  UniqueFd fd;        // O_RDWR (--verify reads it back), O_EXCL, O_CLOEXEC
  uint64_t size = 0;  // BLKGETSIZE64
};

// Opens the block device at path (display names it in messages) to be written in place. Refused
// in one line: mounted ("'/dev/sdb1' is mounted on '/media/usb'"), held by another program
// (EBUSY), read-only, or not openable.
Status OpenDeviceDest(const SysCalls& sys, const std::string& path, const std::string& display,
                      DeviceDest* out);

// Where the block device rdev is mounted (from /proc/self/mountinfo), or "" if nowhere.
std::string MountPointOf(dev_t rdev);

}  // namespace pcopy
