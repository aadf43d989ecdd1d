#include "os/special_files.h"

#include <algorithm>
#include <cerrno>

#include "os/growing_buffer.h"

namespace pcopy {

Status ReadSymlink(const SysCalls& sys, const FileRef& link, size_t size_hint,
                   std::string* target) {
  GrowingBuffer buf;
  // One byte more than the hint: a target that fills the buffer may have been cut short.
  buf.Reserve(std::min(size_hint, kMaxSymlinkTarget) + 1);
  for (;;) {
    const ssize_t n = sys.readlinkat(link.dirfd, link.name, buf.data(), buf.size());
    if (n < 0) return Status::FromErrno("cannot read symbolic link", link.display, errno);
    if (static_cast<size_t>(n) < buf.size()) {
      target->assign(buf.data(), static_cast<size_t>(n));
      return {};
    }
    if (buf.size() > kMaxSymlinkTarget) {
      return Status::FromErrno("cannot read symbolic link", link.display, ENAMETOOLONG);
    }
    buf.Reserve(std::min(buf.size() * 2, kMaxSymlinkTarget + 1));
  }
}

Status CopySymlink(const SysCalls& sys, const FileRef& src, size_t size_hint, const FileRef& dst) {
  std::string target;
  Status s = ReadSymlink(sys, src, size_hint, &target);
  if (!s.ok()) return s;
  if (sys.symlinkat(target.c_str(), dst.dirfd, dst.name) != 0) {
    return Status::FromErrno("cannot create symbolic link", dst.display, errno);
  }
  return {};
}

Status MakeSpecial(const SysCalls& sys, const struct stat& src_st, const FileRef& dst) {
  const mode_t owner_only = src_st.st_mode & S_IRWXU;
  if (S_ISFIFO(src_st.st_mode)) {
    if (sys.mkfifoat(dst.dirfd, dst.name, owner_only) != 0) {
      return Status::FromErrno("cannot create fifo", dst.display, errno);
    }
    return {};
  }
  if (!S_ISCHR(src_st.st_mode) && !S_ISBLK(src_st.st_mode)) {
    return Status::Failure("cannot create special file", dst.display, "not a FIFO or a device");
  }
  if (sys.mknodat(dst.dirfd, dst.name, (src_st.st_mode & S_IFMT) | owner_only, src_st.st_rdev) !=
      0) {
    return Status::FromErrno("cannot create special file", dst.display, errno);
  }
  return {};
}

}  // namespace pcopy
