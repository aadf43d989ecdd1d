// fork_executor.h: runs a CopyPlan with one forked worker process per planned worker.
//
// The parent creates the shared progress slots, forks the workers into one process group of their
// own (so a terminal's Ctrl-C reaches only the parent, which then stops them in an orderly way,
// and one killpg() stops them all), then loops: wait for a signal or 100 ms, reap whoever exited,
// report progress. The first worker failure, or a SIGINT/SIGTERM/SIGHUP, kills the group and reaps
// every worker before returning. A worker that dies without an error of its own, or stalls, is
// replaced (ExecConfig::retries) by one that resumes its unfinished ranges; a range counts as
// done only once all its bytes are written, so the replacement redoes the interrupted one whole.
// On return no worker is alive and none is unreaped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "copy/io.h"
#include "os/signal_guard.h"
#include "plan/plan.h"

namespace pcopy {

struct ProgressSnapshot {
  uint64_t total = 0;
  std::vector<uint64_t> done;     // per worker
  std::vector<uint64_t> planned;  // per worker; an even share of the file for dynamic plans
  double elapsed = 0;             // seconds since the workers started
  uint64_t done_total() const;
};

class ProgressObserver {
 public:
  virtual ~ProgressObserver() = default;
  virtual void OnProgress(const ProgressSnapshot& snapshot) = 0;
  // Called once the workers are gone; ok says whether every byte was copied.
  virtual void OnFinish(const ProgressSnapshot& snapshot, bool ok) = 0;
};

struct ExecConfig {
  const SysCalls* sys = nullptr;
  int src_fd = -1;
  int dst_fd = -1;
  std::string src_name;  // for messages
  std::string dst_name;
  Method method = Method::kAuto;
  uint64_t buffer_size = 0;
  uint64_t bwlimit = 0;    // for the whole copy; shared evenly among the workers
  double slow_factor = 1;  // worker 0 runs this many times slower (--slow-worker)
  // A worker that dies without recording an error (killed, crashed), or that copies nothing for
  // stall_timeout seconds (0: never), is replaced by a new one that resumes its unfinished
  // work, at most `retries` times in all. A recorded I/O error is never retried.
  unsigned retries = 0;
  double stall_timeout = 0;
};

struct ExecResult {
  Status status;
  int signal = 0;                    // the terminating signal that stopped the copy, or 0
  uint32_t used_methods = 0;         // MethodBit of each method that moved bytes, in any worker
  int fallback_errno = -1;           // as TransferState::fallback_errno, from any worker
  std::vector<std::string> retried;  // one line per replaced worker: who, why, the new pid
};

ExecResult RunForked(const CopyPlan& plan, const ExecConfig& config, SignalGuard& signals,
                     ProgressObserver* observer);

}  // namespace pcopy
