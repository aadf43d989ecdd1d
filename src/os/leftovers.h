// leftovers.h: the names pcopy gives its temporaries, and the removal of those that a pcopy
// killed outright (SIGKILL, a power cut of the process, the OOM killer) could not remove itself.
//
// A temporary is ".pcopy-<host>-<pid>-<12 hex digits>.tmp" in DEST's directory. Before creating
// its own, pcopy removes the ones that this host's processes left behind and whose process no
// longer exists, if they are regular files or directories (a tree copy's hidden tree, removed
// whole) owned by the same user. Another host's temporaries
// (a shared NFS directory) are never touched, since their pid means nothing here. Runs in the
// parent only, before any worker exists.
#pragma once

#include <sys/types.h>

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

}  // namespace pcopy
