// new_file.h: one regular file of a tree copy from creation to publication, so that it appears
// whole or not at all.
//
// kInPlace: created under its own name (the directory is inside a new tree's hidden directory,
// which nobody sees until the whole tree is renamed into place). kViaTemporary: created unnamed
// with O_TMPFILE and linked onto its name when complete (nothing to clean up after a crash), or,
// where the file system has no O_TMPFILE, as a hidden temporary (leftovers.h) renamed onto it. A
// name already taken is replaced atomically (link under a hidden name, rename over), or kept with
// -n. Used by tree workers for whole files and by the parent for files it splits into chunks.
// Owns its descriptor; Discard (or the destructor's caller) removes what was created.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/byte_range.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "os/sys_calls.h"

namespace pcopy {

// kViaNamedTemporary: as kViaTemporary, always through a hidden temporary, which processes that
// did not create it can open by name (pcopy-mpi's ranks on other machines).
enum class Placement { kInPlace, kViaTemporary, kViaNamedTemporary };

enum class Published { kYes, kKeptExisting, kFailed };

class NewFile {
 public:
  // Creates the file for dir_fd/name with mode (less the umask, as open(2) applies it: 0600
  // until metadata is applied, or the final mode when none will be). display names it in
  // messages (cp's "cannot create regular file 'x': ...").
  Status Create(const SysCalls& sys, int dir_fd, const std::string& name, Placement placement,
                mode_t mode, const std::string& display);
  // --resume: takes over dir_fd/name, a file an earlier run was writing in place, as Create with
  // kInPlace would have made it, without truncating it; *st is what it is.
  Status Adopt(const SysCalls& sys, int dir_fd, const std::string& name, const std::string& display,
               struct stat* st);
  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }

  // Makes the finished file visible under its name, then closes it (close reports a failed
  // write on NFS). no_clobber: a name taken meanwhile is kept (kKeptExisting).
  Published Publish(bool no_clobber, Status* error);

  // Removes whatever Create made and Publish did not publish. Safe to call twice.
  void Discard();

 private:
  int LinkUnnamed(const char* name) const;
  Status CloseFile();

  const SysCalls* sys_ = nullptr;
  int dir_ = -1;
  std::string name_;
  std::string display_;
  Placement placement_ = Placement::kInPlace;
  UniqueFd fd_;
  std::string temp_name_;  // a hidden temporary's name while one exists
  bool unnamed_ = false;   // O_TMPFILE: nothing to remove
  bool published_ = false;
  bool created_in_place_ = false;  // kInPlace and created: Discard unlinks the name
};

// What is at dir_fd/name already, for a copy of src there: nothing; something to replace; an
// entry -n or -u keeps (no_clobber: whatever exists; update: unless it is older than src, by
// mtime to the nanosecond, as cp -u compares); or src itself (a hard link, a bind mount), which
// cp refuses as "'a' and 'b' are the same file".
enum class Existing { kAbsent, kReplace, kKeep, kSameFile };
Existing CheckExisting(const SysCalls& sys, int dir_fd, const char* name, const struct stat& src,
                       bool no_clobber, bool update);

// "'a' and 'b' are the same file", as cp says it.
Status SameFileError(const std::string& src_display, const std::string& dst_display);

// Sizes a new file: the file system sees the final size once, and a reader sees the real length;
// what is not written stays a hole. Then, if `reserve`, allocates the blocks of the data to come
// (`data`: SOURCE's data extents, so its holes are never allocated), as mold does its output
// file: a file system that cannot hold the copy says so now, before any worker starts, rather
// than in a worker halfway through. One that cannot preallocate (EOPNOTSUPP, ENOSYS, EINVAL) is
// simply written. It costs nothing measurable on ext4: 1 GiB, -j 2, ten runs each way
// interleaved, medians 0.29-0.45 s with it and 0.46-1.28 s without (the virtual machine's stalls
// dominate both).
Status SizeNewFile(const SysCalls& sys, int fd, uint64_t size, const std::vector<ByteRange>& data,
                   bool reserve, const std::string& display);

}  // namespace pcopy
