#include "os/file_system.h"

namespace pcopy {
namespace {

constexpr FileSystemType kFileSystems[] = {
    {0xEF53, "ext4", false},        {0x58465342, "xfs", true},        {0x9123683E, "btrfs", true},
    {0xCA451A4E, "bcachefs", true}, {0x2FC12FC1, "zfs", true},        {0x6969, "nfs", true},
    {0xFF534D42, "cifs", true},     {0xFE534D42, "smb2", true},       {0x00C36400, "ceph", true},
    {0x01021994, "tmpfs", false},   {0x794C7630, "overlayfs", false}, {0x9FA0, "proc", false},
    {0x62656572, "sysfs", false},   {0x65735546, "fuse", false}};

}  // namespace

std::optional<FileSystemType> FileSystemOf(const SysCalls& sys, int fd) {
  struct statfs st;
  if (sys.fstatfs(fd, &st) != 0) return std::nullopt;
  for (const FileSystemType& t : kFileSystems) {
    if (t.magic == static_cast<unsigned long>(st.f_type)) return t;
  }
  return FileSystemType{static_cast<unsigned long>(st.f_type), "another file system", false};
}

}  // namespace pcopy
