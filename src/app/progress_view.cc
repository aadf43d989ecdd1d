#include "app/progress_view.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/program_name.h"
#include "base/size_parse.h"

namespace pcopy {
namespace {

constexpr double kRateWindow = 1.0;  // seconds of history behind the displayed rate
constexpr int kWorkerBarWidth = 6;
constexpr double kPhaseRedraw = 0.1;  // seconds between two frames of a step after the copy

std::string Bar(uint64_t done, uint64_t total, int width) {
  const double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const int filled = std::clamp(static_cast<int>(frac * width), 0, width);
  return std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(width - filled), '.');
}

// A worker slower than this share of the median rate of those still running is drawn as slow.
constexpr double kSlowShare = 0.25;
constexpr double kWorkerRateWindow = 1.0;  // seconds behind a worker's rate

// Tenths of a percent rounded down, as the bar's cells are: 100.0% only when all is done, never
// beside a bar with a cell still empty.
std::string Percent(uint64_t done, uint64_t total) {
  const double tenths =
      done >= total ? 1000.0
                    : std::floor(1000.0 * static_cast<double>(done) / static_cast<double>(total));
  char buf[16];
  snprintf(buf, sizeof buf, "%5.1f%%", tenths / 10.0);
  return buf;
}

}  // namespace

int TerminalColumns(int fd) {
  winsize ws{};
  if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col > 0 ? ws.ws_col : 80;
}

bool TerminalHasEscapes() {
  const char* term = getenv("TERM");
  return term != nullptr && *term != '\0' && strcmp(term, "dumb") != 0;
}

ProgressView::ProgressView(ProgressStyle style, FILE* out, int columns, bool escapes, int fd)
    : style_(style),
      out_(out),
      terminal_fd_(fd >= 0 ? fd : fileno(out)),
      columns_(columns > 0 ? columns : 80),
      follow_terminal_(columns <= 0),
      escapes_(escapes) {}

double ProgressView::Rate(const ProgressSnapshot& s) {
  const uint64_t done = s.done_total();
  samples_.emplace_back(s.elapsed, done);
  while (samples_.size() > 2 && s.elapsed - samples_[1].first >= kRateWindow) samples_.pop_front();
  const auto& [t0, b0] = samples_.front();
  if (s.elapsed - t0 < 0.2) return s.elapsed > 0 ? static_cast<double>(done) / s.elapsed : 0;
  return static_cast<double>(done - b0) / (s.elapsed - t0);
}

// A stream's line: what came so far, the rate and the time, the longest form that fits.
std::string ProgressView::StreamLine(const ProgressSnapshot& s, double rate, bool finished) const {
  const std::string bytes = FormatBytes(s.done_total()), speed = FormatRate(rate),
                    time = (finished ? "in " : "") + FormatDuration(s.elapsed);
  const std::string forms[] = {bytes + " " + speed + " " + time, bytes + " " + time, time};
  for (const std::string& form : forms) {
    if (static_cast<int>(form.size()) <= columns_ - 3) return form;
  }
  return "";
}

