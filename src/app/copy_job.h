// copy_job.h: one whole copy, SOURCE to DEST, as the command line asks for it.
//
// Opens and sizes the source, resolves DEST, refuses a copy onto itself, creates the temporary,
// plans, runs the workers, and publishes the result with one rename. The destination is either
// untouched or complete: every failure and every SIGINT/SIGTERM/SIGHUP (taken through the
// caller's SignalGuard) removes the temporary and leaves DEST as it was. Prints only progress and
// -v lines; the error itself is returned for main to print.
#pragma once

#include <sys/types.h>

#include <memory>

#include "app/options.h"
#include "app/outcome.h"
#include "app/progress_choice.h"
#include "app/progress_view.h"
#include "os/signal_guard.h"
#include "os/sys_calls.h"

namespace pcopy {

CopyOutcome RunCopy(const Options& options, SignalGuard& signals, const Console& console,
                    const SysCalls& sys = RealSysCalls());

}  // namespace pcopy
