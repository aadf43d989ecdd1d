// check_job.h: --compare A B, as cmp(1) answers it. It stands on exec/parallel_digest.h's
// parallel leaf digests (--checksum and --check: checksum_job.h).
#pragma once

#include "app/options.h"
#include "app/outcome.h"
#include "os/signal_guard.h"

namespace pcopy {

// Exit codes of --compare, as cmp(1): 0 identical, 1 different, 2 trouble.
inline constexpr int kCompareDifferent = 1;
inline constexpr int kCompareTrouble = 2;

// --compare A B. A file whose size is unknown (procfs, sysfs) or 0 is read to its end, in order.
// It waits for its workers only through signals: a SIGINT, SIGTERM or SIGHUP stops it (workers
// killed and reaped) with exit 128 + N.
CopyOutcome RunCompare(const Options& o, SignalGuard& signals, const Console& console);

}  // namespace pcopy
