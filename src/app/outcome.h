// outcome.h: what every job of the command line returns to main, and where it prints.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "base/status.h"

namespace pcopy {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Console {
  // What a script parses: cp -v's 'a' -> 'b' lines, digest lines, --check and --compare results.
  FILE* out = stdout;
  // Progress, errors, warnings, and -v's diagnostics (plan, method, summary).
  FILE* err = stderr;
  // The descriptors under out and err where fileno cannot tell (main's streams, which write
  // through the signal guard: os/console_stream.h); -1: fileno(out), fileno(err).
  int out_fd = -1;
  int err_fd = -1;
  int OutFd() const { return out_fd >= 0 ? out_fd : fileno(out); }
  int ErrFd() const { return err_fd >= 0 ? err_fd : fileno(err); }
};

struct CopyReport {
  std::string dest_path;  // the file that was written
  uint64_t bytes = 0;
  double seconds = 0;
  size_t workers = 0;                // 0: copied by the parent (size unknown or 0, or small)
  std::string method;                // what actually moved the bytes, in words
  bool skipped = false;              // -n found DEST already there
  std::vector<std::string> retried;  // workers replaced during the copy, one line each
  std::string digest;  // the content's tree digest, when --verify or --print-digest computed it
  std::vector<std::string> notes;  // lines for stderr after the error (a partial copy kept)
};

struct CopyOutcome {
  Status status;
  int exit_code = kExitOk;
  CopyReport report;
};

// A failed outcome (exit 1) for an exception: "out of memory" for std::bad_alloc (what ==
// nullptr), "unexpected error: WHAT" otherwise. Never throws.
CopyOutcome FailedWithException(const char* what) noexcept;

// Runs a job (RunCopy, RunDemo, RunCompare, RunChecksum, RunCheck) and turns an exception that
// escapes it (std::bad_alloc above all: the library allocates through new and the standard
// containers) into a failed outcome. Unwinding to this catch runs the destructors that remove the
// temporary and stop the workers, which an uncaught exception (std::terminate) would not promise.
template <typename Job>
CopyOutcome RunGuarded(Job&& job) noexcept {
  try {
    return job();
  } catch (const std::bad_alloc&) {
    return FailedWithException(nullptr);
  } catch (const std::exception& e) {
    return FailedWithException(e.what());
  } catch (...) {
    return FailedWithException("an exception of unknown type");
  }
}

}  // namespace pcopy