std::string ProgressView::BarLine(const ProgressSnapshot& s, double rate, bool finished) const {
  if (!s.total_known) return StreamLine(s, rate, finished);
  const uint64_t done = s.done_total();
  const double eta = rate > 0 ? static_cast<double>(s.total - std::min(done, s.total)) / rate : -1;
  const char* clock = finished ? "in" : "ETA";
  const uint64_t shown = s.before + done, whole = s.before + s.total;
  std::string label = s.phase != nullptr ? std::string(s.phase) + " " : "";
  // The figures, the longest form that fits: on a narrow terminal the total goes first, then the
  // bytes, then the rate; the percent and the ETA stay. snprintf rather than operator+ chains:
  // g++ 12 raises a false -Wrestrict on those (PR105329).
  const std::string pct = Percent(shown, whole), bytes = FormatBytes(shown),
                    total = FormatBytes(whole), speed = FormatRate(rate),
                    left = FormatDuration(finished ? s.elapsed : eta);
  char forms[4][128];
  snprintf(forms[0], sizeof forms[0], " %s %s/%s %s %s %s", pct.c_str(), bytes.c_str(),
           total.c_str(), speed.c_str(), clock, left.c_str());
  snprintf(forms[1], sizeof forms[1], " %s %s %s %s %s", pct.c_str(), bytes.c_str(), speed.c_str(),
           clock, left.c_str());
  snprintf(forms[2], sizeof forms[2], " %s %s %s %s", pct.c_str(), speed.c_str(), clock,
           left.c_str());
  snprintf(forms[3], sizeof forms[3], " %s %s %s", pct.c_str(), clock, left.c_str());
  // A step's name gives way before its figures do.
  if (static_cast<int>(label.size() + strlen(forms[3])) > columns_ - 3) label.clear();
  std::string tail = forms[3];
  for (const char* form : forms) {
    if (static_cast<int>(strlen(form) + label.size()) <= columns_ - 3) {
      tail = form;
      break;
    }
  }
  // Three columns left free: the last, which some terminals wrap on, and two for the "^C" the
  // terminal echoes at the end of the line when the user interrupts, which would otherwise wrap
  // and leave the bar's last frame on a line of its own. The per-worker bars where they fit
  // beside a main bar of at least 20 columns; else a character each beside one of at least 10.
  // The form chosen never widens again at the same width: the tail's length changes from frame
  // to frame (the rate, "ETA" becoming "in"), and the workers would jump between forms.
  const int budget = columns_ - 3;
  const int room = budget - static_cast<int>(label.size() + tail.size());
  if (layout_columns_ != columns_) {
    layout_columns_ = columns_;
    workers_form_ = WorkersForm::kBars;
  }
  std::string workers;
  if (workers_form_ == WorkersForm::kBars) {
    workers = WorkerBars(s, finished, false);
    if (static_cast<int>(workers.size()) + 22 > room) workers_form_ = WorkersForm::kCompact;
  }
  if (workers_form_ == WorkersForm::kCompact) {
    workers = WorkerBars(s, finished, true);
    if (static_cast<int>(workers.size()) + 12 > room) workers_form_ = WorkersForm::kNone;
  }
  if (workers_form_ == WorkersForm::kNone) workers.clear();
  const int bar_width =
      std::max(budget - static_cast<int>(label.size() + tail.size() + workers.size()) - 2, 0);
  std::string line = label;
  if (bar_width >= 10) {
    line += '[';
    line += Bar(shown, whole, bar_width);
    line += ']';
  }
  line += tail;
  line += workers;
  if (static_cast<int>(line.size()) > budget) line.resize(static_cast<size_t>(std::max(budget, 0)));
  return line;
}

// A worker's bar is its done bytes against its planned share (an even one where the work is
// handed out), in '#' cells; the cells still to do say its state: '.' running, '~' slow, '!'
// replaced (a new process took over its work). A running worker keeps one cell to do, even past
// a share the plan guessed (a fast worker takes more than an even share of handed-out work): a
// full bar means finished (nothing left for it), and every bar is full in the last frame.
// compact: one character each, in |...|: its tenths done (0-9) while running, '~' slow, '!'
// replaced, '#' finished.
std::string ProgressView::WorkerBars(const ProgressSnapshot& s, bool finished, bool compact) const {
  if (s.done.size() < 2) return "";
  std::string bars = compact ? " |" : "";
  for (size_t i = 0; i < s.done.size(); ++i) {
    const WorkerShow shown = i < s.shown.size() ? s.shown[i] : WorkerShow::kRunning;
    const bool full = finished || shown == WorkerShow::kFinished;
    const char state = shown == WorkerShow::kReplaced ? '!'
                       : i < slow_.size() && slow_[i] ? '~'
                                                      : '.';
    const uint64_t planned = s.planned[i];
    const double share =
        planned == 0 ? 1.0 : static_cast<double>(s.done[i]) / static_cast<double>(planned);
    if (!compact) {
      const int cells =
          full ? kWorkerBarWidth
               : std::clamp(static_cast<int>(share * kWorkerBarWidth), 0, kWorkerBarWidth - 1);
      bars += ' ';
      bars += std::string(static_cast<size_t>(cells), '#');
      bars += std::string(static_cast<size_t>(kWorkerBarWidth - cells), state);
    } else if (full) {
      bars += '#';
    } else if (state != '.') {
      bars += state;
    } else {
      bars += static_cast<char>('0' + std::clamp(static_cast<int>(share * 10), 0, 9));
    }
  }
  return compact ? bars + "|" : bars;
}

