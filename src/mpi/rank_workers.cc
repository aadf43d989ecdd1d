#include "mpi/rank_workers.h"

#include <sched.h>

#include "app/options.h"

namespace pcopy {

RankWorkers StartRankWorkers(int argc, char** argv) {
  RankWorkers workers;
  CommandLine cmd;
  if (!ParseCommandLine(argc, argv, &cmd).ok() || cmd.action != Action::kCopy ||
      !cmd.options.jobs_given || cmd.options.jobs <= 1) {
    return workers;
  }
  workers.pool = std::make_unique<TaskPool>(0);
  workers.error = workers.pool->Prestart(cmd.options.jobs);
  if (!workers.error.ok()) workers.pool.reset();
  return workers;
}

std::string BindingNote(const RankWorkers& workers) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const unsigned k = workers.count();
  if (k <= 1 || sched_getaffinity(0, sizeof set, &set) != 0) return "";
  const auto cpus = static_cast<unsigned>(CPU_COUNT(&set));
  if (cpus >= k) return "";
  return std::to_string(k) + " workers share this rank's " + std::to_string(cpus) + " CPU" +
         (cpus == 1 ? "" : "s") + " (its binding): launch with mpirun --bind-to none, or srun " +
         "--cpus-per-task=" + std::to_string(k);
}

}  // namespace pcopy
