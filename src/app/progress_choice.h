// progress_choice.h: which progress display a copy gets from its options and its terminal. Pure
// choice; the display itself is ProgressView's or JsonProgress's.
#pragma once

#include <memory>

#include "app/options.h"
#include "app/outcome.h"
#include "exec/executor.h"

namespace pcopy {

// How progress is shown for these options: a bar on a terminal, plain lines, JSON lines, or
// nothing (nullptr).
std::unique_ptr<ProgressObserver> MakeProgress(const Options& o, const Console& console);

// Whether MakeProgress shows progress for people (a bar or plain lines), which the copy's summary
// line on stderr then ends. Not JSON, whose "end" line is its summary, and not nothing: a copy
// shown no progress (stderr not a terminal under --progress auto, --progress none, -q) is silent
// on success, as cp is, so that cron mails no line and a script's 2>log stays empty.
bool ShowsProgress(const Options& o, const Console& console);

}  // namespace pcopy