// Which workers are slow: over the last second, less than kSlowShare of the median rate of the
// workers still running (two at least). A worker left running alone has no one to be compared
// with: it keeps the mark it had, so the laggard that holds the copy up stays marked until done.
void ProgressView::FindSlowWorkers(const ProgressSnapshot& s) {
  worker_samples_.emplace_back(s.elapsed, s.done);
  while (worker_samples_.size() > 2 && s.elapsed - worker_samples_[1].first >= kWorkerRateWindow) {
    worker_samples_.pop_front();
  }
  std::vector<bool> was = slow_;
  was.resize(s.done.size(), false);
  slow_.assign(s.done.size(), false);
  const auto& [t0, before] = worker_samples_.front();
  std::vector<size_t> running;
  std::vector<uint64_t> moved;
  for (size_t i = 0; i < s.done.size(); ++i) {
    if (i < s.shown.size() && s.shown[i] == WorkerShow::kFinished) continue;
    running.push_back(i);
    moved.push_back(before.size() == s.done.size() ? s.done[i] - std::min(s.done[i], before[i])
                                                   : 0);
  }
  if (running.size() == 1) slow_[running[0]] = was[running[0]];
  if (s.elapsed - t0 < kWorkerRateWindow / 2 || before.size() != s.done.size()) return;
  if (running.size() < 2) return;
  std::vector<uint64_t> sorted = moved;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double median = static_cast<double>(sorted[sorted.size() / 2]);
  for (size_t k = 0; k < running.size(); ++k) {
    slow_[running[k]] = static_cast<double>(moved[k]) < kSlowShare * median;
  }
}

std::string ProgressView::PlainLine(const ProgressSnapshot& s, double rate) const {
  const uint64_t done = s.done_total();
  if (!s.total_known) {
    return std::string(ProgramName()) + ": " + FormatBytes(done) + " so far, " + FormatRate(rate) +
           ", " + FormatDuration(s.elapsed);
  }
  const double eta = rate > 0 ? static_cast<double>(s.total - std::min(done, s.total)) / rate : -1;
  const uint64_t shown = s.before + done, whole = s.before + s.total;
  char buf[192];
  snprintf(buf, sizeof buf, "%s: %s%s%s %s of %s, %s, ETA %s", ProgramName(),
           s.phase != nullptr ? s.phase : "", s.phase != nullptr ? " " : "",
           Percent(shown, whole).c_str(), FormatBytes(shown).c_str(), FormatBytes(whole).c_str(),
           FormatRate(rate).c_str(), FormatDuration(eta).c_str());
  return buf;
}

void ProgressView::FollowTerminal() {
  if (!follow_terminal_) return;
  if (const int columns = TerminalColumns(terminal_fd_); columns > 0) columns_ = columns;
}

void ProgressView::OnProgress(const ProgressSnapshot& s) {
  const double rate = Rate(s);
  FindSlowWorkers(s);
  if (style_ == ProgressStyle::kBar) {
    FollowTerminal();
    Draw(BarLine(s, rate), false);
    drawn_ = true;
  } else if (s.elapsed - last_plain_ >= 1.0) {
    last_plain_ = s.elapsed;
    fprintf(out_, "%s\n", PlainLine(s, rate).c_str());
  }
  fflush(out_);
}

