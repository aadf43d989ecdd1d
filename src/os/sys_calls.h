// sys_calls.h: the one seam between pcopy and the kernel, as leveldb's Env is for leveldb.
//
// Every system call of a copy that can fail in a way a user must hear about goes through a
// SysCalls: reading and writing, the kernel copy paths, opening, sizing, allocating, syncing,
// publishing with rename, the descriptor work around them, and what a tree copy preserves and
// creates (owners, modes, times, extended attributes; symlinks, FIFOs, device nodes). The default
// implementation calls the kernel; a test derives from it and overrides one call to inject EINTR,
// a short count, ENOSPC at commit or EIO at fsync in-process, with no tracer.
//
// Process contract: a SysCalls is a stateless (or test-owned) object; forked workers use the
// parent's object through the inherited memory, so a fake installed before fork() also runs in
// the workers. Every method returns what the system call returns and leaves errno as it set it.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include <cstdint>

namespace pcopy {

class SysCalls {
 public:
  virtual ~SysCalls() = default;

  // Data.
  virtual ssize_t pread(int fd, void* buf, size_t count, off_t offset) const;
  virtual ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const;
  virtual ssize_t copy_file_range(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len,
                                  unsigned flags) const;
  virtual ssize_t sendfile(int out_fd, int in_fd, off_t* offset, size_t count) const;
  virtual void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) const;
  virtual int munmap(void* addr, size_t length) const;
  virtual off_t lseek(int fd, off_t offset, int whence) const;

  // Descriptors and metadata.
  virtual int openat(int dirfd, const char* path, int flags, mode_t mode) const;
  int open(const char* path, int flags, mode_t mode = 0) const {
    return openat(AT_FDCWD, path, flags, mode);
  }
  virtual int close(int fd) const;
  virtual int fcntl(int fd, int cmd, int arg) const;
  virtual int fstat(int fd, struct stat* st) const;
  virtual int fstatat(int dirfd, const char* path, struct stat* st, int flags) const;
  virtual int fstatfs(int fd, struct statfs* st) const;
  virtual int statfs(const char* path, struct statfs* st) const;
  virtual int statvfs(const char* path, struct statvfs* st) const;
  virtual int ioctl(int fd, unsigned long request, void* arg) const;
  virtual int ftruncate(int fd, off_t length) const;
  virtual int fallocate(int fd, int mode, off_t offset, off_t length) const;
  virtual int fsync(int fd) const;
  virtual int fdatasync(int fd) const;
  virtual int flock(int fd, int operation) const;
  virtual int sync_file_range(int fd, off_t offset, off_t length, unsigned flags) const;
  // Returns the error number (0 on success), as posix_fadvise(3) does; errno is untouched.
  virtual int posix_fadvise(int fd, off_t offset, off_t length, int advice) const;
  // cachestat(2) (Linux 6.5): how many of [offset, offset + length) of fd's pages are in the
  // page cache; *cached gets that count in pages. -1 with errno (ENOSYS on older kernels).
  virtual int cachestat_pages(int fd, uint64_t offset, uint64_t length, uint64_t* cached) const;
  virtual int mincore(void* addr, size_t length, unsigned char* vec) const;
  virtual int fchmod(int fd, mode_t mode) const;
  virtual int fchown(int fd, uid_t owner, gid_t group) const;
  virtual int futimens(int fd, const struct timespec times[2]) const;
  virtual int utimensat(int dirfd, const char* path, const struct timespec times[2],
                        int flags) const;
  virtual int fchownat(int dirfd, const char* path, uid_t owner, gid_t group, int flags) const;
  // glibc does AT_SYMLINK_NOFOLLOW through /proc for files that are not symlinks; on a symlink it
  // fails with EOPNOTSUPP (Linux has no symlink modes), so the metadata code never asks.
  virtual int fchmodat(int dirfd, const char* path, mode_t mode, int flags) const;

  // Extended attributes (POSIX ACLs among them, as system.posix_acl_*). The l* calls take a path
  // and do not follow a symlink at its end; metadata.cc reaches a name in a directory through
  // /proc/self/fd/<dirfd>/<name>, so no path is ever longer than a name.
  virtual ssize_t fgetxattr(int fd, const char* name, void* value, size_t size) const;
  virtual int fsetxattr(int fd, const char* name, const void* value, size_t size, int flags) const;
  virtual ssize_t flistxattr(int fd, char* list, size_t size) const;
  virtual ssize_t lgetxattr(const char* path, const char* name, void* value, size_t size) const;
  virtual int lsetxattr(const char* path, const char* name, const void* value, size_t size,
                        int flags) const;
  virtual ssize_t llistxattr(const char* path, char* list, size_t size) const;

  // Names.
  virtual int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                        unsigned flags) const;
  virtual int linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                     int flags) const;
  virtual int unlinkat(int dirfd, const char* path, int flags) const;
  virtual int mkdirat(int dirfd, const char* path, mode_t mode) const;
  virtual int mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) const;
  virtual int mkfifoat(int dirfd, const char* path, mode_t mode) const;
  virtual int symlinkat(const char* target, int newdirfd, const char* linkpath) const;
  virtual ssize_t readlinkat(int dirfd, const char* path, char* buf, size_t size) const;
};

// The kernel itself.
const SysCalls& RealSysCalls();

}  // namespace pcopy
