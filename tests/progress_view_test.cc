#include "app/progress_view.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

::testing::AssertionResult Contains(const std::string& text, const std::string& fragment) {
  if (text.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << fragment << "'";
}

// A FILE* whose output can be read back at any time.
class MemFile {
 public:
  MemFile() : file_(open_memstream(&buf_, &len_)) {}
  ~MemFile() {
    fclose(file_);
    free(buf_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  FILE* get() const { return file_; }
  std::string text() {
    fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  FILE* file_;
};

// 1 GiB in four workers of 256 MiB; half done: the first finished, the second not started, the
// other two halfway.
ProgressSnapshot HalfDone(double elapsed = 5) {
  ProgressSnapshot s;
  s.total = 1024 * kMiB;
  s.planned = {256 * kMiB, 256 * kMiB, 256 * kMiB, 256 * kMiB};
  s.done = {256 * kMiB, 0, 128 * kMiB, 128 * kMiB};
  s.elapsed = elapsed;
  return s;
}

// Worker 0 has done its even share but is still running: one cell stays to do.
const std::string kWorkerBars = " #####. ...... ###... ###...";

TEST(ProgressViewTest, BarLineShowsPercentBytesRateEta) {
  const ProgressView view(ProgressStyle::kBar, stderr, 200);
  const std::string line = view.BarLine(HalfDone(), 100e6);
  EXPECT_TRUE(Contains(line, "50.0%"));
  EXPECT_TRUE(Contains(line, "512 MiB"));
  EXPECT_TRUE(Contains(line, "1.00 GiB"));
  EXPECT_TRUE(Contains(line, "95.4 MiB/s"));
  EXPECT_TRUE(Contains(line, "0:05"));  // 512 MiB left at 100 MB/s: 5.4 s
  EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << line;
}

// The last frame says how long the copy took where the ETA was: "ETA 0:00" is no news.
TEST(ProgressViewTest, TheLastFrameShowsTheTimeTaken) {
  ProgressSnapshot s = HalfDone(65);
  s.done = {512 * kMiB, 256 * kMiB, 128 * kMiB, 128 * kMiB};
  const std::string line = ProgressView(ProgressStyle::kBar, stderr, 120).BarLine(s, 16e6, true);
  EXPECT_TRUE(Contains(line, "100.0% 1.00 GiB/1.00 GiB 15.3 MiB/s in 1:05")) << line;
  EXPECT_FALSE(Contains(line, "ETA")) << line;
  // Every worker's share is done at the end, though the plan's even shares were not what they
  // copied: no bar reads "###..." at 100%.
  const std::string wide = ProgressView(ProgressStyle::kBar, stderr, 200).BarLine(s, 16e6, true);
  EXPECT_TRUE(Contains(wide, " ###### ###### ###### ######")) << wide;
}

TEST(ProgressViewTest, BarLineUnknownRateHasNoEta) {
  const ProgressView view(ProgressStyle::kBar, stderr, 120);
  const std::string line = view.BarLine(HalfDone(), 0);
  EXPECT_TRUE(Contains(line, "--:--"));
}

TEST(ProgressViewTest, WorkerBarsOnlyWhenWide) {
  const std::string wide = ProgressView(ProgressStyle::kBar, stderr, 200).BarLine(HalfDone(), 1e8);
  EXPECT_TRUE(Contains(wide, kWorkerBars));
  const std::string narrow = ProgressView(ProgressStyle::kBar, stderr, 60).BarLine(HalfDone(), 1e8);
  EXPECT_FALSE(Contains(narrow, kWorkerBars));
  // Even without them the essentials are there.
  EXPECT_TRUE(Contains(narrow, "50.0%"));
  EXPECT_TRUE(Contains(narrow, "95.4 MiB/s"));
}

// Between wide and narrow, a character per worker: its tenths done, at most 9 while it runs.
TEST(ProgressViewTest, MidWidthsGetACharacterPerWorker) {
  const std::string line = ProgressView(ProgressStyle::kBar, stderr, 80).BarLine(HalfDone(), 1e8);
  EXPECT_TRUE(Contains(line, "ETA 0:05 |9055|")) << line;
  EXPECT_LE(line.size(), 77u);
  const std::string narrow = ProgressView(ProgressStyle::kBar, stderr, 50).BarLine(HalfDone(), 1e8);
  EXPECT_FALSE(Contains(narrow, "|")) << narrow;
}

// Each worker's state at a glance, in the cells it has still to do: '!' replaced, '~' far slower
// than the others, '.' running; a finished worker's bar is full whatever its share.
TEST(ProgressViewTest, WorkerBarsShowEachWorkersState) {
  ProgressSnapshot s = HalfDone(1);
  s.shown = {WorkerShow::kRunning, WorkerShow::kFinished, WorkerShow::kReplaced,
             WorkerShow::kRunning};
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 200);
  EXPECT_TRUE(Contains(view.BarLine(s, 1e8), " #####. ###### ###!!! ###..."))
      << view.BarLine(s, 1e8);
  EXPECT_TRUE(Contains(view.WorkerBars(s, false, true), " |9#!5|"));
  // A second later workers 0 and 2 have moved 64 MiB each, worker 3 1 MiB: slow.
  view.OnProgress(s);
  s.elapsed = 2;
  s.done = {256 * kMiB, 0, 192 * kMiB, 129 * kMiB};
  s.planned[0] = 512 * kMiB;
  s.done[0] = 320 * kMiB;
  view.OnProgress(s);
  EXPECT_TRUE(Contains(view.BarLine(s, 1e8), " ###... ###### ####!! ###~~~"))
      << view.BarLine(s, 1e8);
  EXPECT_TRUE(Contains(view.WorkerBars(s, false, true), " |6#!~|"));
  // The last frame: every bar full, whatever it was.
  EXPECT_TRUE(Contains(view.BarLine(s, 1e8, true), " ###### ###### ###### ######"));
  // The others finished: the laggard, running alone, keeps its mark until it is done.
  s.elapsed = 3;
  s.shown = {WorkerShow::kFinished, WorkerShow::kFinished, WorkerShow::kFinished,
             WorkerShow::kRunning};
  s.done[3] = 130 * kMiB;
  view.OnProgress(s);
  EXPECT_TRUE(Contains(view.WorkerBars(s, false, true), " |###~|"));
  EXPECT_TRUE(Contains(view.WorkerBars(s, false, false), " ###~~~"))
      << view.WorkerBars(s, false, false);
}

TEST(ProgressViewTest, NoWorkerBarsForOneWorker) {
  ProgressSnapshot s;
  s.total = 100;
  s.planned = {100};
  s.done = {50};
  s.elapsed = 1;
  const std::string line = ProgressView(ProgressStyle::kBar, stderr, 200).BarLine(s, 50);
  EXPECT_FALSE(Contains(line, "] ###"));
  EXPECT_FALSE(Contains(line, " ###..."));
}

// Three columns free: the last (some terminals wrap on it) and two for an echoed "^C".
TEST(ProgressViewTest, BarLineLeavesThreeColumnsFree) {
  std::vector<ProgressSnapshot> snapshots = {HalfDone()};
  ProgressSnapshot many;  // 64 workers and numbers as wide as they get
  many.total = 999ull << 40;
  for (int i = 0; i < 64; ++i) {
    many.planned.push_back(many.total / 64);
    many.done.push_back(many.total / 64 / static_cast<uint64_t>(i + 1));
  }
  many.elapsed = 100000;
  snapshots.push_back(many);
  ProgressSnapshot empty;  // a 0-byte copy
  snapshots.push_back(empty);
  for (const ProgressSnapshot& s : snapshots) {
    for (double rate : {0.0, 1.0, 999.9e9}) {
      for (int columns = 1; columns <= 300; ++columns) {
        const std::string line =
            ProgressView(ProgressStyle::kBar, stderr, columns).BarLine(s, rate);
        ASSERT_LE(static_cast<int>(line.size()), std::max(columns - 3, 0))
            << "columns " << columns << ": '" << line << "'";
      }
    }
  }
}

// Width 0 on something that is not a terminal: 80 columns.
// A narrow terminal keeps the percent and the ETA: the total, the bytes and the rate give way
// first, and nothing is cut mid-figure.
TEST(ProgressViewTest, NarrowTerminalsKeepTheEta) {
  for (int columns : {80, 50, 40, 30, 24}) {
    SCOPED_TRACE(std::to_string(columns) + " columns");
    ProgressView view(ProgressStyle::kBar, stderr, columns);
    const std::string line = view.BarLine(HalfDone(), 100e6);
    EXPECT_LE(line.size(), static_cast<size_t>(columns - 3));
    EXPECT_TRUE(Contains(line, "50.0%")) << line;
    EXPECT_TRUE(Contains(line, "ETA 0:05")) << line;
    if (columns >= 50) {
      EXPECT_TRUE(Contains(line, "/1.00 GiB")) << line;
    }
  }
}

TEST(ProgressViewTest, UnknownWidthMeansEighty) {
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 0);
  const std::string line = view.BarLine(HalfDone(), 1e8);
  EXPECT_LE(line.size(), 77u);
  EXPECT_GE(line.size(), 60u) << "a bar should fill the default width: '" << line << "'";
  view.OnProgress(HalfDone(1));
  const std::string drawn = out.text();  // "\r" + line + "\033[K"
  ASSERT_GE(drawn.size(), 4u);
  EXPECT_LE(drawn.size() - 4, 77u) << drawn;
}

// A resumed copy: the bytes made durable by an earlier run count as done in what is shown, and
// the rate and ETA stay this run's.
TEST(ProgressViewTest, AResumedCopyShowsTheWholeFile) {
  ProgressSnapshot s = HalfDone();
  s.before = 1024 * kMiB;  // a 2 GiB file, half of it resumed, half of the rest copied now
  const ProgressView bar(ProgressStyle::kBar, stderr, 200);
  const std::string line = bar.BarLine(s, 100e6);
  EXPECT_TRUE(Contains(line, "75.0% 1.50 GiB/2.00 GiB 95.4 MiB/s ETA 0:05")) << line;
  EXPECT_TRUE(Contains(line, kWorkerBars)) << line;  // the workers' own shares
  const ProgressView plain(ProgressStyle::kPlain, stderr, 0);
  EXPECT_TRUE(
      Contains(plain.PlainLine(s, 100e6), "75.0% 1.50 GiB of 2.00 GiB, 95.4 MiB/s, ETA 0:05"));
}

TEST(ProgressViewTest, PlainLine) {
  const ProgressView view(ProgressStyle::kPlain, stderr, 0);
  const std::string line = view.PlainLine(HalfDone(), 100e6);
  EXPECT_TRUE(Contains(line, "50.0%"));
  EXPECT_TRUE(Contains(line, "512 MiB"));
  EXPECT_TRUE(Contains(line, "1.00 GiB"));
  EXPECT_TRUE(Contains(line, "95.4 MiB/s"));
  EXPECT_TRUE(Contains(line, "0:05"));
  EXPECT_EQ(line.find_first_of("\r\n\033"), std::string::npos) << line;
}

TEST(ProgressViewTest, PlainWritesAtMostOneLinePerSecond) {
  MemFile out;
  ProgressView view(ProgressStyle::kPlain, out.get(), 0);
  std::vector<double> printed_at;
  size_t last_size = 0;
  for (int tick = 1; tick <= 45; ++tick) {  // 100 ms ticks: 4.5 s of snapshot time
    const double t = tick * 0.1;
    ProgressSnapshot s = HalfDone(t);
    view.OnProgress(s);
    const std::string text = out.text();
    if (text.size() != last_size) {
      const std::string added = text.substr(last_size);
      EXPECT_EQ(added.back(), '\n');
      EXPECT_EQ(added.find('\n'), added.size() - 1) << "more than one line at once";
      printed_at.push_back(t);
      last_size = text.size();
    }
  }
  ASSERT_GE(printed_at.size(), 4u) << "about one line a second over 4.5 s";
  ASSERT_LE(printed_at.size(), 5u);
  for (size_t i = 1; i < printed_at.size(); ++i) {
    EXPECT_GE(printed_at[i] - printed_at[i - 1], 1.0 - 1e-9) << i;
  }
}

TEST(ProgressViewTest, BarRedrawsInPlace) {
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 100);
  view.OnProgress(HalfDone(1));
  view.OnProgress(HalfDone(1.1));
  const std::string text = out.text();
  EXPECT_EQ(text.find('\n'), std::string::npos);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text[0], '\r');
}

