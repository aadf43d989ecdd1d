// task_runner.h: the workers a tree copy hands its tasks to, as the tree walk sees them
// (tree/tree_run.h): pcopy's forked workers (task_pool.h) or pcopy-mpi's ranks (mpi/mpi_tree.h).
//
// The caller decides which worker gets which task (Send) and is answered through Wait, its one
// wait point, which takes SignalGuard's signals. A runner keeps every task until it is answered.
// Tasks are idempotent (tree_task.h), so a runner may send a dead worker's tasks again.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"
#include "exec/executor.h"
#include "exec/tree_config.h"
#include "exec/tree_task.h"
#include "os/signal_guard.h"

namespace pcopy {

struct TaskCompletion {
  Task task;
  TaskResult result;
};

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;

  // Starts up to `workers` workers, each told config (a runner whose workers already exist may
  // start another number: size() says how many there are).
  virtual Status Start(const TreeWorkerConfig& config, size_t workers) = 0;
  virtual size_t size() const = 0;
  virtual size_t in_flight(size_t w) const = 0;
  size_t total_in_flight() const {
    size_t n = 0;
    for (size_t w = 0; w < size(); ++w) n += in_flight(w);
    return n;
  }

  // Hands task to worker w and keeps it until its answer arrives.
  virtual Status Send(size_t w, Task task) = 0;

  // Waits up to timeout for answers, a worker's end or a signal. Answered tasks are appended to
  // *done. Returns the terminating signal that arrived, or 0. A worker lost for good sets
  // *failure.
  virtual int Wait(SignalGuard& signals, std::chrono::milliseconds timeout,
                   std::vector<TaskCompletion>* done, Status* failure) = 0;

  // The bytes each worker has written so far.
  virtual std::vector<uint64_t> WorkerBytes() const = 0;
  // What each worker's write size tuner did (exec/chunk_tuning.h), for those that tuned.
  virtual std::vector<WriteSizeReport> WriteSizes() const = 0;
  // MethodBit of each method that moved bytes in any worker, and kClonedBit where clones did
  // (exec/worker_slots.h); 0 where the runner cannot tell (pcopy-mpi's ranks).
  virtual uint32_t UsedMethods() const { return 0; }
  // The file worker w copies now, as the user would name it; "" when it is idle.
  virtual std::string CurrentFile(size_t w) const = 0;
  // One line per worker replaced: who, how it ended, its successor.
  virtual const std::vector<std::string>& retried() const = 0;

  // Tells every worker to quit; call when nothing is in flight.
  virtual void Finish() = 0;
  // Stops every worker now.
  virtual void Kill() = 0;
};

}  // namespace pcopy
