// stdout_copy.h: a copy whose DEST is '-': SOURCE (a file, a device, or standard input) written to
// standard output, in order, by this process, as cat would.
//
// There is no temporary and nothing to publish: what the reader got is all there is. The options
// that need a file to check, keep or replace (--verify, --resume, -p, -n, -u, --print-digest,
// --reflink=always) are refused when the command line is read (options.cc). -v's lines all go to
// stderr: stdout is the data. A reader that goes away (EPIPE) ends the copy quietly with exit 141,
// as SIGPIPE ends cat in a pipeline; a SIGINT, SIGTERM or SIGHUP ends it with 128 + N, whatever
// the reader is doing (os/stream_io.h). Parent only; no worker, no /dev/shm object.
#pragma once

#include "app/options.h"
#include "app/outcome.h"
#include "os/signal_guard.h"
#include "os/sys_calls.h"

namespace pcopy {

// The exit code of a copy whose reader went away: 128 + SIGPIPE, what a shell reports for cat.
inline constexpr int kExitBrokenPipe = 141;

CopyOutcome RunCopyToStdout(const Options& options, SignalGuard& signals, const Console& console,
                            const SysCalls& sys = RealSysCalls());

}  // namespace pcopy