// TERM=dumb: the bar without escape sequences, each line drawn over the last from its start (a
// line shorter than the last, after the window narrowed, is padded with spaces), and a message's
// line emptied with spaces.
TEST(ProgressViewTest, WithoutEscapesTheBarIsDrawnOverWithSpaces) {
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 100, false);
  view.OnProgress(HalfDone(1));
  const size_t first = out.text().size();  // "\r" and the line
  view.OnProgress(HalfDone(1.1));
  EXPECT_EQ(out.text().size(), 2 * first) << "the same width, drawn over";
  view.BeforeMessage();
  EXPECT_EQ(out.text().substr(2 * first), "\r" + std::string(first - 1, ' ') + "\r");
  ProgressSnapshot done = HalfDone(2);
  done.done = done.planned;
  view.OnFinish(done, true);
  const std::string text = out.text();
  EXPECT_EQ(text.find('\033'), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("100.0%"), std::string::npos);
}

TEST(ProgressViewTest, TermDumbOrNoTermHasNoEscapes) {
  const char* saved = getenv("TERM");
  const std::string keep = saved == nullptr ? "" : saved;
  setenv("TERM", "xterm-256color", 1);
  EXPECT_TRUE(TerminalHasEscapes());
  setenv("TERM", "dumb", 1);
  EXPECT_FALSE(TerminalHasEscapes());
  setenv("TERM", "", 1);
  EXPECT_FALSE(TerminalHasEscapes());
  unsetenv("TERM");
  EXPECT_FALSE(TerminalHasEscapes());
  if (saved != nullptr) setenv("TERM", keep.c_str(), 1);
}

