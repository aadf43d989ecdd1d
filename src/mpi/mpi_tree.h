// mpi_tree.h: a tree copy across the ranks of an MPI job: `mpirun -np N pcopy-mpi -r SOURCE...
// DEST`, on a file system every rank shares, with the same paths on every node.
//
// Rank 0 runs pcopy's own tree copy (app/tree_job.h RunTreeCommand, tree/tree_copy.h): cp's
// checks of the operands, the walk, the directories, the hidden tree that appears whole, hard
// links, metadata and the one rename, with MpiTaskRunner as its workers. Without -j, worker 0 is
// rank 0 itself, which runs one task in its own process between two looks at the others' answers,
// and worker r is rank r, which runs ServeTreeTasks (rank_server.h). With -j K each rank has K
// forked workers (rank_workers.h): worker w is worker w % K of rank w / K, rank 0's included. A
// task travels as its encoding (exec/tree_task.h) and the paths of its descriptors
// (tree_messages.h); the rank opens them itself, checks that they are the files rank 0 opened,
// runs the task, and answers with the result's encoding. Large
// files are created under hidden names (TreeOptions::named_files), never unnamed, so that other
// ranks can open them. Rank 0 sends with MPI_Isend and never blocks on a rank; a rank answers
// with MPI_Send, which rank 0 always receives. A rank's progress counts when its task is answered.
//
// The end: rank 0 tells every rank to quit and waits until each has said goodbye, so no rank
// writes into the hidden tree after rank 0 has removed it (an aborted copy); a rank told to quit
// drops the tasks it has not begun. A rank that takes a terminating signal says so and answers no
// more: rank 0 stops the copy (the hidden tree removed). A rank that dies makes mpirun end the
// job: the hidden tree stays, and the next run removes it: on rank 0's host at once, from
// another node once idle an hour (os/leftovers.h; rank 0 holds its lock and touches it).
#pragma once

#include <mpi.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/options.h"
#include "app/outcome.h"
#include "exec/task_pool.h"
#include "exec/task_runner.h"
#include "exec/tree_worker.h"
#include "exec/worker_slots.h"
#include "mpi/mpi_world.h"
#include "os/signal_guard.h"

namespace pcopy {

// Rank 0's view of the ranks as a tree copy's workers.
class MpiTaskRunner final : public TaskRunner {
 public:
  // probe_dir: a directory on DEST's file system, where Start checks that every rank sees what
  // rank 0 writes. signals: what Quit takes to stop waiting for the other ranks.
  // workers: rank 0's -j workers (rank_workers.h), or null; every rank has as many.
  MpiTaskRunner(const MpiWorld& world, std::string probe_dir, SignalGuard& signals,
                TaskPool* workers)
      : world_(world),
        probe_dir_(std::move(probe_dir)),
        signals_(signals),
        workers_(workers),
        per_rank_(workers == nullptr ? 1 : workers->size()) {}
  // Quits, and waits for every send to complete: call once every rank has left the copy (after
  // a collective), or sends to a rank still reading would be cut.
  ~MpiTaskRunner() override;
  MpiTaskRunner(const MpiTaskRunner&) = delete;
  MpiTaskRunner& operator=(const MpiTaskRunner&) = delete;

  // -j's workers on every rank (one per rank without), whatever `workers` asks. Every rank
  // first reads back a file rank 0
  // wrote in probe_dir: a rank that cannot (DEST is not on a file system it shares with rank 0)
  // fails the start with its rank, host and why.
  Status Start(const TreeWorkerConfig& config, size_t workers) override;
  size_t size() const override { return lanes_.size(); }
  size_t in_flight(size_t w) const override;
  Status Send(size_t w, Task task) override;
  // A rank that stopped for a signal makes it return that signal, as if rank 0 had taken it.
  int Wait(SignalGuard& signals, std::chrono::milliseconds timeout,
           std::vector<TaskCompletion>* done, Status* failure) override;
  std::vector<uint64_t> WorkerBytes() const override;
  std::vector<WriteSizeReport> WriteSizes() const override { return {}; }
  std::string CurrentFile(size_t w) const override;
  const std::vector<std::string>& retried() const override { return retried_; }
  void Finish() override { Quit(); }
  void Kill() override { Quit(); }

  // Tells every other rank that the tree copy is over and waits for each to say goodbye; the
  // first call does it (also for a copy that never started: ranks wait for it). Once a
  // terminating signal has arrived it waits half a second at most: mpirun ends a job whose rank
  // died that way, and rank 0 must still remove what it made.
  void Quit();

 private:
  struct Lane {
    std::deque<Task> in_flight;
    uint64_t bytes = 0;
  };
  // Receives one message waiting from any rank; false if none is. A rank's signal goes to
  // *signal.
  bool ReceiveOne(std::vector<TaskCompletion>* done, Status* failure, int* signal);
  void SendAsync(int rank, int tag, std::vector<char> bytes);
  void RunLocal(std::vector<TaskCompletion>* done);
  // Answers from done[from] on that were borrowed from another rank's lane free that lane.
  void GiveBack(const std::vector<TaskCompletion>& done, size_t from);
  void CompleteSends();

  const MpiWorld& world_;
  std::string probe_dir_;
  SignalGuard& signals_;
  TaskPool* workers_;
  size_t per_rank_;
  // Not a vector: a Lane (its deque) would be copied on growth. Rank 0's lanes are unused when it
  // has -j workers (their pool holds its tasks).
  std::deque<Lane> lanes_;
  // Tasks given to another rank's lane that rank 0 runs (their descriptors had no name another
  // rank could open): counted against that lane until answered, so the tree copy's depth per
  // worker still bounds what rank 0 queues.
  std::map<uint64_t, size_t> borrowed_;  // task id -> the lane it was given to
  std::vector<size_t> borrowed_count_;   // per lane
  std::unique_ptr<WorkerSlot> local_slot_;
  std::unique_ptr<InProcessTasks> local_;
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    std::vector<char> bytes;
  };
  std::deque<Pending> sends_;
  std::vector<std::string> retried_;  // ranks are never replaced: mpirun ends a job that loses one
  bool quit_ = false;
};

// Whether the command is a tree copy (several SOURCEs, -t, or -r with a SOURCE that is not a
// regular file), rather than one regular file's copy (mpi_copy.h). Rank 0 decides: it is the one
// that looks at the operands.
bool IsTreeCopy(const Options& o);

// The tree copy across the job; every rank calls it with the same options. Rank 0 runs the copy
// and its outcome carries the error to print; every rank returns the same exit code.
// workers: this rank's -j workers (rank_workers.h), or null.
CopyOutcome RunMpiTreeCopy(const Options& o, SignalGuard& signals, const Console& console,
                           const MpiWorld& world, TaskPool* workers);

}  // namespace pcopy
