#include "os/temp_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "os/leftovers.h"

namespace pcopy {

Status SyncDirectory(const SysCalls& sys, const std::string& dir) {
  UniqueFd d(sys.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid()) return Status::FromErrno("open directory", dir, errno);
  if (sys.fsync(d.get()) != 0) return Status::FromErrno("fsync directory", dir, errno);
  if (sys.close(d.release()) != 0) return Status::FromErrno("close", dir, errno);
  return {};
}

std::string DirName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  p.resize(slash);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  return slash == std::string::npos || p == "/" ? p : p.substr(slash + 1);
}

TempFile::TempFile(TempFile&& other) noexcept
    : fd_(std::move(other.fd_)),
      path_(std::move(other.path_)),
      dir_(std::move(other.dir_)),
      display_name_(std::move(other.display_name_)),
      identity_(other.identity_),
      heartbeat_(other.heartbeat_),
      beat_progress_(other.beat_progress_),
      sys_(other.sys_) {
  other.path_.clear();
}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    Discard();
    fd_ = std::move(other.fd_);
    path_ = std::move(other.path_);
    dir_ = std::move(other.dir_);
    display_name_ = std::move(other.display_name_);
    identity_ = other.identity_;
    heartbeat_ = other.heartbeat_;
    beat_progress_ = other.beat_progress_;
    sys_ = other.sys_;
    other.path_.clear();
  }
  return *this;
}

TempFile::~TempFile() { Discard(); }

void TempFile::Discard() noexcept {
  if (!path_.empty()) sys_->unlinkat(AT_FDCWD, path_.c_str(), 0);
  path_.clear();
}

Status TempFile::Take(int fd, std::string path, const std::string& dir,
                      const std::string& display_name, TempFile* out, const SysCalls& sys) {
  TempFile t;
  t.sys_ = &sys;
  t.fd_ = UniqueFd(fd);
  t.path_ = std::move(path);
  struct stat st;
  if (sys.fstat(fd, &st) != 0) {
    return Status::FromErrno("cannot create a temporary file for", display_name, errno);
  }
  t.identity_ = IdentityOf(st);
  t.dir_ = dir;
  t.display_name_ = display_name;
  *out = std::move(t);
  return {};
}

Status TempFile::Create(const std::string& dir, const std::string& display_name, TempFile* out,
                        const SysCalls& sys) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string path = dir + "/" + TemporaryName();
    int fd = sys.open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      // Named as cp names the file it could not create: DEST (the temporary is pcopy's affair).
      return Status::FromErrno("cannot create regular file", display_name, errno);
    }
    LockTemporary(sys, fd);
    return Take(fd, std::move(path), dir, display_name, out, sys);
  }
  return Status::FromErrno("cannot create a temporary file for", display_name, EEXIST);
}

Status TempFile::CreateNamed(const std::string& dir, const std::string& name,
                             const std::string& display_name, TempFile* out, const SysCalls& sys) {
  std::string path = dir + "/" + name;
  const int fd = sys.open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno("cannot create regular file", display_name, errno);
  return Take(fd, std::move(path), dir, display_name, out, sys);
}

Status TempFile::Adopt(const std::string& dir, const std::string& name,
                       const std::string& display_name, TempFile* out, const SysCalls& sys) {
  std::string path = dir + "/" + name;
  const int fd = sys.open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("cannot open the partial copy", path, errno);
  struct stat st;
  if (sys.fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    sys.close(fd);
    return Status::Message("cannot resume into " + Quote(path) +
                           ": not a regular file of this user");
  }
  return Take(fd, std::move(path), dir, display_name, out, sys);
}

void TempFile::KeepAlive(uint64_t progress) {
  if (!fd_.valid() || path_.empty() || !heartbeat_.Due()) return;
  // Bytes written since the last beat have moved its times already; a touch would only cost an
  // NFS client the flush of its dirty pages that every SETATTR of a file's times makes first.
  if (progress != beat_progress_) {
    beat_progress_ = progress;
    return;
  }
  (void)sys_->futimens(fd_.get(), nullptr);
}

Status TempFile::Commit(const std::string& final_path, const CommitOptions& options,
                        bool* existed) {
  *existed = false;
  if (options.fsync && sys_->fsync(fd_.get()) != 0) {
    return Status::FromErrno("fsync", display_name_, errno);
  }
  if (sys_->fchmod(fd_.get(), options.mode) != 0) {
    return Status::FromErrno("set permissions of", display_name_, errno);
  }
  // Linux releases the descriptor even when close() fails (EINTR included): never retry. A
  // failed close of a written file (NFS, a full disk) means its data may not be there. The lock
  // (leftovers.h) stays with a second descriptor until the rename: between the close (on NFS, a
  // flush of every dirty page) and the rename, another host's run must not take a temporary that
  // a long --verify left untouched for an hour, which leftovers.h would call idle.
  const UniqueFd lock(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (sys_->close(fd_.release()) != 0) return Status::FromErrno("close", display_name_, errno);
  const unsigned flags = options.no_replace ? RENAME_NOREPLACE : 0;
  if (sys_->renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, final_path.c_str(), flags) != 0) {
    const int err = errno;
    *existed = options.no_replace && err == EEXIST;
    return Status::FromErrno("cannot rename temporary file to", display_name_, err);
  }
  path_.clear();
  if (options.fsync) return SyncDirectory(*sys_, dir_);
  return {};
}

}  // namespace pcopy
