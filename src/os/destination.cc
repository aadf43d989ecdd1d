#include "os/destination.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "base/size_parse.h"
#include "os/temp_file.h"

namespace pcopy {

Status ResolveDestination(const std::string& source, const std::string& dest, Destination* out,
                          const SysCalls& sys, bool devices) {
  *out = Destination{};
  if (dest.empty()) return Status::FromErrno("cannot create regular file", dest, ENOENT);
  struct stat st;
  std::string target = dest;
  if (sys.fstatat(AT_FDCWD, dest.c_str(), &st, 0) == 0 && S_ISDIR(st.st_mode)) {
    target = dest + (dest.back() == '/' ? "" : "/") + BaseName(source);
  } else if (dest.back() == '/') {
    return Status::FromErrno("cannot create regular file", dest, ENOTDIR);
  }

  out->display = target;
  if (sys.fstatat(AT_FDCWD, target.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) return Status::FromErrno("cannot stat", target, errno);
    out->path = target;
    return {};
  }
  if (S_ISLNK(st.st_mode)) {
    if (sys.fstatat(AT_FDCWD, target.c_str(), &st, 0) != 0) {
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
  out->block_device = devices && S_ISBLK(st.st_mode);
  out->rdev = out->block_device ? st.st_rdev : 0;
  if (!S_ISREG(st.st_mode) && !out->block_device) {
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

bool FreeSpace(const SysCalls& sys, const std::string& dir, uint64_t* available, uint64_t* total) {
  struct statvfs st;
  // Nothing at all can be written on a read-only file system: creating the file will say so.
  if (sys.statvfs(dir.c_str(), &st) != 0 || (st.f_flag & ST_RDONLY) != 0) return false;
  const uint64_t unit = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
  if (__builtin_mul_overflow(static_cast<uint64_t>(st.f_bavail), unit, available)) {
    *available = UINT64_MAX;
  }
  if (__builtin_mul_overflow(static_cast<uint64_t>(st.f_blocks), unit, total)) *total = UINT64_MAX;
  return true;
}

Status CheckFreeSpace(const SysCalls& sys, const std::string& dir, const std::string& display,
                      uint64_t needed) {
  uint64_t available = 0, total = 0;
  if (needed == 0 || !FreeSpace(sys, dir, &available, &total) || needed <= available) return {};
  std::string need = FormatBytes(needed), have = FormatBytes(available);
  if (need == have) {  // "1.00 MiB needed, 1.00 MiB available" would read as a contradiction
    need = std::to_string(needed) + " bytes";
    have = std::to_string(available) + " bytes";
  }
  return Status::Message("not enough space for " + Quote(display) + " on " + Quote(dir) + ": " +
                         need + " needed, " + have + " available");
}

}  // namespace pcopy
