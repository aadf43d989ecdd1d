// tree_worker.h: the body of one worker of a tree copy, run inside a forked child.
//
// The worker reads tasks (tree_task.h) from its channel (task_channel.h) until a kQuit task or
// the parent's end closes, and answers each with one TaskResult. A batch: each entry is copied
// whole, relative to the two directory descriptors that came with it, and published as the task
// says (under its name at once inside a new tree's hidden directory; through an O_TMPFILE or a
// hidden temporary and a link or rename otherwise), with its metadata applied before it appears.
// An entry that fails is reported with its one-line message and removed; the batch goes on. A
// chunk: one byte range between the two file descriptors that came with it, cloned
// (FICLONERANGE) where the config asks for clones, copied otherwise. Live byte counts go
// to the worker's shared slot, which the parent reads for progress. The worker ends through
// _exit (ChildProcess), never by returning into the parent's code.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "base/unique_fd.h"
#include "exec/tree_config.h"
#include "exec/tree_task.h"
#include "exec/worker_slots.h"

namespace pcopy {

// Runs tasks in the calling process, one at a time, as a worker does: the body of the forked
// worker below, and of pcopy-mpi's ranks (mpi/mpi_tree.h), which get their tasks over MPI and
// open their descriptors themselves. Progress goes to *slot (plain memory will do).
class InProcessTasks {
 public:
  InProcessTasks(const TreeWorkerConfig& config, WorkerSlot* slot);  // std::bad_alloc
  ~InProcessTasks();
  InProcessTasks(const InProcessTasks&) = delete;
  InProcessTasks& operator=(const InProcessTasks&) = delete;

  // fds: a batch's source and destination directories, or a chunk's two files.
  TaskResult Run(const Task& task, const std::vector<UniqueFd>& fds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs tasks from `channel` until told to quit; returns the exit code (0, or 1 if the channel
// failed). noexcept: an allocation failure ends the worker with a recorded exit code.
int RunTreeWorker(const TreeWorkerConfig& config, int channel, WorkerSlot* slot) noexcept;

}  // namespace pcopy