void ProgressView::Draw(const std::string& line, bool newline) {
  if (escapes_) {
    fprintf(out_, "\r%s\033[K%s", line.c_str(), newline ? "\n" : "");
    return;
  }
  // No escapes: what the last line drew past this one is overwritten with spaces.
  const size_t pad = drawn_length_ > line.size() ? drawn_length_ - line.size() : 0;
  fprintf(out_, "\r%s%*s%s", line.c_str(), static_cast<int>(pad), "", newline ? "\n" : "");
  drawn_length_ = newline ? 0 : line.size();
}

void ProgressView::BeforeMessage() {
  if (style_ != ProgressStyle::kBar || !drawn_) return;
  // The bar's line emptied: the message takes it, the bar comes back.
  if (escapes_) {
    fputs("\r\033[K", out_);
  } else {
    fprintf(out_, "\r%*s\r", static_cast<int>(drawn_length_), "");
    drawn_length_ = 0;
  }
  fflush(out_);
  drawn_ = false;
}

void ProgressView::OnStepCut() {
  if (style_ != ProgressStyle::kBar || !drawn_) return;
  fputc('\n', out_);  // the step's last frame stays; the error goes on the next line
  fflush(out_);
  drawn_ = false;
}

void ProgressView::OnFinish(const ProgressSnapshot& s, bool ok) {
  const double average = s.elapsed > 0 ? static_cast<double>(s.done_total()) / s.elapsed : 0;
  if (style_ == ProgressStyle::kBar) {
    if (ok) {
      FollowTerminal();  // a copy over before the first tick has not asked yet
      Draw(BarLine(s, average, true), true);
    } else if (drawn_) {
      fputc('\n', out_);  // leave the last state visible; the error goes on the next line
    }
    drawn_ = false;  // the line is ended: nothing of the bar is left to erase
  }
  // Plain lines end with the job's summary line (app/progress_choice.h ShowsProgress): a line of
  // the view's own would say the same.
  fflush(out_);
}

void ProgressView::OnPhase(const char* phase, uint64_t done, uint64_t total) {
  const auto now = std::chrono::steady_clock::now();
  if (phase_ != phase) {
    if (style_ == ProgressStyle::kBar && drawn_) fputc('\n', out_);  // a line left unfinished
    drawn_ = false;
    phase_ = phase;
    phase_start_ = now;
    phase_drawn_ = 0;
    phase_shown_ = false;
    samples_.clear();
  }
  ProgressSnapshot s;
  s.total = total;
  s.done = {std::min(done, total)};
  s.planned = {total};
  s.elapsed = std::chrono::duration<double>(now - phase_start_).count();
  s.phase = phase;
  const bool finished = done >= total;
  const double redraw = style_ == ProgressStyle::kBar ? kPhaseRedraw : 1.0;
  if (finished ? !phase_shown_ && s.elapsed < redraw : s.elapsed - phase_drawn_ < redraw) {
    return;  // too soon to draw (again), or a step too short to be worth a line
  }
  phase_shown_ = true;
  const double rate =
      finished ? (s.elapsed > 0 ? static_cast<double>(total) / s.elapsed : 0) : Rate(s);
  phase_drawn_ = s.elapsed;
  if (style_ == ProgressStyle::kBar) {
    FollowTerminal();
    Draw(BarLine(s, rate, finished), finished);
    drawn_ = !finished;
  } else if (finished) {
    fprintf(out_, "%s: %s 100.0%% %s in %.2f s, %s\n", ProgramName(), phase,
            FormatBytes(total).c_str(), s.elapsed, FormatRate(rate).c_str());
  } else {
    fprintf(out_, "%s\n", PlainLine(s, rate).c_str());
  }
  fflush(out_);
}

}  // namespace pcopy
