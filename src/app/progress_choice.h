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

// Whether MakeProgress draws a bar (which the copy's summary line on stderr then follows).
bool DrawsBar(const Options& o, const Console& console);

}  // namespace pcopy
