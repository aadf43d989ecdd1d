// read_to_end.h: the copy of a SOURCE whose size is unknown (procfs and sysfs files report 0), 0,
// or standard input ('-'): read once, to its end, by this process, into the temporary; --verify
// then compares the copy with the digests of what was read, since such a SOURCE may not read the
// same twice. Parent only.
#pragma once

#include <cstdio>

#include "app/options.h"
#include "app/outcome.h"
#include "base/status.h"
#include "exec/executor.h"
#include "os/signal_guard.h"
#include "os/source_file.h"
#include "os/sys_calls.h"

namespace pcopy {

// Fills report's bytes, method and (with --verify or --print-digest) digest; -v lines go to out.
// A terminating signal taken through signals ends it with Status::Interrupted. view (may be
// null) is shown the copy (its total unknown until the end) and --verify's sync and comparison.
Status CopyReadToEnd(const Options& o, const SysCalls& sys, const SourceFile& src, int temp_fd,
                     SignalGuard& signals, FILE* out, CopyReport* report,
                     ProgressObserver* view = nullptr);

}  // namespace pcopy
