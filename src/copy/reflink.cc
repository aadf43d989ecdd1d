#include "copy/reflink.h"

#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>

#include "os/file_system.h"

namespace pcopy {

// Elsewhere the ioctl would only be declined, and the question costs two fstatfs against one
// ioctl.
bool MayShareExtents(const SysCalls& sys, int src_fd, int dst_fd) {
  const std::optional<FileSystemType> src = FileSystemOf(sys, src_fd),
                                      dst = FileSystemOf(sys, dst_fd);
  return src && dst && src->magic == dst->magic && src->shares_extents;
}

int CloneWholeFile(const SysCalls& sys, int src_fd, int dst_fd) {
  // FICLONE takes the source descriptor itself as its argument, not a pointer to it.
  void* arg = reinterpret_cast<void*>(static_cast<intptr_t>(src_fd));
  for (;;) {
    if (sys.ioctl(dst_fd, FICLONE, arg) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

bool IsCloneDeclinedErrno(int err) {
  return err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOTTY || err == ENOSYS;
}

Status CloneIfAsked(const SysCalls& sys, ReflinkMode mode, int src_fd, int dst_fd,
                    const std::string& src_name, const std::string& dst_name, CloneResult* out) {
  *out = CloneResult{};
  if (mode == ReflinkMode::kNever) return {};
  if (mode == ReflinkMode::kAuto && !MayShareExtents(sys, src_fd, dst_fd)) return {};
  out->tried = true;
  const int err = CloneWholeFile(sys, src_fd, dst_fd);
  if (err == 0) {
    out->cloned = true;
    return {};
  }
  if (mode == ReflinkMode::kAuto && IsCloneDeclinedErrno(err)) {
    out->declined = err;
    return {};
  }
  Status s = Status::FromErrno("cannot clone", src_name, err);
  s.WithSecondPath(dst_name);
  return s;
}

}  // namespace pcopy
