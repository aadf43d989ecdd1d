// rank_workers.h: pcopy-mpi's -j K, the forked workers of one rank (hybrid: one rank per node, a
// worker per core).
//
// An MPI process should not fork once MPI is running: with RDMA transports (InfiniBand verbs) a
// child shares the parent's registered memory, and Open MPI warns that the parent's data may be
// corrupted. So the workers are forked first, before MPI_Init, from the command line alone, and
// wait (exec/task_pool.h Prestart) until the copy sends them its config. They never call MPI: they
// take chunks and batches over their channels, as pcopy's own tree workers do, and the rank
// collects their answers. A worker that dies is not replaced (that would fork): the rank's copy
// fails, and the job stops as for any rank's error.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "exec/task_pool.h"

namespace pcopy {

struct RankWorkers {
  std::unique_ptr<TaskPool> pool;  // null: -j 1 (or not a copy): the rank copies itself
  Status error;                    // why the workers could not be started
  unsigned count() const { return pool == nullptr ? 1 : static_cast<unsigned>(pool->size()); }
};

// Before MPI_Init: the workers -j K asks for, when the command line is a copy with K > 1.
// Nothing is printed; an error is reported once the job can say which rank failed.
RankWorkers StartRankWorkers(int argc, char** argv);

// -v: a line saying that the workers share fewer CPUs than there are workers (the CPU binding
// mpirun or srun gave the rank, which they inherit: mpirun binds each rank to one core when it
// starts two or fewer), and how to launch instead; "" when they do not, or where it is unknown.
std::string BindingNote(const RankWorkers& workers);

}  // namespace pcopy