TEST(ProgressViewTest, BarFailurePrintsOnlyANewline) {
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 100);
  view.OnProgress(HalfDone(1));
  const size_t before = out.text().size();
  view.OnFinish(HalfDone(1.2), false);
  EXPECT_EQ(out.text().substr(before), "\n");
}

// A bar drawn half way, then the copy's end drawn.
void DrawACopy(ProgressView* view) {
  ProgressSnapshot s = HalfDone(2);
  view->OnProgress(s);
  s.done = s.planned;
  view->OnFinish(s, true);
}

TEST(ProgressViewTest, BarSuccessEndsTheLine) {
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 100);
  DrawACopy(&view);
  const std::string text = out.text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_TRUE(Contains(text, "100.0%"));
}

// Plain lines leave the last word to the job's summary line, which follows them.
TEST(ProgressViewTest, PlainLeavesTheEndToTheSummary) {
  MemFile out;
  ProgressView view(ProgressStyle::kPlain, out.get(), 0);
  ProgressSnapshot s = HalfDone(2);
  s.done = s.planned;
  view.OnFinish(s, true);
  EXPECT_EQ(out.text(), "");
}

// A step after the copy is named before its bar, within the width.
TEST(ProgressViewTest, AStepsLineNamesIt) {
  ProgressSnapshot s;
  s.total = 1024 * kMiB;
  s.done = {256 * kMiB};
  s.planned = {s.total};
  s.elapsed = 1;
  s.phase = "verifying";
  for (const int columns : {40, 80, 132}) {
    const std::string line = ProgressView(ProgressStyle::kBar, stderr, columns).BarLine(s, 256e6);
    EXPECT_EQ(line.rfind("verifying ", 0), 0u) << line;
    EXPECT_TRUE(Contains(line, "25.0%")) << line;
    EXPECT_TRUE(Contains(line, "ETA")) << line;
    EXPECT_LE(static_cast<int>(line.size()), columns - 3) << line;
  }
  EXPECT_TRUE(Contains(ProgressView(ProgressStyle::kPlain, stderr, 0).PlainLine(s, 256e6),
                       "pcopy: verifying  25.0% 256 MiB of 1.00 GiB"));
}

