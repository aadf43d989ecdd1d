// worker.h: the body of one copy worker, run inside a forked child, or in the parent itself
// (InProcessExecutor, and tests).
//
// RunWorker takes units from the WorkList (its own run of them for a static list, any free one
// for a shared list), claims each in the ledger, copies it, marks it done, and reports through
// its shared slot: bytes as they land, then kDone, or kFailed with an IoError record. It uses
// the descriptors its executor opened (inherited across fork()). It is noexcept,
// allocates only its buffer (and nothing on an error path), writes nothing the parent owns
// except its slot and the ledger entries it claims; the caller (ChildProcess) ends the process
// with _exit(RunWorker(...)).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "copy/io.h"
#include "copy/pacer.h"
#include "exec/executor.h"
#include "exec/worker_slots.h"
#include "plan/work_list.h"

namespace pcopy {

inline constexpr int kWorkerOk = 0;
inline constexpr int kWorkerFailed = 1;  // the slot holds the error

// The descriptors of one file of the run, as the executor opened them.
struct FileFds {
  int src = -1;
  int dst = -1;
};

// What a worker run in the parent (InProcessExecutor) asks of its host, which must keep taking
// signals and drawing progress while it copies; a forked worker has none. The pacer's sleeps
// (--bwlimit, --slow-worker) go to the host's Sleep. Called from the noexcept worker body, so
// none of them may throw.
class WorkerHost : public PacerSleeper {
 public:
  // Asked before each unit: true once the run must stop (a terminating signal was taken). The
  // worker then takes no more units and returns as if it had run out of them.
  virtual bool Stopping() = 0;
  // After each piece has landed and been counted in the slot.
  virtual void Landed() = 0;

 protected:
  ~WorkerHost() = default;
};

struct WorkerTask {
  const WorkList* work = nullptr;
  const ExecConfig* config = nullptr;          // files, method, buffer size, the seam
  const FileFds* fds = nullptr;                // one per config->files entry
  size_t index = 0;                            // this worker's number: its slot, its ledger marks
  std::atomic<uint64_t>* next_unit = nullptr;  // the shared cursor of a shared list
  Ledger* ledger = nullptr;
  uint64_t bwlimit = 0;        // bytes per second for this worker; 0 = unlimited
  double slow_factor = 1;      // > 1 makes this worker that many times slower (--slow-worker)
  WorkerHost* host = nullptr;  // in the parent only
};

int RunWorker(const WorkerTask& task, WorkerSlot* slot) noexcept;

// Parent side, what every executor reads from its workers' slots. The methods a worker that has
// ended recorded, added to its run's result:
void AddMethods(const WorkerSlot& slot, ExecResult* result);
// The error a failed worker recorded (kFailed), worded for the file it is about:
Status WorkerError(const WorkerSlot& slot, const ExecConfig& config);
// Progress as the slots say it: each worker's bytes and plan, the file it copies where
// busy(worker) says it is at work, and the time since start.
ProgressSnapshot SlotsSnapshot(const WorkList& work, const ExecConfig& config,
                               std::span<const WorkerSlot> slots,
                               std::chrono::steady_clock::time_point start,
                               const std::function<bool(size_t)>& busy);

}  // namespace pcopy
