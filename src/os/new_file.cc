#include "os/new_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "os/leftovers.h"

namespace pcopy {

Status NewFile::Create(const SysCalls& sys, int dir_fd, const std::string& name,
                       Placement placement, mode_t mode, const std::string& display) {
  sys_ = &sys;
  dir_ = dir_fd;
  name_ = name;
  display_ = display;
  placement_ = placement;
  const int flags = O_WRONLY | O_CLOEXEC;
  if (placement == Placement::kInPlace) {
    fd_ = UniqueFd(sys.openat(dir_fd, name.c_str(), flags | O_CREAT | O_TRUNC | O_NOFOLLOW, mode));
  } else {
    if (placement == Placement::kViaTemporary) {
      fd_ = UniqueFd(sys.openat(dir_fd, ".", flags | O_TMPFILE, mode));
      unnamed_ = fd_.valid();
    } else {
      errno = EOPNOTSUPP;
    }
    // No O_TMPFILE here (EOPNOTSUPP: NFS and some others; EISDIR or EINVAL: an old kernel), or
    // a name asked for: a hidden temporary named so that a later run can tell a dead run's
    // leftover.
    if (!fd_.valid() && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
      temp_name_ = TemporaryName();
      fd_ = UniqueFd(
          sys.openat(dir_fd, temp_name_.c_str(), flags | O_CREAT | O_EXCL | O_NOFOLLOW, mode));
      if (!fd_.valid()) temp_name_.clear();
    }
  }
  if (!fd_.valid()) return Status::FromErrno("cannot create regular file", display, errno);
  created_in_place_ = placement == Placement::kInPlace;
  return {};
}

Status NewFile::Adopt(const SysCalls& sys, int dir_fd, const std::string& name,
                      const std::string& display, struct stat* st) {
  sys_ = &sys;
  dir_ = dir_fd;
  name_ = name;
  display_ = display;
  placement_ = Placement::kInPlace;
  fd_ = UniqueFd(sys.openat(dir_fd, name.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0));
  if (!fd_.valid() || sys.fstat(fd_.get(), st) != 0) {
    fd_ = UniqueFd();
    return Status::FromErrno("cannot open", display, errno).WithTail("for writing");
  }
  created_in_place_ = true;
  return {};
}

Status NewFile::CloseFile() {
  const int fd = fd_.release();
  if (sys_->close(fd) != 0 && errno != EINTR) {
    return Status::FromErrno("close", display_, errno);
  }
  return {};
}

Published NewFile::Publish(bool no_clobber, Status* error) {
  if (placement_ == Placement::kInPlace) {
    *error = CloseFile();
    published_ = error->ok();
    return published_ ? Published::kYes : Published::kFailed;  // Discard removes a failed one
  }
  if (unnamed_) {
    if (LinkUnnamed(name_.c_str()) == 0) {
      published_ = true;
      *error = CloseFile();
      return Published::kYes;
    }
    if (errno != EEXIST) {
      *error = Status::FromErrno("cannot create regular file", display_, errno);
      return Published::kFailed;
    }
    if (no_clobber) return Published::kKeptExisting;
    // The name is taken: link under a hidden name, then rename over it (an atomic replace).
    temp_name_ = TemporaryName();
    if (LinkUnnamed(temp_name_.c_str()) != 0) {
      const int err = errno;
      temp_name_.clear();
      *error = Status::FromErrno("cannot create regular file", display_, err);
      return Published::kFailed;
    }
  }
  if (sys_->renameat2(dir_, temp_name_.c_str(), dir_, name_.c_str(),
                      no_clobber ? RENAME_NOREPLACE : 0) != 0) {
    if (errno == EEXIST && no_clobber) return Published::kKeptExisting;
    *error = errno == EISDIR ? Status::Message("cannot overwrite directory " + Quote(display_) +
                                               " with non-directory")
                             : Status::FromErrno("cannot create regular file", display_, errno);
    return Published::kFailed;
  }
  temp_name_.clear();
  published_ = true;
  *error = CloseFile();
  return Published::kYes;
}

// linkat of an O_TMPFILE: by descriptor where the process may (CAP_DAC_READ_SEARCH), through
// /proc/self/fd otherwise, as linkat(2) describes.
int NewFile::LinkUnnamed(const char* name) const {
  if (sys_->linkat(fd_.get(), "", dir_, name, AT_EMPTY_PATH) == 0) return 0;
  if (errno != ENOENT && errno != EPERM) return -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd_.get());
  return sys_->linkat(AT_FDCWD, path, dir_, name, AT_SYMLINK_FOLLOW);
}

void NewFile::Discard() {
  if (sys_ == nullptr) return;
  if (!temp_name_.empty()) {
    sys_->unlinkat(dir_, temp_name_.c_str(), 0);
    temp_name_.clear();
  } else if (created_in_place_ && !published_) {
    sys_->unlinkat(dir_, name_.c_str(), 0);
  }
  fd_ = UniqueFd();
  created_in_place_ = false;
}

Existing CheckExisting(const SysCalls& sys, int dir_fd, const char* name, const struct stat& src,
                       bool no_clobber, bool update) {
  struct stat st;
  if (sys.fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return Existing::kAbsent;
  if (st.st_dev == src.st_dev && st.st_ino == src.st_ino) return Existing::kSameFile;
  if (no_clobber) return Existing::kKeep;
  const bool newer =
      st.st_mtim.tv_sec > src.st_mtim.tv_sec ||
      (st.st_mtim.tv_sec == src.st_mtim.tv_sec && st.st_mtim.tv_nsec >= src.st_mtim.tv_nsec);
  return update && newer ? Existing::kKeep : Existing::kReplace;
}

Status SameFileError(const std::string& src_display, const std::string& dst_display) {
  return Status::Message(Quote(src_display) + " and " + Quote(dst_display) + " are the same file");
}

Status SizeNewFile(const SysCalls& sys, int fd, uint64_t size, const std::vector<ByteRange>& data,
                   bool reserve, const std::string& display) {
  if (size == 0) return {};
  if (sys.ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return Status::FromErrno("cannot set the size of", display, errno);
  }
  for (size_t i = 0; reserve && i < data.size(); ++i) {
    const auto offset = static_cast<off_t>(data[i].offset),
               length = static_cast<off_t>(data[i].length);
    int rc = 0;
    while ((rc = sys.fallocate(fd, 0, offset, length)) != 0 && errno == EINTR) {
    }
    if (rc == 0) continue;
    if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) return {};
    return Status::FromErrno("cannot allocate space for", display, errno);
  }
  return {};
}

}  // namespace pcopy
