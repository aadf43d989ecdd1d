// lab.h: pcopy-bench, the benchmark lab. Shared types of its parts: lab_main.cc (the
// matrix, the rounds, the timing), lab_system.cc (preparing and running a timed command),
// ceilings.cc (what this machine can do at most), lab_report.cc (tables, CSV, JSON, the plot)
// and scoreboard.h (default pcopy against its baselines in every regime). Benchmarks never run
// under CTest; the test suite only smoke-runs `pcopy-bench --quick` and `--scoreboard --quick`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lab {

inline constexpr const char* kPythonTool = "python 2-process";

// One thing timed each round: a baseline command or one pcopy configuration.
struct Tool {
  std::string name;               // as shown in the tables
  std::vector<std::string> argv;  // SOURCE and DEST are appended
  bool is_pcopy = false;
  std::string strategy;                 // pcopy only
  unsigned jobs = 0;                    // pcopy only
  std::string chunk;                    // pcopy only
  std::string method;                   // pcopy only
  std::string buffer;                   // pcopy only: a --buffer-size, or "auto" for none
  std::vector<double> seconds;          // one per round that succeeded
  std::vector<double> ratio_to_cp;      // cp's time / this tool's time, same round
  std::vector<double> ratio_to_python;  // the same against the classic Python exercise
  int failures = 0;
};

struct Ceilings {
  double memcpy_gbps = 0;        // one thread copying a warm buffer
  double direct_read_gbps = 0;   // O_DIRECT reads of the source file
  double direct_write_gbps = 0;  // O_DIRECT writes of a new file in the directory
};

struct Conditions {
  uint64_t size = 0;
  int rounds = 0;
  bool cold = false;  // caches dropped before each run
  bool fsync = false;
  // How the memory the destination's page cache comes from was prepared (README "Benchmarks"):
  // "reused": freed by removing the previous copy just before the run; "fresh": freed `settle`
  // seconds before the run; "prefault": SIZE of anonymous memory touched and freed just before.
  std::string memory = "reused";
  double settle = 0;
  double slow_worker = 1;
  std::string dir;
};

Ceilings MeasureCeilings(const std::string& dir, const std::string& source, uint64_t size);

double Median(std::vector<double> v);

// lab_system.cc: preparing and running one timed command.
// Runs argv (looked up in PATH, no shell), stdout to stdout_path if not empty; the exit code,
// or -1 if it could not start or was killed.
int RunCommand(const std::vector<std::string>& argv, const std::string& stdout_path);
void ReadThrough(const std::string& path);  // reads the file once: its pages are then cached
void SyncFs(const std::string& dir);        // flushes the file system's dirty pages
// Touches `bytes` of new anonymous memory and frees it (--memory prefault).
void Prefault(uint64_t bytes);
bool CanDropCaches();  // whether /proc/sys/vm/drop_caches may be written (root)
bool DropCaches();     // sync, then drops the page cache, dentries and inodes; false if refused

// Writes results.csv, results.json, results.md and, if gnuplot is installed, throughput.png
// into out_dir, and prints the Markdown table. Returns false if a file could not be written.
bool Report(const std::vector<Tool>& tools, const Ceilings& ceilings, const Conditions& cond,
            const std::string& out_dir);

bool WriteText(const std::string& path, const std::string& text);  // false if not written
// Writes out_dir/NAME.dat and NAME.gp and runs gnuplot, whose script writes NAME.png; prints
// what happened. False if gnuplot is not installed or failed.
bool Gnuplot(const std::string& out_dir, const std::string& name, const std::string& data,
             const std::string& script);

}  // namespace lab
