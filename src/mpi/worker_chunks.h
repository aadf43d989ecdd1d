// worker_chunks.h: one rank's part of a file copy (mpi_copy.h) done by the rank's -j workers
// (rank_workers.h) rather than by the rank itself.
//
// The rank takes units for each worker (the worker's own part of a static plan, or the next of
// the job's shared cursor),
// hands each to a worker as a chunk task with the rank's two descriptors (exec/tree_task.h, the
// task pcopy's tree copy sends for a large file's chunk), and keeps every worker busy: two tasks
// in flight for a static plan, one for the shared cursor (a unit taken is a unit no faster rank
// can take). Between answers it reports the workers' live bytes and learns whether to stop.
// Success is every unit taken and answered; on any other end the workers are killed and reaped
// before the call returns, so none writes after the rank has said it is done.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "exec/task_pool.h"
#include "exec/tree_config.h"
#include "os/signal_guard.h"
#include "plan/work_list.h"

namespace pcopy {

struct ChunkFeed {
  const WorkList* list = nullptr;
  // The index of the next unit for worker w; list->units.size() or more when it has none left.
  std::function<size_t(size_t w)> next;
  bool shared = false;  // next() takes from a cursor other ranks share
  // Called with each unit copied; an error stops the copy. May be empty.
  std::function<Status(size_t unit)> finished;
  int src_fd = -1, dst_fd = -1;
  std::string src_display, dst_display;
};

// Starts the prestarted pool with config, copies what feed hands out, and ends the workers.
// progress(bytes) is called with the workers' bytes so far, at least every `tick`; it returns
// true to stop (another rank failed), and then *stopped is set and the result is ok.
Status CopyChunksOnWorkers(TaskPool& pool, const TreeWorkerConfig& config, const ChunkFeed& feed,
                           SignalGuard& signals, std::chrono::milliseconds tick,
                           const std::function<bool(uint64_t)>& progress, bool* stopped);

}  // namespace pcopy
