// fork_executor.h: the Executor of one machine: one forked worker process per worker of the
// WorkList.
//
// The parent maps the shared slots and ledger, forks the workers into one process group of their
// own (so a terminal's Ctrl-C reaches only the parent, which then stops them in an orderly way,
// and one killpg() stops them all), then loops: wait for a signal or 100 ms, reap whoever exited,
// report progress. The first recorded worker error, or a SIGINT/SIGTERM/SIGHUP, kills the group
// and reaps every worker before returning. A worker that dies without an error of its own, or
// stalls, is replaced (ExecConfig::retries): the parent hands the units it held back to the
// ledger (Ledger::Release) and starts a new worker in the same slot, which takes them. The run
// is complete when every unit of the ledger is done. On return no worker is alive and none is
// unreaped.
#pragma once

#include "exec/executor.h"

namespace pcopy {

class ForkExecutor final : public Executor {
 public:
  ExecResult Run(const WorkList& work, const ExecConfig& config, SignalGuard& signals,
                 ProgressObserver* observer) override;
};

}  // namespace pcopy
