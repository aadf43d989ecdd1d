// process_pool.h: a reusable pool of forked worker processes, independent of file copying.
//
// N processes are started once. Tasks (small fixed-size records) go to the workers through a
// bounded Boost.Interprocess message_queue; each worker sends its results back to the parent
// through a pipe of its own. Submit blocks while the queue is full, SubmitFor gives up after a
// timeout; Size/Full/Empty look at the queue; Close lets the workers drain the queue and exit;
// Join reaps them all. Map runs a batch and returns its results in task order.
//
// Process contract: the parent alone submits, collects and joins; a worker only receives tasks,
// runs the handler (noexcept) and writes results, and ends with _exit. A worker that dies is
// noticed through its pipe's end of file and reaped; the task it was running (published in
// shared memory) is named in the error, and the parent is never left waiting for it.
//
// The queue's name is unique per pool (pid, counter and random bits), created exclusively with
// owner-only permissions, and unlinked as soon as it is mapped, before any worker is forked: the
// workers inherit the mapping, so no exit path (a signal or SIGKILL included) can leave the name
// in /dev/shm.
//
// Signals: with PoolConfig::signals, every wait of the parent (for a result, for room in the
// queue, for the workers to exit) is that SignalGuard's Wait, so SIGINT, SIGTERM and SIGHUP are
// taken there; the call then returns Status::Interrupted(N), as does every later call, and Join
// or the destructor kills and reaps the workers. Without a guard the parent waits in poll().
//
// Dying workers and the queue's locks: glibc's process-shared condition variables are not safe
// against a waiter that dies (a later signal can wait for it forever), so no process ever waits
// on the queue's condition variables. Workers sleep in poll() on a doorbell pipe (one byte per
// task) and take tasks with try_receive; the parent only uses try_send and waits on the result
// pipes. What remains is the queue's mutex, held for the few instructions of one
// try_receive: a worker SIGKILLed exactly there leaves it held (Boost 1.74 has no robust
// process-shared mutex), and the parent's next queue operation would block.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "os/signal_guard.h"

namespace pcopy {

struct PoolTask {
  uint64_t id = 0;  // chosen by the caller; UINT64_MAX is reserved
  uint64_t arg[4] = {};
};

struct PoolResult {
  uint64_t id = 0;      // the task's id
  int32_t error = 0;    // the handler's return value: 0 or an errno
  uint32_t worker = 0;  // which worker ran it
  uint64_t value[4] = {};
};

struct PoolConfig {
  unsigned workers = 1;
  size_t queue_capacity = 64;  // tasks waiting at most; Submit blocks beyond
  // Runs in a worker for each task; returns 0 or an errno. Must not throw.
  int (*handler)(const PoolTask& task, PoolResult* result, void* context) noexcept = nullptr;
  void* context = nullptr;          // inherited by the workers across fork()
  std::string name = "pcopy-pool";  // prefix of the queue's name and of the workers' names
  SignalGuard* signals = nullptr;   // where the parent waits; null: plain poll(), no signals
};

class ProcessPool {
 public:
  static Status Start(const PoolConfig& config, std::unique_ptr<ProcessPool>* out);
  ~ProcessPool();  // kills and reaps any worker still running
  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;

  Status Submit(const PoolTask& task);  // blocks while the queue is full
  Status SubmitFor(const PoolTask& task, std::chrono::milliseconds timeout, bool* submitted);
  size_t Size() const;  // tasks waiting in the queue
  bool Full() const;
  bool Empty() const;
  size_t capacity() const;

  // Waits up to timeout for one result; *got says whether one came. An error if a worker died.
  Status NextResult(std::chrono::milliseconds timeout, PoolResult* out, bool* got);
  // Submits every task and collects every result, ordered as tasks. Task ids must be distinct.
  // collected (may be empty) is told the count of results in after each one.
  Status Map(const std::vector<PoolTask>& tasks, std::vector<PoolResult>* results,
             const std::function<void(size_t)>& collected = {});

  Status Close();  // no more tasks: the workers finish what is queued, then exit
  Status Join();   // Close, wait for every worker, reap it; an error if one did not exit 0

  unsigned workers() const;
  pid_t worker_pid(unsigned i) const;
  const std::string& queue_name() const;  // already unlinked; for messages and tests

 private:
  struct Impl;
  explicit ProcessPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pcopy
