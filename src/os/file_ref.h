// file_ref.h: one file that metadata is read from or written to, named the way the kernel should
// reach it: an open descriptor, or a name in an open directory that is never followed (a symlink
// is the link itself). A plain view: it owns neither the descriptor nor the name.
#pragma once

#include <fcntl.h>

#include <string>
#include <string_view>

namespace pcopy {

struct FileRef {
  // Reached through an open descriptor (a regular file or a directory, opened for reading or
  // writing; not O_PATH, on which the f*xattr calls fail with EBADF).
  static FileRef Open(int fd, std::string_view display) {
    return FileRef{fd, AT_FDCWD, "", display};
  }
  // Reached as name in the directory open on dirfd (AT_FDCWD: name is a path from the working
  // directory). The *at calls get AT_SYMLINK_NOFOLLOW; extended attributes go through
  // ProcPath(), whose length does not grow with the depth of the tree.
  static FileRef At(int dirfd, const char* name, std::string_view display) {
    return FileRef{-1, dirfd, name, display};
  }

  // Nothing to reach: ApplyMetadata copies no xattrs or ACLs from such a source.
  static FileRef None(std::string_view display) { return FileRef{-1, AT_FDCWD, "", display}; }

  bool open() const { return fd >= 0; }
  bool reachable() const { return fd >= 0 || name[0] != '\0'; }
  // A path the l*xattr calls resolve to the file itself, whatever the depth of dirfd:
  // /proc/self/fd/<dirfd>/<name> (which needs /proc mounted), or name itself when dirfd is
  // AT_FDCWD or name is absolute.
  std::string ProcPath() const {
    if (dirfd == AT_FDCWD || name[0] == '/') return name;
    return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
  }

  int fd = -1;               // >= 0: an open descriptor, and dirfd and name are unused
  int dirfd = AT_FDCWD;      // otherwise the directory of name
  const char* name = "";     // one name (or a relative path) in dirfd
  std::string_view display;  // the path as messages quote it: what the user named
};

}  // namespace pcopy
