#include "os/metadata.h"
#include <cerrno>
namespace pcopy {
Status ApplyMetadata(const SysCalls& sys, int dst_fd, const struct stat& src, int,
                     const PreserveSet& preserve, mode_t umask, const std::string& display_name) {
  if (preserve.ownership) (void)sys.fchown(dst_fd, src.st_uid, src.st_gid);
  const mode_t mode = preserve.mode ? (src.st_mode & 07777) : (src.st_mode & 0777 & ~umask);
  if (sys.fchmod(dst_fd, mode) != 0) return Status::FromErrno("preserving permissions for", display_name, errno);
  if (preserve.timestamps) {
    const struct timespec t[2] = {src.st_atim, src.st_mtim};
    if (sys.futimens(dst_fd, t) != 0) return Status::FromErrno("preserving times for", display_name, errno);
  }
  return {};
}
}
namespace pcopy { Status ParsePreserveList(std::string_view list, bool value, PreserveSet* set) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos); if (end == std::string_view::npos) end = list.size();
    std::string_view w = list.substr(pos, end - pos);
    if (w == "mode") set->mode = value; else if (w == "ownership") set->ownership = value;
    else if (w == "timestamps") set->timestamps = value; else if (w == "links") set->links = value;
    else if (w == "xattr") set->xattr = value;
    else if (w == "all") { set->mode = set->ownership = set->timestamps = set->links = set->xattr = value; }
    else return Status::Message("invalid argument '" + std::string(w) + "' for '--preserve'");
    pos = end + 1;
  }
  return {};
} }
