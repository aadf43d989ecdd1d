// check_job.h: the checking jobs of the command line: --compare A B and --checksum FILE.
// They stand on exec/parallel_digest.h's parallel leaf digests.
#pragma once

#include "app/options.h"
#include "app/outcome.h"
#include "os/signal_guard.h"

namespace pcopy {

// Exit codes of --compare, as cmp(1): 0 identical, 1 different, 2 trouble.
inline constexpr int kCompareDifferent = 1;
inline constexpr int kCompareTrouble = 2;

// --compare A B and --checksum FILE. They wait for their workers only through signals: a
// SIGINT, SIGTERM or SIGHUP stops them (workers killed and reaped) with exit 128 + N.
CopyOutcome RunCompare(const Options& o, SignalGuard& signals, const Console& console);
CopyOutcome RunChecksum(const Options& o, SignalGuard& signals, const Console& console);

}  // namespace pcopy
