// rank_server.h: every rank but 0 in a tree copy across ranks (mpi_tree.h): it runs the tasks
// rank 0 sends until rank 0 says the copy is over.
//
// The config comes first, with a probe file to read back (the rank shares DEST's file system, or
// says why not). Each task's descriptors are reopened by path and checked by inode
// (tree_messages.h), then run by the rank itself (exec/tree_worker.h InProcessTasks), or with -j K
// by the worker the task names (rank_workers.h). A chunk's destination is closed here, after the
// answer, so a late write error (NFS) is reported; with --fsync on another host than rank 0's it
// is synced first. A terminating signal, or a worker lost, is told to rank 0 (kTagGone), the
// workers are killed and reaped, and no task is run after it. Told to quit, the rank ends its
// workers (killed, if any task is still running) before it says goodbye, so nothing of this rank
// writes into the hidden tree after rank 0 has removed it.
#pragma once

#include "base/status.h"
#include "exec/task_pool.h"
#include "mpi/mpi_world.h"
#include "os/signal_guard.h"

namespace pcopy {

// A terminating signal gives Status::Interrupted, returned once rank 0 has said to quit.
Status ServeTreeTasks(const MpiWorld& world, SignalGuard& signals, TaskPool* workers);

}  // namespace pcopy
