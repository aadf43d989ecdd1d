// stream_progress.h: the progress of a copy made in order by this process (standard input or
// output, a /proc file): one worker, this process, whose total is SOURCE's size where it is known
// and unknown for a stream (the views then show bytes, rate and time, no percent or ETA). Feeds
// the same views the workers' copies feed. Parent only.
#pragma once

#include <chrono>
#include <cstdint>

#include "exec/executor.h"

namespace pcopy {

class StreamProgress {
 public:
  // view may be null (no progress shown); total 0: unknown.
  StreamProgress(ProgressObserver* view, uint64_t total)
      : view_(view), total_(total), start_(std::chrono::steady_clock::now()) {}

  // bytes copied so far: drawn at most ten times a second.
  void Tick(uint64_t bytes) {
    if (view_ == nullptr || Elapsed() - drawn_at_ < 0.1) return;
    drawn_at_ = Elapsed();
    view_->OnProgress(Snapshot(bytes));
  }
  // The end: ok, or how it failed ("failed", "interrupted").
  void Finish(uint64_t bytes, bool ok, bool interrupted) {
    if (view_ == nullptr) return;
    ProgressSnapshot last = Snapshot(bytes);
    last.total_known = true;  // a stream's size, at its end
    last.files_done = ok ? 1 : 0;
    last.outcome = ok ? "copied" : interrupted ? "interrupted" : "failed";
    view_->OnFinish(last, ok);
  }
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  ProgressSnapshot Snapshot(uint64_t bytes) const {
    ProgressSnapshot s;
    s.total_known = total_ != 0;
    s.total = s.total_known ? total_ : bytes;
    s.done = {bytes};
    s.planned = {s.total};
    s.elapsed = Elapsed();
    s.files_total = 1;
    return s;
  }

  ProgressObserver* view_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_;
  double drawn_at_ = 0;
};

}  // namespace pcopy
