// executor.h: what runs a WorkList, whoever does it: forked workers on this machine
// (fork_executor.h), the parent itself for a small copy (in_process_executor.h) today, MPI ranks
// on many later.
//
// An executor takes paths, not descriptors: each worker opens SOURCE and the temporary itself,
// as a rank on another node must, and checks that it opened the very files the parent examined
// (device and inode), so a file replaced in between is an error rather than a wrong copy. Work
// is a list of units {file index, offset, length}, so one run can span the chunks of many files.
// An executor returns only when none of its workers is left running or unreaped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "copy/io.h"
#include "exec/ledger.h"
#include "os/file_identity.h"
#include "os/phase.h"
#include "os/signal_guard.h"
#include "plan/work_list.h"

namespace pcopy {

// One file of a run. Workers write DEST's bytes into dst_path (the temporary) in place.
struct ExecFile {
  std::string src_path;  // opened read-only by each worker
  std::string dst_path;  // opened write-only by each worker; already exists and is sized
  std::string src_name;  // as the user named them, for messages
  std::string dst_name;
  FileIdentity src_id;  // what the parent examined; a worker that opens anything else stops
  FileIdentity dst_id;
};

// A resumable copy's recorder of what is durable (exec/checkpoint.h), called by the parent's
// monitor of a forked run: at every tick while workers run, and once more (final) after they are
// all gone if the run did not complete. An error fails the run. An executor that runs its work in
// the parent (InProcessExecutor) does not call it: such a copy is too short to resume.
class Checkpoint {
 public:
  virtual ~Checkpoint() = default;
  virtual Status Record(const WorkList& work, const Ledger& ledger, bool final) = 0;
};

struct ExecConfig {
  const SysCalls* sys = nullptr;
  std::vector<ExecFile> files;  // WorkUnit::file indexes this
  Method method = Method::kAuto;
  uint64_t buffer_size = 0;
  uint64_t bwlimit = 0;    // for the whole run; shared evenly among the workers
  double slow_factor = 1;  // worker 0 runs this many times slower (--slow-worker)
  // --sparse=always: CopyEnv::skip_zero_blocks in every worker.
  bool skip_zero_blocks = false;
  // --fsync: each worker sends what it wrote to the disk as it goes (copy/writeback.h), so the
  // caller's final fdatasync has little left.
  bool durable = false;
  // --method auto on pread/pwrite without --buffer-size: each worker chooses its write size
  // chunk by chunk, from buffer_size up to max_write_size, by measuring (copy/write_size_tuner.h).
  bool tune_write_size = false;
  uint64_t max_write_size = 0;
  // Bytes of the run (shared evenly among the workers) that may be written in sizes above
  // buffer_size; past its share, a worker writes buffer_size for good. Large writes fill memory
  // with large page-cache folios, and past a point that varies from run to run every later write
  // of the copy slowed to the host's page-supply rate (README "Defaults").
  uint64_t large_write_budget = 0;
  // A cold SOURCE: each worker asks the kernel to read ahead the range this many bytes past the
  // unit it takes (0: no advice).
  uint64_t read_ahead = 0;
  // A worker that dies without recording an error (killed, crashed), or that copies nothing for
  // stall_timeout seconds (0: never), is replaced by a new one that takes over exactly the units
  // it held, at most `retries` times in all. A recorded I/O error is never retried.
  unsigned retries = 0;
  double stall_timeout = 0;
  Checkpoint* checkpoint = nullptr;  // a resumable copy's; owned by the caller
};

// What one worker's write size tuner did (ExecConfig::tune_write_size), as its slot recorded it.
struct WriteSizeReport {
  uint64_t size = 0;      // in use at the end
  uint32_t probes = 0;    // chunks copied at a neighbouring size to measure it
  uint32_t switches = 0;  // changes of the size in use
  // The last switch: the offset of DEST after which it took effect, the sizes, the rates in
  // MB/s that decided it (none for kBudget), and why.
  enum Why : uint32_t {
    kFaster = 0,   // the new size measured faster
    kStalled = 1,  // the old size stalled
    kBudget = 2,   // the worker had copied its share of ExecConfig::large_write_budget
  };
  uint64_t at = 0;
  uint64_t from = 0;
  uint32_t from_rate = 0;
  uint32_t to_rate = 0;
  Why why = kFaster;
};

struct ExecResult {
  Status status;
  int signal = 0;                    // the terminating signal that stopped the run, or 0
  uint32_t used_methods = 0;         // MethodBit of each method that moved bytes, in any worker
  int fallback_errno = -1;           // as TransferState::fallback_errno, from any worker
  std::vector<std::string> retried;  // one line per replaced worker: who, why, the new pid
  std::vector<WriteSizeReport> write_sizes;  // one per worker slot, where the run tuned
};

// What the executor knows of one worker, for the per-worker bars.
enum class WorkerShow : uint8_t {
  kRunning,
  kFinished,  // exited: nothing is left for it (idle until the copy ends)
  kReplaced,  // running, in a new process that took over after the first died or stalled
};

struct ProgressSnapshot {
  uint64_t total = 0;
  // False for a stream, whose size is known only at its end: total is then what came so far,
  // and views show no percent, main bar or ETA.
  bool total_known = true;
  std::vector<uint64_t> done;     // per worker
  std::vector<uint64_t> planned;  // per worker; an even share of the bytes for shared lists
  double elapsed = 0;             // seconds since the workers started
  // Files: one of one for a single copy; found so far, for a tree still being walked.
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  uint64_t errors = 0;               // entries reported and not copied
  std::vector<std::string> current;  // per worker: the file it copies now ("" when idle)
  std::vector<WorkerShow> shown;     // per worker; empty where the executor does not tell
  const char* outcome = nullptr;     // in OnFinish: "copied", "failed" or "interrupted"
  // Bytes done before this run began (a resumed copy's durable data): views add them to the
  // amounts they show, never to the rates, which are this run's. total and done exclude them.
  uint64_t before = 0;
  // A step after the copy (PhaseObserver): its word, which views show before the figures; then
  // total and done are that step's bytes, and elapsed its own time.
  const char* phase = nullptr;
  uint64_t done_total() const;
};

// A view of the copy, and of the steps after it (PhaseObserver: syncing, verifying), which views
// that draw them override.
class ProgressObserver : public PhaseObserver {
 public:
  void OnPhase(const char*, uint64_t, uint64_t) override {}
  virtual void OnProgress(const ProgressSnapshot& snapshot) = 0;
  // Called once the workers are gone; ok says whether every byte was copied.
  virtual void OnFinish(const ProgressSnapshot& snapshot, bool ok) = 0;
  // Called before a line (an error, a -v line) is printed while the copy runs, so a bar drawn in
  // place can get out of its way; the next OnProgress draws it again.
  virtual void BeforeMessage() {}
  // Called when the run stops in a step after the copy (a signal, an error): a step's bar drawn
  // in place keeps its last frame, ended, and the error goes on the next line, as a copy's does.
  virtual void OnStepCut() {}
};

// Every executor's first step: true when work has no worker, with *result set (OK for a list of
// no bytes, such as a SOURCE all holes; an error otherwise).
bool RunsNothing(const WorkList& work, ExecResult* result);

// Tells observer how the run ended: the last snapshot, with the files done (all or none), the
// errors and the outcome in words set from result.
void ReportFinish(ProgressObserver* observer, ProgressSnapshot last, const ExecResult& result,
                  size_t files);

// view (null for none) preceded at every progress tick by tick(snapshot): the caller's own
// periodic duty while an executor runs (TempFile::KeepAlive). Never null.
std::unique_ptr<ProgressObserver> WithTick(
    std::unique_ptr<ProgressObserver> view,
    std::function<void(const ProgressSnapshot& snapshot)> tick);

class Executor {
 public:
  virtual ~Executor() = default;
  // Copies every unit of work, one worker per work.workers. SIGINT/SIGTERM/SIGHUP taken through
  // signals stop the run (ExecResult::signal). The run succeeded when status is OK and signal 0.
  virtual ExecResult Run(const WorkList& work, const ExecConfig& config, SignalGuard& signals,
                         ProgressObserver* observer) = 0;
};

}  // namespace pcopy
