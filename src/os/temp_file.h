// temp_file.h: the hidden temporary that becomes DEST only when it is complete.
//
// Created in DEST's own directory (so the final rename() is atomic and never crosses a file
// system) with O_CREAT|O_EXCL and mode 0600, named ".pcopy-<host>-<pid>-<random>.tmp" so a
// leftover can be traced to its process, and locked (flock) while it lives (leftovers.h). Workers
// inherit its descriptor across fork() and write disjoint ranges. Commit() optionally fsyncs, sets
// the final mode, and renames it over DEST; until then the destructor unlinks it, so every error
// path and every handled signal leaves nothing behind. Owned by the parent only; workers never
// commit or unlink.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "os/file_identity.h"
#include "os/leftovers.h"
#include "os/sys_calls.h"

namespace pcopy {

struct CommitOptions {
  mode_t mode = 0600;
  bool fsync = false;       // data durable before the name appears; the directory synced after
  bool no_replace = false;  // fail with EEXIST rather than replace an existing DEST
};

class TempFile {
 public:
  TempFile() = default;
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  // display_name is DEST as the user wrote it, for messages. Every later call on the file
  // (commit, unlink) goes through sys, which must outlive the TempFile.
  static Status Create(const std::string& dir, const std::string& display_name, TempFile* out,
                       const SysCalls& sys = RealSysCalls());

  // A resumable copy's partial copy (leftovers.h PartialNames): dir/name created new (O_EXCL), or
  // an existing one adopted as it is (a regular file of this user; a symbolic link is refused).
  static Status CreateNamed(const std::string& dir, const std::string& name,
                            const std::string& display_name, TempFile* out,
                            const SysCalls& sys = RealSysCalls());
  static Status Adopt(const std::string& dir, const std::string& name,
                      const std::string& display_name, TempFile* out,
                      const SysCalls& sys = RealSysCalls());

  // Gives up ownership of the name: the file stays where it is (a partial copy kept to be
  // resumed) and the destructor only closes it.
  void Keep() noexcept { path_.clear(); }

  // Touches the file once per kHeartbeatSeconds in which progress (the bytes copied so far) has
  // not moved (leftovers.h: a live owner's temporary never looks idle to another host's run).
  // The owner's progress tick calls it.
  void KeepAlive(uint64_t progress);

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // The temporary's device and inode: a worker that opens path() checks it reached this file.
  const FileIdentity& identity() const { return identity_; }

  // Publishes the file as final_path. On success the temporary no longer exists under its own
  // name; on failure it is still owned here and the destructor removes it. *existed is set when
  // no_replace found DEST already there (the Status is then an EEXIST failure).
  Status Commit(const std::string& final_path, const CommitOptions& options, bool* existed);

 private:
  void Discard() noexcept;
  // Takes fd (just opened at path) as the temporary; fails if it cannot be examined.
  static Status Take(int fd, std::string path, const std::string& dir,
                     const std::string& display_name, TempFile* out, const SysCalls& sys);

  UniqueFd fd_;
  std::string path_;  // empty once committed or discarded
  std::string dir_;
  std::string display_name_;
  FileIdentity identity_;
  Heartbeat heartbeat_;
  uint64_t beat_progress_ = 0;
  const SysCalls* sys_ = &RealSysCalls();
};

// fsync of a directory, so that the names created or renamed in it are durable.
Status SyncDirectory(const SysCalls& sys, const std::string& dir);

// The directory part of a path ("." for a bare name), as dirname(1) gives it.
std::string DirName(const std::string& path);
// The last component, trailing slashes ignored, as basename(1) gives it.
std::string BaseName(const std::string& path);

}  // namespace pcopy