// "verifying" half done, drawn: its first frame comes a tenth of a second into the step.
void DrawHalfAStep(ProgressView* view) {
  view->OnPhase("verifying", 0, 100 * kMiB);
  usleep(150 * 1000);
  view->OnPhase("verifying", 50 * kMiB, 100 * kMiB);
}

// A step long enough to be drawn keeps its last frame, on a line of its own after the copy's
// (no blank line between); one too short to be drawn leaves nothing.
TEST(ProgressViewTest, AStepKeepsItsLastFrameOnlyWhenItWasDrawn) {
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 100);
  DrawACopy(&view);
  const size_t copied = out.text().size();
  view.OnPhase("syncing", 0, 100 * kMiB);
  view.OnPhase("syncing", 100 * kMiB, 100 * kMiB);
  EXPECT_EQ(out.text().size(), copied) << "a step of no time is not drawn";
  DrawHalfAStep(&view);
  view.OnPhase("verifying", 100 * kMiB, 100 * kMiB);
  const std::string text = out.text().substr(copied);
  EXPECT_EQ(text.find("\n\n"), std::string::npos) << text;
  EXPECT_TRUE(Contains(text, "verifying [")) << text;
  EXPECT_TRUE(Contains(text, " 50.0%")) << text;
  EXPECT_TRUE(Contains(text, "100.0% 100 MiB/100 MiB")) << text;
  EXPECT_TRUE(Contains(text, " in 0:00")) << text;
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find("syncing"), std::string::npos) << text;
}

