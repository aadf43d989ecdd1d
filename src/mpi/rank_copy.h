// rank_copy.h: the inside of mpi_copy.h's file copy across ranks, one RankCopy per rank, shared
// by the two files that implement it: mpi_copy.cc (rank 0's setup, every rank's units, the
// progress) and copy_outcome.cc (every rank's outcome judged, the check, the publication or what
// is kept). Not for other callers: mpi_copy.h is the interface.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/options.h"
#include "app/outcome.h"
#include "app/resume_copy.h"
#include "copy/pacer.h"
#include "exec/executor.h"
#include "exec/task_pool.h"
#include "mpi/copy_setup.h"
#include "mpi/mpi_resume.h"
#include "mpi/mpi_world.h"
#include "os/destination.h"
#include "os/signal_guard.h"
#include "os/source_file.h"
#include "os/temp_file.h"
#include "plan/work_list.h"

namespace pcopy {

// A rank's outcome as rank 0 gathers it, after its host and a newline: "" (copied its units), "T"
// (stopped by another rank's error or signal), "S<signal>", or "E" and the one-line error.
std::string OutcomeOf(const Status& s, bool stopped);

class RankCopy final : public ProgressSink {
 public:
  RankCopy(const Options& o, SignalGuard& signals, const Console& console, const MpiWorld& world,
           TaskPool* workers)
      : o_(o), signals_(signals), console_(console), world_(world), workers_(workers) {}

  // The whole copy on this rank, from rank 0's setup to the exit code every rank returns.
  CopyOutcome Run();

 private:
  // mpi_copy.cc: the setup and the copy.
  // Rank 0, before any rank copies: pcopy's checks, then the temporary, sized and allocated.
  Status Prepare(CopySetup* setup);
  // A resumable copy (app/resume_copy.h, as pcopy decides): the partial copy an earlier run kept,
  // adopted (setup->left becomes what it lacks) or replaced, said as pcopy says it.
  Status OpenResumable(const std::string& dir, CopySetup* setup);
  // A copy that does not resume removes the partial copy an earlier run of it kept (pcopy's rule),
  // unless a running pcopy holds it.
  void DiscardEarlier(const std::string& dir);
  // Every rank opens SOURCE and the temporary by name, as a rank on another node must.
  Status OpenFiles(const CopySetup& setup);
  void Plan(const CopySetup& setup);
  Status CopyUnits();
  // This rank will not copy on: a rank-0 temporary goes at once, a partial copy is kept for the
  // end (Conclude), and the units this rank finished are made durable and marked.
  void Abandon();
  // Unit `unit` is copied: a resumable copy marks it durable after its next sync.
  Status Finished(size_t unit);
  // The units finished so far marked durable, at most every checkpoint interval; its first error
  // is kept (durable_error_).
  void SyncDurable();
  // Rank 0 of a resumable copy: the ranks' marks into the journal (its first error is kept).
  void RecordJournal(bool final);
  Status CopyOnWorkers(const WorkList& list, const std::function<size_t(size_t)>& next);
  Status Flush();
  void Add(uint64_t bytes) override;
  void Tick(bool force);
  uint64_t BoardBytes() const;
  Status WaitForRanks();
  ProgressSnapshot Snapshot() const;

  // copy_outcome.cc: the end.
  // Rank 0: what every rank's outcome adds up to (other ranks: nothing).
  struct Verdict {
    Status status;
    int signal = 0;
    std::vector<std::string> errors;  // "rank R on HOST: ..." for each rank that failed
  };
  Verdict Judge(const Status& mine, const std::vector<std::string>& outcomes) const;
  Verdict Check(const CopySetup& setup);
  CopyOutcome Conclude(Verdict verdict);
  Status Commit();

  const Options& o_;
  SignalGuard& signals_;
  const Console& console_;
  const MpiWorld& world_;
  TaskPool* workers_;  // -j K: this rank's forked workers (rank_workers.h); null: copies itself
  MpiBoard* board_ = nullptr;
  // Rank 0 only: SOURCE as it sized it, DEST, the temporary, the progress view.
  SourceFile src_;
  struct stat src_st_ {};
  Destination dst_;
  TempFile temp_;
  std::unique_ptr<ProgressObserver> view_;
  std::vector<uint64_t> bytes_;
  std::vector<RankState> states_;
  std::vector<uint64_t> planned_;
  // A resumable copy: the journal and what it holds, and every rank's marks recorded in it.
  std::optional<PartialCopy> partial_;
  PartialSpec spec_;
  std::optional<DurableJournal> journal_;
  Status journal_error_;
  bool distrusted_ = false;  // the check or the publication failed: keep no partial copy
  // Every rank.
  WorkList list_;                        // the plan's units, the same on every rank
  std::optional<DurableUnits> durable_;  // a resumable copy: the units this rank made durable
  Status durable_error_;
  uint64_t before_ = 0;
  UniqueFd src_fd_, dst_fd_;
  std::string display_;
  Method method_ = Method::kPread;
  std::unique_ptr<Pacer> pacer_;
  uint64_t done_ = 0;
  bool stopped_ = false;
  std::string digest_;  // rank 0, after Check: the tree digest (SOURCE's under --verify)
  uint64_t recopied_ = 0;
  bool lost_race_ = false;
  std::chrono::steady_clock::time_point start_, last_publish_, last_tick_;
};

}  // namespace pcopy
