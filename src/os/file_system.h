// file_system.h: what kind of file system holds an open file, and what that kind can do.
// A pure lookup by statfs magic; nothing is opened or changed.
#pragma once

#include <optional>

#include "os/sys_calls.h"

namespace pcopy {

struct FileSystemType {
  unsigned long magic;  // statfs f_type
  const char* name;
  // copy_file_range can share extents (reflink: xfs, btrfs, bcachefs, zfs block cloning) or copy
  // on the server (nfs, smb, ceph) here, so it moves no data through this machine's page cache.
  bool shares_extents;
};

// The type of the file system holding fd ("another file system" for one not in the table), or
// nothing if fstatfs fails.
std::optional<FileSystemType> FileSystemOf(const SysCalls& sys, int fd);

}  // namespace pcopy
