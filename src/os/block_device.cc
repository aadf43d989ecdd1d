#include "os/block_device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace pcopy {

std::string MountPointOf(dev_t rdev) {
  // mountinfo: "36 35 98:0 /root /mnt/point options ... - fstype source superoptions".
  std::ifstream in("/proc/self/mountinfo");
  const std::string want = std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    if (!(fields >> id >> parent >> devno >> root >> point) || devno != want) continue;
    // Spaces and other awkward bytes in a mount point are written as octal escapes (\040).
    std::string unescaped;
    for (size_t i = 0; i < point.size(); ++i) {
      if (point[i] == '\\' && i + 3 < point.size()) {
        unescaped += static_cast<char>(std::strtol(point.substr(i + 1, 3).c_str(), nullptr, 8));
        i += 3;
      } else {
        unescaped += point[i];
      }
    }
    return unescaped;
  }
  return "";
}

Status OpenDeviceDest(const SysCalls& sys, const std::string& path, const std::string& display,
                      DeviceDest* out) {
  struct stat st;
  if (sys.fstatat(AT_FDCWD, path.c_str(), &st, 0) != 0) {
    return Status::FromErrno("cannot stat", display, errno);
  }
  if (const std::string point = MountPointOf(st.st_rdev); !point.empty()) {
    return Status::Failure("not writing to", display,
                           "it is mounted on " + Quote(point) + " (unmount it first)");
  }
  UniqueFd fd(sys.open(path.c_str(), O_RDWR | O_EXCL | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == EBUSY) {
      return Status::Failure("not writing to", display,
                             "it is in use (a partition of it mounted, or held by another "
                             "program)");
    }
    return Status::FromErrno("cannot open", display, errno).WithTail("for writing");
  }
  uint64_t bytes = 0;
  if (sys.ioctl(fd.get(), BLKGETSIZE64, &bytes) != 0) {
    return Status::FromErrno("cannot get the size of", display, errno);
  }
  out->fd = std::move(fd);
  out->size = bytes;
  return {};
}

}  // namespace pcopy
