// mpi_copy.h: one regular file copied by every rank of an MPI job: `mpirun -np N pcopy-mpi
// [OPTION]... SOURCE DEST`, on a file system every rank shares (Lustre, GPFS, NFS, or one
// machine's own).
//
// Rank 0 does what pcopy's parent does before its workers start: opens and sizes SOURCE, resolves
// DEST by cp's rules, refuses what cp refuses, removes dead jobs' leftovers, checks the
// room, and creates the hidden temporary in DEST's directory (its name carries rank 0's host and
// pid: the job's identity, leftovers.h), sized and allocated. It broadcasts the temporary's name;
// every rank then opens SOURCE and the temporary itself (nothing is inherited across nodes),
// checks that SOURCE is the file rank 0 sized, and copies its units of the plan (plan/plan.h,
// made for every worker of the job: one per rank, or with -j K the rank's K forked workers,
// worker_chunks.h): its own, for contiguous and interleaved; the next unit of the shared cursor
// (mpi_world.h MpiBoard) for dynamic and guided. --bwlimit limits each rank, as a node's link
// would.
//
// Rank 0 draws the progress from the board (every rank's bytes, published at most every 50 ms),
// waits until every rank has finished, makes its own writes durable with --fsync (every rank
// does, before it says it is done), gathers every rank's outcome and publishes DEST with one
// rename only if all succeeded. Any rank's error raises the board's stop flag, so every rank
// stops at its next unit; rank 0 reports each failed rank's error with its rank and host and
// removes the temporary. A terminating signal to any rank does the same; rank 0 removes the
// temporary as soon as it sees one, before anything that waits for the other ranks, so a job
// that mpirun kills for a dead rank never publishes, and leaves at most the temporary of a
// killed rank 0, which the next run on that host removes.
//
// A resumable copy (--resume, or --fsync on 1 GiB or more, as pcopy decides) writes pcopy's
// partial copy instead of the temporary, and rank 0 holds its journal's lock; every rank marks the
// units it made durable and rank 0 records them (mpi_resume.h). On an error or a signal the partial
// copy is kept when any of it is durable (not after a failed check or publication, as pcopy), and
// the next run, at any rank count, copies only what it lacks.
// The implementation: rank_copy.h, mpi_copy.cc, copy_outcome.cc.
#pragma once

#include "app/options.h"
#include "app/outcome.h"
#include "exec/task_pool.h"
#include "mpi/mpi_world.h"
#include "os/signal_guard.h"

namespace pcopy {

// Every rank calls it with the same options. Rank 0's outcome carries the error to print and
// the exit code; every other rank returns that exit code and prints nothing.
// workers: the rank's -j workers (rank_workers.h), or null.
CopyOutcome RunMpiCopy(const Options& o, SignalGuard& signals, const Console& console,
                       const MpiWorld& world, TaskPool* workers);

}  // namespace pcopy
