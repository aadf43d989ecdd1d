#include "exec/fork_executor.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "exec/run_files.h"
#include "exec/worker.h"
#include "exec/worker_slots.h"
#include "os/child_process.h"

namespace pcopy {
namespace {

constexpr std::chrono::milliseconds kTick(100);

struct WorkerContext {
  WorkerTask task;
  WorkerSlot* slot;
};

int WorkerMain(void* context) noexcept {
  auto* ctx = static_cast<WorkerContext*>(context);
  return RunWorker(ctx->task, ctx->slot);
}

// "worker 1 (pid 4242, bytes 0-1048575)": the unit it was copying when it stopped.
std::string DescribeWorker(size_t index, pid_t pid, const WorkerSlot& slot) {
  std::string text = "worker " + std::to_string(index) + " (pid " + std::to_string(pid);
  const uint64_t length = slot.unit_length.load(std::memory_order_relaxed);
  if (length != 0) {
    const uint64_t offset = slot.unit_offset.load(std::memory_order_relaxed);
    text += ", bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  }
  return text + ")";
}

class ForkRun {
 public:
  ForkRun(const WorkList& work, const ExecConfig& config, SignalGuard& signals,
          ProgressObserver* observer)
      : work_(work), config_(config), signals_(signals), observer_(observer) {}

  ExecResult Execute() {
    if (Status s = files_.Open(config_); !s.ok()) {
      result_.status = s;
      return result_;
    }
    if (Status s = WorkerSlots::Create(work_.workers, work_.units.size(), &slots_); !s.ok()) {
      result_.status = s;
      return result_;
    }
    start_ = std::chrono::steady_clock::now();
    if (Status s = SpawnAll(); !s.ok()) {
      result_.status = s;
      StopAll();
    } else {
      Monitor();
    }
    // An incomplete run records what its workers made durable before they stopped; the error
    // that stopped it is the one to report, not a failure to record.
    if (config_.checkpoint != nullptr && (!result_.status.ok() || result_.signal != 0)) {
      (void)config_.checkpoint->Record(work_, slots_.ledger(), true);
    }
    CollectMethods();
    if (observer_) ReportFinish(observer_, Snapshot(), result_, config_.files.size());
    return result_;
  }

 private:
  Status SpawnAll() {
    const size_t n = work_.workers;
    contexts_.resize(n);
    children_.resize(n);
    pid_t pgid = 0;
    for (size_t i = 0; i < n; ++i) {
      WorkerTask& t = contexts_[i].task;
      t.work = &work_;
      t.config = &config_;
      t.fds = files_.fds();
      t.index = i;
      t.next_unit = &slots_.header().next_unit;
      t.ledger = &slots_.ledger();
      t.bwlimit = config_.bwlimit == 0 ? 0 : std::max<uint64_t>(config_.bwlimit / n, 1);
      t.slow_factor = i == 0 ? config_.slow_factor : 1;
      contexts_[i].slot = &slots_[i];
      if (Status s = ChildProcess::Spawn(&WorkerMain, &contexts_[i], pgid,
                                         "pcopy-w" + std::to_string(i), &children_[i]);
          !s.ok()) {
        return s;
      }
      if (pgid == 0) pgid_ = pgid = children_[i].pid();
    }
    return {};
  }

  void Monitor() {
    using Clock = std::chrono::steady_clock;
    last_bytes_.assign(children_.size(), 0);
    last_change_.assign(children_.size(), Clock::now());
    stalled_.assign(children_.size(), false);
    replaced_.assign(children_.size(), false);
    for (;;) {
      const int sig = signals_.Wait(kTick);
      if (sig != 0 && sig != SIGCHLD) {
        result_.signal = sig;
        StopAll();
        return;
      }
      bool all_reaped = true;
      for (size_t i = 0; i < children_.size() && !failed_; ++i) {
        if (!children_[i].TryReap()) {
          all_reaped = false;
          CheckStall(i);
          continue;
        }
        if (children_[i].succeeded()) continue;
        const auto state =
            static_cast<WorkerState>(slots_[i].state.load(std::memory_order_acquire));
        if (state != WorkerState::kFailed && retries_used_ < config_.retries) {
          if (Status s = Replace(i); !s.ok()) {
            failed_ = true;
            result_.status = s;
          }
          all_reaped = false;
          continue;
        }
        failed_ = true;
        result_.status = WorkerFailure(i);
      }
      if (!failed_ && !all_reaped && config_.checkpoint != nullptr) {
        if (Status s = config_.checkpoint->Record(work_, slots_.ledger(), false); !s.ok()) {
          failed_ = true;
          result_.status = s;
        }
      }
      if (failed_) {
        StopAll();
        return;
      }
      if (all_reaped) break;
      if (observer_) observer_->OnProgress(Snapshot());
    }
    CheckComplete();
  }

  // Every worker exited 0; the run is complete only if the ledger has every unit done.
  void CheckComplete() {
    const Ledger& ledger = slots_.ledger();
    const size_t left = ledger.Remaining();
    if (left == 0) return;
    uint64_t missing = 0;
    size_t first = ledger.size();
    for (size_t k = 0; k < ledger.size(); ++k) {
      if (ledger.IsDone(k)) continue;
      missing += work_.units[k].length;
      first = std::min(first, k);
    }
    const WorkUnit& u = work_.units[first];
    result_.status = Status::Message(
        "the workers exited with " + std::to_string(left) + " unit" + (left == 1 ? "" : "s") +
        " (" + std::to_string(missing) + " bytes) not copied, the first bytes " +
        std::to_string(u.offset) + "-" + std::to_string(u.offset + u.length - 1) + " of " +
        Quote(config_.files[u.file].src_name));
  }

  // A worker that has copied nothing for stall_timeout seconds is killed; Monitor then treats
  // it like any worker that died.
  void CheckStall(size_t i) {
    const uint64_t bytes = slots_[i].bytes_done.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (bytes != last_bytes_[i]) {
      last_bytes_[i] = bytes;
      last_change_[i] = now;
      return;
    }
    if (config_.stall_timeout > 0 && !stalled_[i] &&
        std::chrono::duration<double>(now - last_change_[i]).count() >= config_.stall_timeout) {
      stalled_[i] = true;
      children_[i].Kill(SIGKILL);
    }
  }

  std::string HowItEnded(size_t i) const {
    if (stalled_[i]) {
      char buf[96];
      snprintf(buf, sizeof buf, "copied nothing for %.0f s and was killed", config_.stall_timeout);
      return buf;
    }
    return children_[i].DescribeExit();
  }

  // Starts a new worker in place of worker i; it takes over exactly the units i held.
  Status Replace(size_t i) {
    WorkerSlot& slot = slots_[i];
    std::string what = DescribeWorker(i, children_[i].pid(), slot) + " " + HowItEnded(i);
    slots_.ledger().Release(i);
    slot.bytes_done.store(slot.completed_bytes.load(std::memory_order_relaxed),
                          std::memory_order_relaxed);
    slot.unit_length.store(0, std::memory_order_relaxed);
    slot.state.store(static_cast<uint32_t>(WorkerState::kStarting), std::memory_order_relaxed);
    stalled_[i] = false;
    last_change_[i] = std::chrono::steady_clock::now();
    ++retries_used_;
    replaced_[i] = true;
    const pid_t group = AnyAlive() ? pgid_ : 0;
    if (Status s = ChildProcess::Spawn(&WorkerMain, &contexts_[i], group,
                                       "pcopy-w" + std::to_string(i), &children_[i]);
        !s.ok()) {
      return s;
    }
    if (group == 0) pgid_ = children_[i].pid();
    result_.retried.push_back(what + "; a new worker (pid " + std::to_string(children_[i].pid()) +
                              ") took over its unfinished work (retry " +
                              std::to_string(retries_used_) + " of " +
                              std::to_string(config_.retries) + ")");
    return {};
  }

  bool AnyAlive() const {
    for (const ChildProcess& c : children_) {
      if (c.alive()) return true;
    }
    return false;
  }

  // The error a failed worker recorded, or how it died if it recorded none.
  Status WorkerFailure(size_t i) const {
    const auto state = static_cast<WorkerState>(slots_[i].state.load(std::memory_order_acquire));
    if (state == WorkerState::kFailed) return WorkerError(slots_[i], config_);
    std::string text = DescribeWorker(i, children_[i].pid(), slots_[i]) + " " + HowItEnded(i);
    if (retries_used_ > 0) {
      text +=
          " after " + std::to_string(retries_used_) + (retries_used_ == 1 ? " retry" : " retries");
    }
    const ExecFile& f = config_.files[slots_[i].unit_file.load(std::memory_order_relaxed)];
    return Status::Message(text + " while copying " + Quote(f.src_name) + " to " +
                           Quote(f.dst_name));
  }

  void StopAll() {
    // One signal to the whole group, then each child individually in case it had not joined the
    // group yet; SIGKILL because a worker holds nothing that needs an orderly release. The group
    // is signalled only while a worker is alive: a group with no member left has a number the
    // kernel may give to another process.
    if (pgid_ > 0 && AnyAlive()) killpg(pgid_, SIGKILL);
    for (ChildProcess& c : children_) c.Kill(SIGKILL);
    for (ChildProcess& c : children_) c.Wait();
  }

  void CollectMethods() {
    for (size_t i = 0; i < slots_.size(); ++i) AddMethods(slots_[i], &result_);
  }

  ProgressSnapshot Snapshot() const {
    ProgressSnapshot s = SlotsSnapshot(work_, config_, slots_.all(), start_, [this](size_t i) {
      return i < children_.size() && children_[i].alive() &&
             slots_[i].unit_length.load(std::memory_order_relaxed) != 0;
    });
    for (size_t i = 0; i < children_.size(); ++i) {
      s.shown.push_back(!children_[i].alive()                  ? WorkerShow::kFinished
                        : i < replaced_.size() && replaced_[i] ? WorkerShow::kReplaced
                                                               : WorkerShow::kRunning);
    }
    return s;
  }

  const WorkList& work_;
  const ExecConfig& config_;
  SignalGuard& signals_;
  ProgressObserver* observer_;
  WorkerSlots slots_;
  RunFiles files_;  // every file's SOURCE and DEST, for the run's lifetime
  std::vector<WorkerContext> contexts_;
  std::vector<ChildProcess> children_;
  pid_t pgid_ = 0;
  bool failed_ = false;
  unsigned retries_used_ = 0;
  std::vector<uint64_t> last_bytes_;  // per worker, for stall detection
  std::vector<std::chrono::steady_clock::time_point> last_change_;
  std::vector<bool> stalled_;   // killed for making no progress
  std::vector<bool> replaced_;  // a new process took over this worker's work
  std::chrono::steady_clock::time_point start_;
  ExecResult result_;
};

}  // namespace

ExecResult ForkExecutor::Run(const WorkList& work, const ExecConfig& config, SignalGuard& signals,
                             ProgressObserver* observer) {
  if (ExecResult r; RunsNothing(work, &r)) return r;
  return ForkRun(work, config, signals, observer).Execute();
}

}  // namespace pcopy