// A step cut short (Ctrl-C while verifying): its last frame stays, ended, for the error to follow
// on the next line, as a copy's bar does; a step never drawn leaves nothing.
TEST(ProgressViewTest, AStepCutShortKeepsItsLastFrame) {
  MemFile out;
  ProgressView view(ProgressStyle::kBar, out.get(), 100);
  DrawACopy(&view);
  const size_t copied = out.text().size();
  view.OnPhase("syncing", 0, 100 * kMiB);
  view.OnStepCut();
  EXPECT_EQ(out.text().size(), copied);
  DrawHalfAStep(&view);
  view.OnStepCut();
  const std::string text = out.text().substr(copied);
  EXPECT_TRUE(Contains(text, "verifying [")) << text;
  EXPECT_TRUE(Contains(text, " 50.0%")) << text;
  EXPECT_EQ(text.back(), '\n') << text;
  view.BeforeMessage();  // nothing left to erase
  EXPECT_EQ(out.text().substr(copied), text);
}

// Standard input: no total until it ends, so no percent, bar or ETA; the bytes, rate and time.
TEST(ProgressViewTest, AStreamShowsBytesRateAndTime) {
  ProgressSnapshot s;
  s.total_known = false;
  s.total = 300 * kMiB;
  s.done = {300 * kMiB};
  s.planned = {s.total};
  s.elapsed = 3;
  const ProgressView view(ProgressStyle::kBar, stderr, 80);
  EXPECT_EQ(view.BarLine(s, 100 * kMiB), "300 MiB 100 MiB/s 0:03");
  EXPECT_EQ(view.BarLine(s, 100 * kMiB, true), "300 MiB 100 MiB/s in 0:03");
  EXPECT_EQ(ProgressView(ProgressStyle::kBar, stderr, 15).BarLine(s, 1), "300 MiB 0:03");
  EXPECT_EQ(ProgressView(ProgressStyle::kPlain, stderr, 0).PlainLine(s, 100 * kMiB),
            "pcopy: 300 MiB so far, 100 MiB/s, 0:03");
}

