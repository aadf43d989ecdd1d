// progress_view.h: draws the copy's progress on a terminal or as log lines.
//
// Bar: one line redrawn in place (carriage return) about ten times a second: total percent,
// bytes, rate, ETA and, when the terminal is wide enough, a small bar per worker. Plain: one line
// a second, for logs. Runs in the parent only, fed by the executor's snapshots. A terminal that
// takes no escape sequences (TERM=dumb, or no TERM) gets the bar without them: a shorter line is
// padded with spaces rather than erased with "\033[K".
#pragma once

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "exec/executor.h"

namespace pcopy {

enum class ProgressStyle { kBar, kPlain };

// Whether the terminal named by TERM takes escape sequences: not "dumb", nor an empty or absent
// TERM (a terminal of unknown kind).
bool TerminalHasEscapes();

class ProgressView final : public ProgressObserver {
 public:
  // columns: the width to draw the bar in; 0 asks out's terminal before every redraw, so a
  // resized window is followed (80 if out is not a terminal). escapes: whether out takes escape
  // sequences (TerminalHasEscapes). fd: the descriptor under out, where fileno cannot tell (-1).
  ProgressView(ProgressStyle style, FILE* out, int columns, bool escapes = true, int fd = -1);

  void OnProgress(const ProgressSnapshot& snapshot) override;
  void OnFinish(const ProgressSnapshot& snapshot, bool ok) override;
  void BeforeMessage() override;
  void OnStepCut() override;
  // A step after the copy, on a line of its own: "syncing [####....] 45.0% ... ETA 0:02". Its last
  // frame stays (with the time it took) when the step lasted long enough to be drawn before;
  // plain lines say it once a second, and at the end of a step that lasted a second or more.
  void OnPhase(const char* phase, uint64_t done, uint64_t total) override;

  // The line the bar shows for a snapshot; exposed for tests.
  // finished: the last frame, with the time the copy took where the ETA was.
  std::string BarLine(const ProgressSnapshot& snapshot, double rate, bool finished = false) const;
  std::string PlainLine(const ProgressSnapshot& snapshot, double rate) const;
  // BarLine for a stream (total_known false): bytes so far, rate and time, no bar.
  std::string StreamLine(const ProgressSnapshot& snapshot, double rate, bool finished) const;
  // The per-worker bars of BarLine: six cells each, or one character each when compact.
  std::string WorkerBars(const ProgressSnapshot& snapshot, bool finished, bool compact) const;

 private:
  double Rate(const ProgressSnapshot& snapshot);
  // Bar style with columns 0: the terminal's width now.
  void FollowTerminal();
  void FindSlowWorkers(const ProgressSnapshot& snapshot);
  // The bar's line drawn over the last one, and ended when newline.
  void Draw(const std::string& line, bool newline);

  ProgressStyle style_;
  FILE* out_;
  int terminal_fd_;  // asked for the width
  int columns_;
  bool follow_terminal_;
  bool escapes_;
  size_t drawn_length_ = 0;  // without escapes: how much of the line the last draw covered
  double last_plain_ = 0;
  bool drawn_ = false;
  std::deque<std::pair<double, uint64_t>> samples_;  // (elapsed, bytes) over the last second
  std::deque<std::pair<double, std::vector<uint64_t>>> worker_samples_;  // each worker's bytes
  std::vector<bool> slow_;  // per worker, from FindSlowWorkers
  // How BarLine drew the workers at layout_columns_: it only narrows there (BarLine is const, the
  // layout a memory of the frames drawn).
  enum class WorkersForm { kBars, kCompact, kNone };
  mutable WorkersForm workers_form_ = WorkersForm::kBars;
  mutable int layout_columns_ = 0;
  std::string phase_;  // the step OnPhase draws now
  std::chrono::steady_clock::time_point phase_start_;
  double phase_drawn_ = 0;    // when the step was last drawn (its elapsed), or 0
  bool phase_shown_ = false;  // whether it has been
};

// The terminal width of fd, or 0 if it is not a terminal.
int TerminalColumns(int fd);

}  // namespace pcopy
