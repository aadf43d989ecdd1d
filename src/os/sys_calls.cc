#include "os/sys_calls.h"

#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace pcopy {

ssize_t SysCalls::pread(int fd, void* buf, size_t count, off_t offset) const {
  return ::pread(fd, buf, count, offset);
}
ssize_t SysCalls::pwrite(int fd, const void* buf, size_t count, off_t offset) const {
  return ::pwrite(fd, buf, count, offset);
}
ssize_t SysCalls::copy_file_range(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len,
                                  unsigned flags) const {
  return ::copy_file_range(fd_in, off_in, fd_out, off_out, len, flags);
}
ssize_t SysCalls::sendfile(int out_fd, int in_fd, off_t* offset, size_t count) const {
  return ::sendfile(out_fd, in_fd, offset, count);
}
void* SysCalls::mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) const {
  return ::mmap(addr, length, prot, flags, fd, offset);
}
int SysCalls::munmap(void* addr, size_t length) const { return ::munmap(addr, length); }
off_t SysCalls::lseek(int fd, off_t offset, int whence) const {
  return ::lseek(fd, offset, whence);
}
int SysCalls::openat(int dirfd, const char* path, int flags, mode_t mode) const {
  return ::openat(dirfd, path, flags, mode);
}
int SysCalls::close(int fd) const { return ::close(fd); }
int SysCalls::fcntl(int fd, int cmd, int arg) const { return ::fcntl(fd, cmd, arg); }
int SysCalls::fstat(int fd, struct stat* st) const { return ::fstat(fd, st); }
int SysCalls::fstatat(int dirfd, const char* path, struct stat* st, int flags) const {
  return ::fstatat(dirfd, path, st, flags);
}
int SysCalls::fstatfs(int fd, struct statfs* st) const { return ::fstatfs(fd, st); }
int SysCalls::statfs(const char* path, struct statfs* st) const { return ::statfs(path, st); }
int SysCalls::statvfs(const char* path, struct statvfs* st) const { return ::statvfs(path, st); }
int SysCalls::ioctl(int fd, unsigned long request, void* arg) const {
  return ::ioctl(fd, request, arg);
}
int SysCalls::ftruncate(int fd, off_t length) const { return ::ftruncate(fd, length); }
int SysCalls::fallocate(int fd, int mode, off_t offset, off_t length) const {
  return ::fallocate(fd, mode, offset, length);
}
int SysCalls::fsync(int fd) const { return ::fsync(fd); }
int SysCalls::fdatasync(int fd) const { return ::fdatasync(fd); }
int SysCalls::flock(int fd, int operation) const { return ::flock(fd, operation); }
int SysCalls::sync_file_range(int fd, off_t offset, off_t length, unsigned flags) const {
  return ::sync_file_range(fd, offset, length, flags);
}
int SysCalls::posix_fadvise(int fd, off_t offset, off_t length, int advice) const {
  return ::posix_fadvise(fd, offset, length, advice);
}
int SysCalls::cachestat_pages(int fd, uint64_t offset, uint64_t length, uint64_t* cached) const {
  // The kernel's struct cachestat_range and struct cachestat (include/uapi/linux/mman.h), which
  // Debian 12's headers predate.
  struct {
    uint64_t off, len;
  } range = {offset, length};
  struct {
    uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } stat = {};
  constexpr long kCachestat = 451;  // the same number on every architecture
  const long r = ::syscall(kCachestat, fd, &range, &stat, 0);
  if (r != 0) return -1;
  *cached = stat.cache;
  return 0;
}
int SysCalls::mincore(void* addr, size_t length, unsigned char* vec) const {
  return ::mincore(addr, length, vec);
}
int SysCalls::fchmod(int fd, mode_t mode) const { return ::fchmod(fd, mode); }
int SysCalls::fchown(int fd, uid_t owner, gid_t group) const { return ::fchown(fd, owner, group); }
int SysCalls::futimens(int fd, const struct timespec times[2]) const {
  return ::futimens(fd, times);
}
int SysCalls::utimensat(int dirfd, const char* path, const struct timespec times[2],
                        int flags) const {
  return ::utimensat(dirfd, path, times, flags);
}
int SysCalls::fchownat(int dirfd, const char* path, uid_t owner, gid_t group, int flags) const {
  return ::fchownat(dirfd, path, owner, group, flags);
}
int SysCalls::fchmodat(int dirfd, const char* path, mode_t mode, int flags) const {
  return ::fchmodat(dirfd, path, mode, flags);
}
ssize_t SysCalls::fgetxattr(int fd, const char* name, void* value, size_t size) const {
  return ::fgetxattr(fd, name, value, size);
}
int SysCalls::fsetxattr(int fd, const char* name, const void* value, size_t size, int flags) const {
  return ::fsetxattr(fd, name, value, size, flags);
}
ssize_t SysCalls::flistxattr(int fd, char* list, size_t size) const {
  return ::flistxattr(fd, list, size);
}
ssize_t SysCalls::lgetxattr(const char* path, const char* name, void* value, size_t size) const {
  return ::lgetxattr(path, name, value, size);
}
int SysCalls::lsetxattr(const char* path, const char* name, const void* value, size_t size,
                        int flags) const {
  return ::lsetxattr(path, name, value, size, flags);
}
ssize_t SysCalls::llistxattr(const char* path, char* list, size_t size) const {
  return ::llistxattr(path, list, size);
}
int SysCalls::renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                        unsigned flags) const {
  return ::renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}
int SysCalls::linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                     int flags) const {
  return ::linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}
int SysCalls::unlinkat(int dirfd, const char* path, int flags) const {
  return ::unlinkat(dirfd, path, flags);
}
int SysCalls::mkdirat(int dirfd, const char* path, mode_t mode) const {
  return ::mkdirat(dirfd, path, mode);
}
int SysCalls::mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) const {
  return ::mknodat(dirfd, path, mode, dev);
}
int SysCalls::mkfifoat(int dirfd, const char* path, mode_t mode) const {
  return ::mkfifoat(dirfd, path, mode);
}
int SysCalls::symlinkat(const char* target, int newdirfd, const char* linkpath) const {
  return ::symlinkat(target, newdirfd, linkpath);
}
ssize_t SysCalls::readlinkat(int dirfd, const char* path, char* buf, size_t size) const {
  return ::readlinkat(dirfd, path, buf, size);
}

const SysCalls& RealSysCalls() {
  static const SysCalls real;
  return real;
}

}  // namespace pcopy
