// mpi_command.h: what pcopy-mpi does with its command line, on every rank of the job: the help
// and version (rank 0 prints them), the refusals of what it does not do (one line on rank 0, the
// same exit code everywhere), and the road taken: one file (mpi_copy.h), a tree (mpi_tree.h) or
// digests (mpi_checksum.h), with stdout and stderr as pcopy's console streams (app/command.h).
// Rank 0 tells the outcome; every rank returns its exit code.
#pragma once

#include "mpi/mpi_world.h"
#include "mpi/rank_workers.h"

namespace pcopy {

// workers: this rank's -j workers, started before MPI_Init (rank_workers.h).
int RunMpiCommand(int argc, char** argv, const MpiWorld& world, RankWorkers& workers);

}  // namespace pcopy
