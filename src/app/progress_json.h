// progress_json.h: --progress json, the machine interface to a copy's progress.
//
// One JSON object per line on the error stream: about once a second while the copy runs, and
// once at the end, when "type" is "end" and "outcome" says how it ended. Fields (README
// "Progress as JSON" documents them with an example):
//   type         "progress" or "end"
//   elapsed      seconds since the workers started
//   bytes_done   bytes written so far (a retried piece counts again)
//   bytes_total  bytes to copy, as far as known: a tree's total grows while it is walked; null
//                for standard input, whose size is known at its end only
//   files_done   files (and links, special files) copied
//   files_total  files found so far
//   rate         bytes per second (whole) over the last second; in "end", the run's average
//   eta          seconds left at that rate, or null when unknown
//   errors       entries reported and not copied
//   workers      one object per worker: "bytes" written, "file" being copied (null if idle)
//   outcome      in "end" only: "copied", "failed" or "interrupted"
// The steps after the copy (--fsync's and --verify's sync, --verify's comparison, --print-digest)
// follow "end" as lines of "type" "phase", about once a second and once when each completes:
//   phase        "syncing", "verifying" or "digesting"
//   elapsed      seconds since the step began
//   bytes_done, bytes_total   the step's own bytes
// Names are JSON strings: control characters escaped, and bytes that are not UTF-8 written as
// \u00XX (one per byte, so two names that differ stay different).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "exec/executor.h"

namespace pcopy {

class JsonProgress final : public ProgressObserver {
 public:
  explicit JsonProgress(FILE* out) : out_(out) {}
  void OnProgress(const ProgressSnapshot& snapshot) override;
  void OnFinish(const ProgressSnapshot& snapshot, bool ok) override;
  void OnPhase(const char* phase, uint64_t done, uint64_t total) override;
  // The line for a snapshot; exposed for tests.
  static std::string Line(const ProgressSnapshot& snapshot, double rate, const char* outcome);

 private:
  FILE* out_;
  double last_time_ = -1;
  uint64_t last_bytes_ = 0;
  std::string phase_;  // the step being told, its start, and when it was last told
  std::chrono::steady_clock::time_point phase_start_;
  double phase_written_ = 0;
};

// s as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);

}  // namespace pcopy
