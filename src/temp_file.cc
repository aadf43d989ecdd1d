#include "temp_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "leftovers.h"

namespace pcopy {
namespace {

Status SyncDirectory(const std::string& dir) {
  UniqueFd d(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid()) return Status::FromErrno("open directory", dir, errno);
  if (fsync(d.get()) != 0) return Status::FromErrno("fsync directory", dir, errno);
  return d.Close(dir);
}

}  // namespace

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
      display_name_(std::move(other.display_name_)) {
  other.path_.clear();
}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    Discard();
    fd_ = std::move(other.fd_);
    path_ = std::move(other.path_);
    dir_ = std::move(other.dir_);
    display_name_ = std::move(other.display_name_);
    other.path_.clear();
  }
  return *this;
}

TempFile::~TempFile() { Discard(); }

void TempFile::Discard() noexcept {
  if (!path_.empty()) unlink(path_.c_str());
  path_.clear();
}

Status TempFile::Create(const std::string& dir, const std::string& display_name, TempFile* out) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string path = dir + "/" + TemporaryName();
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      // Named as cp names the file it could not create: DEST (the temporary is pcopy's affair).
      return Status::FromErrno("cannot create regular file", display_name, errno);
    }
    TempFile t;
    t.fd_ = UniqueFd(fd);
    t.path_ = std::move(path);
    t.dir_ = dir;
    t.display_name_ = display_name;
    *out = std::move(t);
    return {};
  }
  return Status::FromErrno("cannot create a temporary file for", display_name, EEXIST);
}

Status TempFile::Commit(const std::string& final_path, const CommitOptions& options,
                        bool* existed) {
  *existed = false;
  if (options.fsync && fsync(fd_.get()) != 0) {
    return Status::FromErrno("fsync", display_name_, errno);
  }
  if (fchmod(fd_.get(), options.mode) != 0) {
    return Status::FromErrno("set permissions of", display_name_, errno);
  }
  if (Status s = fd_.Close(display_name_); !s.ok()) return s;
  const unsigned flags = options.no_replace ? RENAME_NOREPLACE : 0;
  if (renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, final_path.c_str(), flags) != 0) {
    const int err = errno;
    *existed = options.no_replace && err == EEXIST;
    return Status::FromErrno("cannot rename temporary file to", display_name_, err);
  }
  path_.clear();
  if (options.fsync) return SyncDirectory(dir_);
  return {};
}

}  // namespace pcopy
