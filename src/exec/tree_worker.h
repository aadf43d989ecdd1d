// tree_worker.h: the body of one worker of a tree copy, run inside a forked child.
//
// The worker reads tasks (tree_task.h) from its channel (task_channel.h) until a kQuit task or
// the parent's end closes, and answers each with one TaskResult. A batch: each entry is copied
// whole, relative to the two directory descriptors that came with it, and published as the task
// says (under its name at once inside a new tree's hidden directory; through an O_TMPFILE or a
// hidden temporary and a link or rename otherwise), with its metadata applied before it appears.
// An entry that fails is reported with its one-line message and removed; the batch goes on. A
// chunk: one byte range between the two file descriptors that came with it. Live byte counts go
// to the worker's shared slot, which the parent reads for progress. The worker ends through
// _exit (ChildProcess), never by returning into the parent's code.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "copy/io.h"
#include "exec/worker_slots.h"
#include "os/data_extents.h"
#include "os/metadata.h"
#include "os/sys_calls.h"

namespace pcopy {

struct TreeWorkerConfig {
  const SysCalls* sys = nullptr;
  Method method = Method::kPread;  // resolved: never kAuto
  uint64_t buffer_size = 0;
  PreserveSet preserve;
  MetadataEnv env;  // the parent's umask and privilege, found before fork
  bool follow_links = false;  // -L: the walk follows every symlink (TaskItem::follow says which)
  bool no_clobber = false;    // -n: an existing destination entry is left alone
  bool update = false;        // -u: ... unless it is older than the source
  bool fsync = false;         // each file's data durable before it is published
  uint64_t bwlimit = 0;       // bytes per second for each worker; 0 = unlimited
  SparseMode sparse = SparseMode::kAuto;  // holes of a sparse file stay holes (data_extents.h)
  bool clone = false;           // try FICLONE first (--reflink=auto where it can work, always)
  bool clone_required = false;  // --reflink=always: a declined clone is an error
};

// Runs tasks from `channel` until told to quit; returns the exit code (0, or 1 if the channel
// failed). noexcept: an allocation failure ends the worker with a recorded exit code.
int RunTreeWorker(const TreeWorkerConfig& config, int channel, WorkerSlot* slot) noexcept;

}  // namespace pcopy
