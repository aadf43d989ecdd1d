// command.h: what pcopy's main runs once the command line is parsed: the job its action names,
// and how the job's outcome is told (its error, its notes, a failed write to standard output) and
// becomes the exit code. Parent only.
#pragma once

#include <functional>
#include <string>

#include "app/options.h"
#include "app/outcome.h"
#include "os/signal_guard.h"

namespace pcopy {

// The copy, tree copy, demo, --compare, --checksum, --check or --discard-partial that cmd asks
// for (not --help or --version, which main prints itself).
CopyOutcome RunAction(const CommandLine& cmd, SignalGuard& signals, const Console& console);

// Prints outcome's error and notes on console.err, and returns the exit code. out_error: the
// errno of a write to console.out that failed (0: none). As cp's close_stdout, such a failure is
// an error, said once: "pcopy: write error on standard output: No space left on device", exit 1.
// A reader that went away (EPIPE) ends it quietly with 141, as SIGPIPE ends sha256sum | head. A
// job ended by a signal keeps its 128 + N: its write was cut short by the signal; so does one
// whose last output was cut short by a signal (signal: the guard's terminating signal, or 0).
int ReportOutcome(const CopyOutcome& outcome, const Console& console, int out_error, int signal);

// Runs job with stdout and stderr as console streams (os/console_stream.h), whose writes wait in
// signals: a reader that stalls cannot keep the command from a signal. Flushes stdout and, when
// report, tells the outcome as ReportOutcome does and returns its exit code; otherwise (an MPI
// rank other than 0, which leaves the telling to rank 0) returns the job's exit code.
int RunOnConsole(SignalGuard& signals, bool report,
                 const std::function<CopyOutcome(const Console&)>& job);

// --help or --version: text on stdout, before any signal guard exists. A write that fails is
// said as cp says it ("write error on standard output: ..."), exit 1; otherwise exit 0.
int PrintToStdout(const std::string& text);

}  // namespace pcopy
