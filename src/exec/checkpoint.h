// checkpoint.h: the Checkpoint of a resumable copy: makes what the workers wrote durable, then
// says so in the journal, in that order and only in that order.
//
// At most once per interval (and once at the end of an incomplete run) the parent reads every
// unit's written frontier from the ledger, then fdatasyncs the partial copy: every byte written
// before that call is on stable storage when it returns, whichever process wrote it (a worker
// killed since included: its writes are in the page cache). Only then are the blocks whose needed
// bytes all lie in those frontiers added to the journal's record. The workers' writeback pipeline
// (copy/writeback.h) has already sent most of those bytes to the disk, so the fdatasync is short.
// Runs in the parent only.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "exec/resume_journal.h"
#include "os/sys_calls.h"
#include "plan/block_map.h"

namespace pcopy {

// Four times a second: a copy killed outright copies again about a quarter of a second of its
// work. The cost, measured against --fsync --no-resume on 1 GiB in shuffled rounds (README
// "Resuming"): a median ratio of 1.05 with a cold SOURCE, 1.00 with a hot one.
inline constexpr double kCheckpointInterval = 0.25;

class JournalCheckpoint final : public Checkpoint {
 public:
  // fd is the partial copy (name for messages); durable, the blocks already recorded.
  JournalCheckpoint(const SysCalls& sys, int fd, std::string name, ResumeJournal* journal,
                    BlockGrid grid, BlockBitmap durable, double interval = kCheckpointInterval);

  Status Record(const WorkList& work, const Ledger& ledger, bool final) override;

  const BlockBitmap& durable() const { return durable_; }

 private:
  const SysCalls& sys_;
  int fd_;
  std::string name_;
  ResumeJournal* journal_;
  BlockGrid grid_;
  BlockBitmap durable_;
  std::chrono::duration<double> interval_;
  std::chrono::steady_clock::time_point last_;
  std::vector<ByteRange> needed_;  // the work's bytes, sorted and merged; made at the first call
  bool have_needed_ = false;
  uint64_t last_written_ = 0;  // the frontiers' sum at the last record
};

}  // namespace pcopy
