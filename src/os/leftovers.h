// leftovers.h: the names pcopy gives its temporaries, and the removal of those that a pcopy
// killed outright (SIGKILL, a power cut of the process, the OOM killer) could not remove itself.
//
// A temporary is ".pcopy-<host>-<pid>-<12 hex digits>.tmp" in DEST's directory: a file, or a tree
// copy's hidden tree. Its owner holds flock(LOCK_EX) on it until it is renamed or removed, and
// while it copies touches it every kHeartbeatSeconds when nothing else has (Heartbeat): its
// hidden tree's own times do not move with writes deeper in it. Before creating its own, pcopy
// removes the temporaries (regular files or directories of the same user, a directory whole)
// whose owner is gone and whose lock is free:
//   - this host's, once their process no longer exists;
//   - another host's (a directory shared over NFS or Lustre, where a job on other nodes died),
//     whose pid means nothing here, once idle (ctime) IdleLifetime(). The lock alone would not
//     do: some mounts keep flock local to a node (NFS local_lock=flock, Lustre localflock), and
//     NFS has none for directories. The hour dwarfs the heartbeat and the clock skew a cluster
//     tolerates (Slurm's credentials fail beyond 5 minutes). A phase that writes nothing for an
//     hour (verifying a file of terabytes) on such a mount can lose its temporary: the copy
//     then fails, DEST untouched.
// A held lock keeps a temporary whatever its name says (a container with this host's name).
// Runs in the parent (rank 0) only, before it creates its own temporary.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "os/sys_calls.h"

namespace pcopy {

struct TemporaryOwner {
  std::string host;
  pid_t pid = 0;
};

// A new name for this process's temporary.
std::string TemporaryName();

// True if name has the form above; *owner says whose it is.
bool ParseTemporaryName(std::string_view name, TemporaryOwner* owner);

// This host's name as it appears in temporary names: [A-Za-z0-9._] only, at most 64 bytes.
std::string HostForNames();

inline constexpr long kIdleLifetime = 3600;  // seconds: another host's temporary, unlocked
inline constexpr long kHeartbeatSeconds = 60;

// kIdleLifetime, or the whole seconds in the environment's PCOPY_IDLE_LIFETIME (a site whose
// nodes' clocks agree closely and whose jobs never pause long may want less).
long IdleLifetime();

// The owner's clock for touching its temporary: Due() is true once `every` has passed since it
// was last true (or since construction).
class Heartbeat {
 public:
  explicit Heartbeat(
      std::chrono::steady_clock::duration every = std::chrono::seconds(kHeartbeatSeconds))
      : every_(every) {}
  bool Due();

 private:
  std::chrono::steady_clock::duration every_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// The owner's lock on its new temporary (fd open on it; read-write for a file, since NFS takes
// flock as a POSIX write lock). Where the file system refuses it, the idle time guards alone.
void LockTemporary(const SysCalls& sys, int fd);

// A resumable copy's partial copy and its journal (exec/resume_journal.h) have names of their
// own, the same in every run of that copy, so the next run finds them: ".pcopy-partial-<16 hex
// digits>.data" and ".journal", the digits a hash of DEST's last component (the journal holds the
// name itself, so a collision is only ever a journal of another copy). They are kept across
// runs, and are not leftovers in the sense above, until they are kPartialLifetime old (the
// journal's mtime: each record touches it) and their lock is free.
// A tree copy resumed (--resume) builds its new tree in a hidden directory named the same way,
// ".pcopy-partial-<16 hex digits>.tree", kept when it is interrupted and locked (flock on the
// directory) while a run fills it; kept and removed by age as a partial copy is, by its mtime,
// which each run that resumes it touches.
struct PartialNames {
  std::string data;
  std::string journal;
  std::string tree;
};
PartialNames PartialNamesFor(std::string_view dest_name);
inline constexpr long kPartialLifetime = 7 * 24 * 3600;  // seconds

// Removes dir's leftovers (see above), and partial copies past kPartialLifetime; returns the names
// removed. Errors are ignored: a leftover
// that cannot be removed is no reason to refuse a copy.
std::vector<std::string> RemoveLeftovers(const std::string& dir,
                                         const SysCalls& sys = RealSysCalls());

// RemoveLeftovers, each name removed said on verbose (-v; null: nothing said).
void RemoveLeftoversSaying(const std::string& dir, FILE* verbose,
                           const SysCalls& sys = RealSysCalls());

}  // namespace pcopy
