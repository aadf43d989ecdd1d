#include "destination.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "temp_file.h"

namespace pcopy {

Status ResolveDestination(const std::string& source, const std::string& dest, Destination* out) {
  *out = Destination{};
  if (dest.empty()) return Status::FromErrno("cannot create regular file", dest, ENOENT);
  struct stat st;
  std::string target = dest;
  if (stat(dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    target = dest + (dest.back() == '/' ? "" : "/") + BaseName(source);
  } else if (dest.back() == '/') {
    return Status::FromErrno("cannot create regular file", dest, ENOTDIR);
  }

  out->display = target;
  if (lstat(target.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::FromErrno("cannot stat", target, errno);
    out->path = target;
    return {};
  }
  if (S_ISLNK(st.st_mode)) {
    if (stat(target.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        return Status::Failure("not writing through dangling symlink", target,
                               "its target does not exist");
      }
      return Status::FromErrno("cannot stat", target, errno);
    }
    char resolved[PATH_MAX];
    if (realpath(target.c_str(), resolved) == nullptr) {
      return Status::FromErrno("cannot resolve", target, errno);
    }
    target = resolved;
  }
  if (S_ISDIR(st.st_mode)) {
    return Status::Failure("cannot overwrite directory", target, "DEST must be a file");
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Failure("cannot copy onto", target,
                           "not a regular file (pcopy replaces DEST by renaming a complete copy "
                           "onto it)");
  }
  out->path = target;
  out->exists = true;
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  return {};
}

Status CheckWritable(const Destination& dest) {
  if (!dest.exists || faccessat(AT_FDCWD, dest.path.c_str(), W_OK, AT_EACCESS) == 0) return {};
  const int err = errno;
  if (err == EACCES || err == EPERM || err == EROFS) {
    return Status::FromErrno("cannot create regular file", dest.display, err);
  }
  return {};
}

}  // namespace pcopy
