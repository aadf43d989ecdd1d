#include "exec/executor.h"

namespace pcopy {

uint64_t ProgressSnapshot::done_total() const {
  uint64_t sum = 0;
  for (uint64_t d : done) sum += d;
  return sum;
}

bool RunsNothing(const WorkList& work, ExecResult* result) {
  if (work.workers != 0) return false;
  *result = ExecResult{};
  if (work.bytes != 0) result->status = Status::Message("a run with work to do needs a worker");
  return true;
}

namespace {

class TickingObserver final : public ProgressObserver {
 public:
  TickingObserver(std::unique_ptr<ProgressObserver> view,
                  std::function<void(const ProgressSnapshot&)> tick)
      : view_(std::move(view)), tick_(std::move(tick)) {}
  void OnProgress(const ProgressSnapshot& snapshot) override {
    tick_(snapshot);
    if (view_) view_->OnProgress(snapshot);
  }
  void OnFinish(const ProgressSnapshot& snapshot, bool ok) override {
    if (view_) view_->OnFinish(snapshot, ok);
  }
  void BeforeMessage() override {
    if (view_) view_->BeforeMessage();
  }
  void OnStepCut() override {
    if (view_) view_->OnStepCut();
  }
  void OnPhase(const char* phase, uint64_t done, uint64_t total) override {
    if (view_) view_->OnPhase(phase, done, total);
  }

 private:
  std::unique_ptr<ProgressObserver> view_;
  std::function<void(const ProgressSnapshot&)> tick_;
};

}  // namespace

std::unique_ptr<ProgressObserver> WithTick(std::unique_ptr<ProgressObserver> view,
                                           std::function<void(const ProgressSnapshot&)> tick) {
  return std::make_unique<TickingObserver>(std::move(view), std::move(tick));
}

void ReportFinish(ProgressObserver* observer, ProgressSnapshot last, const ExecResult& result,
                  size_t files) {
  const bool ok = result.status.ok() && result.signal == 0;
  last.files_done = ok ? files : 0;
  last.errors = ok ? 0 : 1;
  last.outcome = result.signal != 0 ? "interrupted" : ok ? "copied" : "failed";
  observer->OnFinish(last, ok);
}

}  // namespace pcopy
