// task_pool.h: the forked workers of a tree copy, started once, each fed through its own channel.
//
// The parent decides which worker gets which task (Send) and keeps every task until its answer
// comes back (Wait), with the descriptors that travel with it. That record is what makes a dead
// worker harmless: a worker that dies (killed, out of memory) is replaced, at most `retries` times
// in all, and the replacement is sent the dead worker's unanswered tasks again; every task is
// idempotent (a batch entry is rewritten from the start, a chunk is the same bytes at the same
// offsets). Wait is the parent's one wait point (SignalGuard::Wait over every channel), so a
// SIGINT, SIGTERM or SIGHUP ends it at once. The destructor kills and reaps every worker.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "exec/executor.h"
#include "exec/task_runner.h"
#include "exec/tree_task.h"
#include "exec/tree_worker.h"
#include "exec/worker_slots.h"
#include "os/child_process.h"
#include "os/signal_guard.h"

namespace pcopy {

class TaskPool final : public TaskRunner {
 public:
  explicit TaskPool(unsigned retries) : retries_(retries) {}
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;
  ~TaskPool() override { Kill(); }

  // What a forked worker is started with.
  struct Context {
    const TreeWorkerConfig* config;  // null: prestarted, the config is the first message
    int channel;
    WorkerSlot* slot;
  };

  // Forks `workers` workers that wait for their config: a process that must not fork later
  // (an MPI rank: fork after MPI_Init is unsafe with some transports) starts its workers first.
  // Start then sends the config to these workers and starts no others, and a worker that dies is
  // not replaced (that would fork): it fails the copy.
  Status Prestart(size_t workers);
  // Starts `workers` workers told config, or sends config to the prestarted ones.
  Status Start(const TreeWorkerConfig& config, size_t workers) override;
  size_t size() const override { return workers_.size(); }
  size_t in_flight(size_t w) const override { return workers_[w].in_flight.size(); }
  Status Send(size_t w, Task task) override;
  // A worker lost beyond the retries, or a channel that breaks, sets *failure.
  int Wait(SignalGuard& signals, std::chrono::milliseconds timeout,
           std::vector<TaskCompletion>* done, Status* failure) override;
  // Live, from the shared slots.
  std::vector<uint64_t> WorkerBytes() const override;
  std::vector<WriteSizeReport> WriteSizes() const override;
  uint32_t UsedMethods() const override;
  std::string CurrentFile(size_t w) const override;
  // Each with the new pid.
  const std::vector<std::string>& retried() const override { return retried_; }
  // Finish also reaps the workers; Kill kills and reaps them.
  void Finish() override;
  void Kill() override;

 private:
  struct Worker {
    ChildProcess process;
    UniqueFd channel;  // the parent's end
    std::deque<Task> in_flight;
  };
  Status SpawnAll(size_t workers);
  Status Spawn(size_t w);
  Status SendNow(size_t w, const Task& task);
  // Reads every answer waiting on worker w's channel; false when the worker has gone.
  bool Drain(size_t w, std::vector<TaskCompletion>* done, Status* failure);
  Status Replace(size_t w);

  TreeWorkerConfig config_;
  bool prestarted_ = false;
  bool configured_ = false;  // prestarted workers sent their config
  unsigned retries_;
  unsigned retries_used_ = 0;
  WorkerSlots slots_;
  std::vector<Worker> workers_;
  std::vector<Context> contexts_;
  std::vector<std::string> retried_;
  pid_t pgid_ = 0;
  std::vector<char> buffer_;
};

}  // namespace pcopy