// At 24 columns a step's name gives way to its percent and time.
TEST(ProgressViewTest, AStepsNameGivesWayOnANarrowTerminal) {
  ProgressSnapshot s;
  s.total = 100;
  s.done = {100};
  s.planned = {100};
  s.elapsed = 1;
  s.phase = "verifying";
  const std::string line = ProgressView(ProgressStyle::kBar, stderr, 24).BarLine(s, 100, true);
  EXPECT_LE(line.size(), 21u) << line;
  EXPECT_TRUE(Contains(line, "100.0% in 0:01")) << line;
}

// 99.96% is not "100.0%" beside a bar with a cell still empty: tenths are rounded down.
TEST(ProgressViewTest, APercentIsRoundedDown) {
  ProgressSnapshot s = HalfDone();
  s.done = {256 * kMiB, 256 * kMiB, 256 * kMiB, 256 * kMiB - 400 * 1024};
  const std::string line = ProgressView(ProgressStyle::kBar, stderr, 80).BarLine(s, 1e8);
  EXPECT_TRUE(Contains(line, " 99.9% ")) << line;
  EXPECT_FALSE(Contains(line, "100.0%")) << line;
}

// The workers' form never widens again at the same width: the last frame's shorter tail ("in"
// for "ETA", the average rate) does not turn one character each into wide bars.
TEST(ProgressViewTest, TheWorkersFormStaysAsNarrowAsItWas) {
  ProgressSnapshot s;
  s.total = 1024 * kMiB;
  s.planned = {512 * kMiB, 512 * kMiB};
  s.done = {500 * kMiB, 500 * kMiB};
  s.elapsed = 3;
  for (int columns = 60; columns <= 132; ++columns) {
    ProgressView view(ProgressStyle::kBar, stderr, columns);
    const std::string running = view.BarLine(s, 123456789.0);
    const std::string last = view.BarLine(s, 3e8, true);
    EXPECT_EQ(running.find(" |") != std::string::npos, last.find(" |") != std::string::npos)
        << columns << " columns:\n"
        << running << "\n"
        << last;
    if (running.find('|') == std::string::npos && running.find(" #####") == std::string::npos) {
      EXPECT_EQ(last.find(" ######"), std::string::npos) << columns << ": " << last;
    }
  }
}

// A copy over before the first tick: its only frame is drawn at the terminal's width, not at the
// 80 columns assumed before the terminal was asked.
TEST(ProgressViewTest, TheLastFrameFitsTheTerminal) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const int terminal = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(terminal, 0);
  for (const int width : {40, 132}) {
    winsize size{};
    size.ws_col = static_cast<unsigned short>(width);
    size.ws_row = 24;
    ASSERT_EQ(ioctl(terminal, TIOCSWINSZ, &size), 0);
    MemFile out;
    ProgressView view(ProgressStyle::kBar, out.get(), 0, true, terminal);
    ProgressSnapshot s = HalfDone();
    s.done = s.planned;
    view.OnFinish(s, true);
    const std::string drawn = out.text();  // "\r" + line + "\033[K\n"
    ASSERT_GE(drawn.size(), 5u);
    EXPECT_LE(drawn.size() - 5, static_cast<size_t>(width - 3)) << drawn;
    if (width == 132) {
      EXPECT_TRUE(Contains(drawn, " ###### ###### ###### ######")) << drawn;
    }
  }
  close(terminal);
  close(master);
}

TEST(ProgressViewTest, TerminalColumnsOfANonTerminal) {
  FILE* f = tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(TerminalColumns(fileno(f)), 0);
  fclose(f);
  EXPECT_EQ(TerminalColumns(-1), 0);
}

}  // namespace
}  // namespace pcopy
