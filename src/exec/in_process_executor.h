// in_process_executor.h: the Executor that copies in the calling process: no fork, no shared
// mapping, no process pool, nothing in /dev/shm. For copies too small for workers to pay off
// (app/in_process.h decides, README "Defaults").
//
// It runs the forked workers' own body (worker.h) over the same WorkList, one worker's turn
// after another, with the slots and the ledger in ordinary memory. The calling process stays the
// parent in every other respect: before each unit, and through every --bwlimit or --slow-worker
// sleep, it takes SIGINT, SIGTERM and SIGHUP from the caller's SignalGuard (a terminating signal
// stops the run before the next unit; the unit in hand is finished unpaced), and it reports
// progress at most every 100 ms and once at the end, as ForkExecutor does. Nothing is retried:
// a retry replaces a process that was killed or stalled, and here there is none.
#pragma once

#include <cstdint>

#include "exec/executor.h"

namespace pcopy {

// A single file's copy with less data than this, and a digest of fewer bytes, run in the calling
// process: below it, forking workers (or a digest pool) costs more time than the workers could
// save; measured in README "Defaults".
inline constexpr uint64_t kInProcessBelow = 8ull << 20;

class InProcessExecutor final : public Executor {
 public:
  ExecResult Run(const WorkList& work, const ExecConfig& config, SignalGuard& signals,
                 ProgressObserver* observer) override;
};

}  // namespace pcopy
