// worker.h: the body of one copy worker, run inside a forked child.
//
// RunWorker copies the worker's planned ranges (or, for a self-scheduled plan, takes chunks from
// the shared queue until none is left) and reports through its shared slot: bytes done as
// they land, then kDone, or kFailed with the error. It is noexcept and touches nothing the parent
// owns except the slot; the caller (ChildProcess) ends the process with _exit(RunWorker(...)).
// It can also run in-process for tests.
#pragma once

#include <atomic>
#include <cstdint>

#include "copy/io.h"
#include "exec/worker_slots.h"
#include "plan/plan.h"

namespace pcopy {

inline constexpr int kWorkerOk = 0;
inline constexpr int kWorkerFailed = 1;  // the slot holds the error

struct WorkerTask {
  const CopyPlan* plan = nullptr;
  size_t index = 0;                             // this worker's entry in plan->workers
  std::atomic<uint64_t>* next_chunk = nullptr;  // the shared cursor into plan->queue
  const SysCalls* sys = nullptr;
  int src_fd = -1;
  int dst_fd = -1;
  std::string_view src_name;
  std::string_view dst_name;
  Method method = Method::kAuto;
  uint64_t buffer_size = 0;
  uint64_t bwlimit = 0;    // bytes per second for this worker; 0 = unlimited
  double slow_factor = 1;  // > 1 makes this worker that many times slower (--slow-worker)
  // A replacement for a worker that died: a static plan's worker resumes at this index of its
  // range list; a self-scheduled one first redoes `redo` (the chunk the other left unfinished).
  size_t start_index = 0;
  ByteRange redo;
};

int RunWorker(const WorkerTask& task, WorkerSlot* slot) noexcept;

}  // namespace pcopy
