// scoreboard.h: `pcopy-bench --scoreboard`, one command for the question "is pcopy ever slower
// than cp?". Default pcopy (no -j, nothing beyond what the regime needs) against the baseline a
// user would run in each regime (hot, fresh memory, cold, durable, verified, a 4 KiB file), all
// regimes timed in the same shuffled interleaved rounds, so that every ratio is one of two runs
// made moments apart: on this kind of machine runs vary several-fold from minute to minute, and
// only same-round ratios survive that. scoreboard.cc runs it; scoreboard_report.cc writes the
// table, the CSV and the plot. README "Benchmarks" describes every regime.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lab {

// One step of a timed command. Several steps make one command (`cp SRC DST && sync`): each runs
// only if the one before succeeded, and the time covers them all.
struct Step {
  enum Kind { kRun, kDropCaches, kEvictDest } kind = kRun;
  std::vector<std::string> argv;  // kRun: SOURCE and DEST are appended when with_paths
  bool with_paths = true;
};

// What the scoreboard times in a regime, and in which role: every ratio is this contender's time
// over default pcopy's (the baseline's, -j 1's or Python's over pcopy's), so above 1.00x pcopy
// was faster.
struct Contender {
  enum Role { kBaseline, kPcopy, kOneJob, kPython } role = kBaseline;
  std::string name;
  std::vector<Step> steps;
  std::vector<double> seconds;  // one per round, 0 where the run failed or was not made
  int failures = 0;
};

struct Regime {
  enum Prep { kHot, kFresh, kCold } prep = kHot;
  std::string name;     // "hot 1 GiB", with the size that stands in for it under --quick
  uint64_t size = 0;    // bytes copied by one run
  int repetitions = 1;  // copies per timed run (a 4 KiB copy is too short to time alone)
  std::string skipped;  // why the regime was not run; empty if it was
  std::vector<Contender> contenders;  // the baseline first, then default pcopy
};

struct ScoreboardOptions {
  int rounds = 7;
  std::string dir = ".", out = "bench/results", pcopy, python = "python3";
  double settle = 5;  // seconds between removing the previous copy and a fresh-memory run
  bool quick = false;
};

// Runs the scoreboard and writes its report; the exit code for main (0, 1 on a failed run or
// write, 2 on refused conditions, 130 when interrupted). Everything made under o.dir is removed.
int RunScoreboard(const ScoreboardOptions& o);

// scoreboard_report.cc: prints the Markdown table and writes scoreboard.md, scoreboard.csv and,
// if gnuplot is installed, scoreboard.png into out_dir. False if a file could not be written.
bool WriteScoreboard(const std::vector<Regime>& regimes, const std::string& conditions,
                     const std::string& out_dir);

}  // namespace lab
