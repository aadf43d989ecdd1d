#include "copy/reflink.h"

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string_view>

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

int CloneRange(const SysCalls& sys, int src_fd, int dst_fd, uint64_t offset, uint64_t length) {
  if (length == 0) return 0;  // to the kernel, 0 means "to the end of the source"
  file_clone_range range{};
  range.src_fd = src_fd;
  range.src_offset = offset;
  range.src_length = length;
  range.dest_offset = offset;
  for (;;) {
    if (sys.ioctl(dst_fd, FICLONERANGE, &range) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

uint64_t CloneBlockSize(const SysCalls& sys, int fd) {
  struct statfs st;
  if (sys.fstatfs(fd, &st) != 0 || st.f_bsize <= 0) return 4096;
  const auto block = static_cast<uint64_t>(st.f_bsize);
  return (block & (block - 1)) == 0 ? block : 4096;
}

std::vector<ByteRange> CloneRanges(const std::vector<ByteRange>& extents, uint64_t block,
                                   uint64_t size) {
  std::vector<ByteRange> out;
  for (const ByteRange& e : extents) {
    const uint64_t start = e.offset / block * block;
    const uint64_t end = std::min(size, (e.end() + block - 1) / block * block);
    if (end <= start) continue;
    if (!out.empty() && out.back().end() >= start) {
      out.back().length = std::max(out.back().end(), end) - out.back().offset;
    } else {
      out.push_back(ByteRange{start, end - start});
    }
  }
  return out;
}

int CloneRefusal(const SysCalls& sys, int src_fd, int dst_fd) {
  const std::optional<FileSystemType> src = FileSystemOf(sys, src_fd),
                                      dst = FileSystemOf(sys, dst_fd);
  if (!src || !dst) return 0;
  if (src->magic != dst->magic) return EXDEV;
  const std::string_view name = dst->name;
  return name == "ext4" || name == "tmpfs" ? EOPNOTSUPP : 0;
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
