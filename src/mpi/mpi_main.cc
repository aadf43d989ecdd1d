// mpi_main.cc: the pcopy-mpi command, run by mpirun (or srun) on every rank. All logic lives in
// the pcopy library and mpi/ (mpi_command.h); main only starts MPI.
#include <cstdlib>

#include "base/program_name.h"
#include "mpi/mpi_command.h"
#include "mpi/mpi_world.h"
#include "mpi/rank_workers.h"
#include "os/signal_guard.h"
#include "os/stream_io.h"

int main(int argc, char** argv) {
  pcopy::HoldStandardDescriptors();  // before anything is opened
  // Open MPI backs the board's window with a file in /dev/shm, which a rank killed outright leaves
  // there; in the job's session directory, mpirun removes it when the job ends, whatever happened
  // to the ranks. (A user's own setting wins.) Read by MPI_Init.
  if (const char* session = getenv("OMPI_MCA_orte_jobfam_session_dir"); session != nullptr) {
    setenv("OMPI_MCA_osc_sm_backing_directory", session, 0);
  }
  pcopy::SetProgramName("pcopy-mpi");
  // -j K: forked now, before MPI exists in this process (rank_workers.h).
  pcopy::RankWorkers workers = pcopy::StartRankWorkers(argc, argv);
  // MPI starts threads of its own: born with SIGINT, SIGTERM, SIGHUP and SIGCHLD blocked, they
  // leave those to this thread's signal guard.
  const pcopy::MpiWorld world = [&] {
    const pcopy::SignalsBlockedForThreads blocked;
    return pcopy::MpiWorld(&argc, &argv);
  }();
  return pcopy::RunMpiCommand(argc, argv, world, workers);
}
