// worker.h: the body of one copy worker, run inside a forked child (or in-process by tests).
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
#include <cstdint>
#include <vector>

#include "copy/io.h"
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

struct WorkerTask {
  const WorkList* work = nullptr;
  const ExecConfig* config = nullptr;          // files, method, buffer size, the seam
  const FileFds* fds = nullptr;                // one per config->files entry
  size_t index = 0;                            // this worker's number: its slot, its ledger marks
  std::atomic<uint64_t>* next_unit = nullptr;  // the shared cursor of a shared list
  Ledger* ledger = nullptr;
  uint64_t bwlimit = 0;    // bytes per second for this worker; 0 = unlimited
  double slow_factor = 1;  // > 1 makes this worker that many times slower (--slow-worker)
};

int RunWorker(const WorkerTask& task, WorkerSlot* slot) noexcept;

}  // namespace pcopy
