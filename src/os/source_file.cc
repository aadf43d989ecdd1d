#include "os/source_file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

namespace pcopy {
namespace {

const char* KindName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  return "not a regular file";
}

// statfs f_type of the kernel interfaces that make up a file's contents when it is read and
// report a size of 0 or a page (sysfs), never the real one. As numbers: <linux/magic.h> has no
// name for configfs.
constexpr unsigned long kPseudoFileSystems[] = {
    0x9fa0,      // proc
    0x62656572,  // sysfs
    0x64626720,  // debugfs
    0x74726163,  // tracefs
    0x73636673,  // securityfs
    0x63677270,  // cgroup2
    0x27e0eb,    // cgroup
    0x62656570,  // configfs
    0x6165676c,  // pstore
    0xde5e81e4,  // efivarfs
    0xcafe4a11,  // bpf
    0xf97cff8c,  // selinuxfs
    0x43415d53,  // smackfs
    0x42494e4d,  // binfmt_misc
};

}  // namespace

bool IsPseudoFileSystem(unsigned long magic) {
  for (unsigned long m : kPseudoFileSystems) {
    if (m == magic) return true;
  }
  return false;
}

Status OpenSource(const std::string& path, SourceFile* out, SourceUse use, const SysCalls& sys) {
  UniqueFd fd(sys.open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return Status::FromErrno("cannot open", path, errno).WithTail("for reading");
  struct stat st;
  if (sys.fstat(fd.get(), &st) != 0) return Status::FromErrno("cannot stat", path, errno);
  if (S_ISREG(st.st_mode)) {
    out->kind = SourceKind::kRegular;
    struct statfs fs;
    const bool pseudo = sys.fstatfs(fd.get(), &fs) == 0 &&
                        IsPseudoFileSystem(static_cast<unsigned long>(fs.f_type));
    out->size = pseudo ? 0 : static_cast<uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    out->kind = SourceKind::kBlockDevice;
    uint64_t bytes = 0;
    if (sys.ioctl(fd.get(), BLKGETSIZE64, &bytes) != 0) {
      return Status::FromErrno("cannot get the size of", path, errno);
    }
    out->size = bytes;
  } else {
    if (use != SourceUse::kCopy) {
      return Status::Failure(
          "cannot read", path,
          std::string("it is ") + KindName(st.st_mode) +
              (use == SourceUse::kCompare
                   ? "; --compare compares regular files and block devices"
                   : "; digests are made of regular files, block devices and '-'"));
    }
    return Status::Failure("cannot copy", path,
                           std::string("source is ") + KindName(st.st_mode) +
                               "; pcopy copies regular files and block devices");
  }
  // Reads must block normally; O_NONBLOCK was only for a safe open().
  if (sys.fcntl(fd.get(), F_SETFL, O_RDONLY) != 0) {
    return Status::FromErrno("cannot open", path, errno).WithTail("for reading");
  }
  out->mode = st.st_mode;
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  out->fd = std::move(fd);
  return {};
}

Status OpenStandardInput(SourceFile* out, const SysCalls& sys) {
  UniqueFd fd(sys.fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
  if (!fd.valid()) return Status::FromErrno("cannot read", "-", errno);
  struct stat st;
  if (sys.fstat(fd.get(), &st) != 0) return Status::FromErrno("cannot stat", "-", errno);
  if (S_ISDIR(st.st_mode)) return Status::FromErrno("cannot read", "-", EISDIR);
  out->kind = SourceKind::kStream;
  out->size = 0;
  // Made as a shell's redirection makes a file: 0666 less the umask (the commit applies it).
  out->mode = S_IFREG | 0666;
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  out->fd = std::move(fd);
  return {};
}

}  // namespace pcopy
