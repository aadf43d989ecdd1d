// stepped_sync.h: fdatasync of a large file in steps, so that a signal can cut it short.
//
// fdatasync of a file with a gigabyte of dirty pages blocks for seconds, and a blocked system call
// takes no signal. SyncInSteps writes the dirty pages of [0, size) out and waits for them one
// step at a time (sync_file_range with WAIT_BEFORE | WRITE | WAIT_AFTER), takes the guard's
// pending signals between steps, and ends with fdatasync, which then has little left to do (the
// metadata, the device's cache). Every call goes through the SysCalls seam.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "os/phase.h"
#include "os/signal_guard.h"
#include "os/sys_calls.h"

namespace pcopy {

// One step: written in ~0.1 s at 600 MB/s, so a signal waits less than that.
inline constexpr uint64_t kSyncStep = uint64_t{64} << 20;

// sync_file_range refused as such (ENOSYS, EINVAL, EOPNOTSUPP, ESPIPE: a file system or kernel
// without it), not an I/O error: an fdatasync then does all the work.
bool IsSyncRangeUnsupported(int err);

// Syncs fd's data (name is for messages). Returns Status::Interrupted(N) as soon as signals (may
// be null) has a terminating signal between two steps; a failure of a step or of the final
// fdatasync is "fdatasync '<name>': <error>". A file system that has no sync_file_range gets the
// fdatasync alone.
// Each step is told to phases (may be null) as "syncing", the last after the fdatasync.
Status SyncInSteps(const SysCalls& sys, int fd, const std::string& name, uint64_t size,
                   SignalGuard* signals, PhaseObserver* phases = nullptr);

}  // namespace pcopy
