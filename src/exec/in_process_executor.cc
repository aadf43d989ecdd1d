#include "exec/in_process_executor.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <vector>

#include "exec/ledger.h"
#include "exec/run_files.h"
#include "exec/worker.h"
#include "exec/worker_slots.h"

namespace pcopy {
namespace {

using Clock = std::chrono::steady_clock;

// As ForkExecutor's tick: how often progress is drawn, and the longest a sleep goes unbroken.
constexpr std::chrono::milliseconds kTick(100);

class InProcessRun final : public WorkerHost {
 public:
  InProcessRun(const WorkList& work, const ExecConfig& config, SignalGuard& signals,
               ProgressObserver* observer)
      : work_(work),
        config_(config),
        signals_(signals),
        observer_(observer),
        slots_(work.workers),
        entries_(work.units.size()),
        written_(work.units.size()),
        ledger_(entries_.data(), written_.data(), entries_.size()) {
    for (LedgerEntry& e : entries_) e.store(kUnitFree, std::memory_order_relaxed);
    for (std::atomic<uint64_t>& w : written_) w.store(0, std::memory_order_relaxed);
  }

  ExecResult Execute() {
    ExecResult result;
    if (Status s = files_.Open(config_); !s.ok()) {
      result.status = s;
      return result;
    }
    start_ = last_report_ = Clock::now();
    result.status = RunWorkers();
    running_ = false;
    // Out of the worker body, which is noexcept: what the observer threw (std::bad_alloc) goes on
    // to the job's guard, as it would from ForkExecutor's own progress tick.
    if (thrown_ != nullptr) std::rethrow_exception(thrown_);
    result.signal = signals_.terminating_signal();
    if (result.signal == 0 && result.status.ok() && ledger_.Remaining() != 0) {
      result.status = Status::Message("the copy ended with " + std::to_string(ledger_.Remaining()) +
                                      " units not copied");
    }
    for (const WorkerSlot& slot : slots_) AddMethods(slot, &result);
    if (observer_ != nullptr) ReportFinish(observer_, Snapshot(), result, config_.files.size());
    return result;
  }

  bool Stopping() override { return thrown_ != nullptr || signals_.Poll() != 0; }

  void Landed() override {
    if (observer_ == nullptr || thrown_ != nullptr || Clock::now() - last_report_ < kTick) return;
    try {
      Report();
    } catch (...) {
      thrown_ = std::current_exception();
    }
  }

  // In steps of at most a tick, so that progress is still drawn during a long --bwlimit sleep.
  void Sleep(std::chrono::nanoseconds d) override {
    const Clock::time_point until = Clock::now() + d;
    for (Clock::time_point now = Clock::now();
         now < until && signals_.terminating_signal() == 0 && thrown_ == nullptr;
         now = Clock::now()) {
      signals_.Wait(std::min<std::chrono::milliseconds>(
          std::chrono::ceil<std::chrono::milliseconds>(until - now), kTick));
      Landed();
    }
  }

 private:
  // Each worker of the list in turn: a shared list is all taken by the first.
  Status RunWorkers() {
    WorkerTask task;
    task.work = &work_;
    task.config = &config_;
    task.fds = files_.fds();
    task.next_unit = &header_.next_unit;
    task.ledger = &ledger_;
    task.bwlimit = config_.bwlimit;
    task.host = this;
    for (size_t w = 0; w < work_.workers && signals_.terminating_signal() == 0; ++w) {
      task.index = current_ = w;
      task.slow_factor = w == 0 ? config_.slow_factor : 1;
      if (RunWorker(task, &slots_[w]) != kWorkerOk) return WorkerError(slots_[w], config_);
    }
    return {};
  }

  void Report() {
    last_report_ = Clock::now();
    observer_->OnProgress(Snapshot());
  }

  ProgressSnapshot Snapshot() const {
    return SlotsSnapshot(work_, config_, slots_, start_,
                         [this](size_t w) { return running_ && w == current_; });
  }

  const WorkList& work_;
  const ExecConfig& config_;
  SignalGuard& signals_;
  ProgressObserver* observer_;
  RunFiles files_;
  // What ForkExecutor keeps in a shared mapping, here in this process's own memory.
  std::vector<WorkerSlot> slots_;
  SharedHeader header_;
  std::vector<LedgerEntry> entries_;
  std::vector<std::atomic<uint64_t>> written_;
  Ledger ledger_;
  size_t current_ = 0;         // the worker whose turn it is
  std::exception_ptr thrown_;  // by the observer, inside the worker body
  bool running_ = true;
  Clock::time_point start_;
  Clock::time_point last_report_;
};

}  // namespace

ExecResult InProcessExecutor::Run(const WorkList& work, const ExecConfig& config,
                                  SignalGuard& signals, ProgressObserver* observer) {
  if (ExecResult r; RunsNothing(work, &r)) return r;
  return InProcessRun(work, config, signals, observer).Execute();
}

}  // namespace pcopy
