// mpi_resume.h: a resumable file copy across ranks (--resume, or --fsync on 1 GiB or more, as
// pcopy decides: app/resume_copy.h): which units are durable, and rank 0's journal of them.
//
// Only the client that wrote a byte can make it durable on a shared file system, so a rank on
// another host than rank 0's keeps its own record: every kCheckpointInterval, and once its units
// are done, it fdatasyncs the partial copy and only then marks on the board the units it had
// finished before that call (DurableUnits; mpi_world.h MpiBoard::MarkDurable). A rank on rank 0's
// host shares its page cache and marks a unit as soon as it is written, as pcopy's workers do.
// Rank 0, at the same interval and at the end of a run that does not publish, reads the marks and
// records the blocks they cover in the journal through pcopy's own checkpoint (exec/checkpoint.h:
// the marks first, then its fdatasync, which covers its host's writes, then the record), so the
// journal never claims a unit that is not on stable storage. A rank killed outright loses at most
// its last interval's marks; the rerun copies those units again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "exec/checkpoint.h"
#include "exec/ledger.h"
#include "mpi/mpi_world.h"
#include "plan/work_list.h"

namespace pcopy {

// Every rank of a resumable copy.
class DurableUnits {
 public:
  // fd: the rank's descriptor of the partial copy (display names it in messages). sync: this
  // rank is on another host than rank 0's and makes its units durable itself.
  DurableUnits(MpiBoard* board, int fd, std::string display, bool sync)
      : board_(board), fd_(fd), display_(std::move(display)), sync_(sync) {}

  // Unit u is completely written.
  void Finished(size_t u) {
    if (!failed_) finished_.push_back(u);
  }
  // An fdatasync of the partial copy failed (the caller's own): nothing finished so far, nor
  // anything after, is marked. A second fdatasync would not report the same lost write.
  void Failed() {
    failed_ = true;
    finished_.clear();
  }
  // At most every kCheckpointInterval (final: now, and the caller's own fdatasync may already
  // have run: synced): the finished units made durable (by this rank, or by rank 0's next
  // checkpoint), then marked on the board.
  Status Sync(bool final, bool synced = false);

 private:
  MpiBoard* board_;
  int fd_;
  std::string display_;
  bool sync_;
  bool failed_ = false;
  std::vector<size_t> finished_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Rank 0: every rank's marks recorded in the journal.
class DurableJournal {
 public:
  // Allocates the ledger it reads the marks into: nothing later may fail for want of memory
  // while other ranks wait in a collective.
  DurableJournal(MpiBoard* board, const WorkList* list, JournalCheckpoint* checkpoint);

  // At most every kCheckpointInterval (final: now).
  Status Record(bool final);

 private:
  MpiBoard* board_;
  const WorkList* list_;
  JournalCheckpoint* checkpoint_;
  std::unique_ptr<LedgerEntry[]> entries_;
  std::unique_ptr<std::atomic<uint64_t>[]> written_;
  std::vector<uint8_t> durable_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace pcopy
