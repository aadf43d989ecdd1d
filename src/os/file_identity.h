// file_identity.h: which file an open descriptor is, as the kernel tells (device and inode), so
// that a process that opens a path again can check it reached the same file.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

namespace pcopy {

struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileIdentity&) const = default;
};

inline FileIdentity IdentityOf(const struct stat& st) { return FileIdentity{st.st_dev, st.st_ino}; }

}  // namespace pcopy
