// tree_copy.h: copying many files and whole directory trees with one pool of forked workers.
//
// The parent walks each source depth-first, one directory read at a time (openat/fdopendir
// relative to its parent's descriptor, so a tree deeper than PATH_MAX works), while the workers
// copy: the walk hands out batches of a directory's small entries and the chunks of its large
// files through one ready queue, so no worker idles while one huge file remains and copying
// starts with the first directory. The queue is bounded, so memory stays bounded whatever the
// size of the tree: a few hundred bytes per entry waiting, one open descriptor per directory
// level being walked or still waiting for its contents.
//
// Directories are created top-down (mode 0700 while they are filled) and get their metadata
// bottom-up, once everything under them is done: a directory's times are set last, so its mtime
// marks it complete. A source directory whose destination does not exist is built under a hidden
// directory beside it (leftovers.h names it) and renamed into place when complete: the new tree
// appears whole, and an interrupted copy leaves nothing. Into an existing directory, every file
// appears whole (new_file.h), one by one. An entry that cannot be copied is reported on the
// error stream and the rest goes on (as cp); --fail-fast stops at the first.
#pragma once

#include <cstdio>
#include <vector>

#include "base/status.h"
#include "exec/executor.h"
#include "os/signal_guard.h"
#include "os/sys_calls.h"
#include "tree/tree_options.h"

namespace pcopy {

// Copies every source. Errors about single entries go to err as they happen and are counted in
// report->errors; the copy goes on. The Status is OK when the copy ran to its end, and otherwise
// says what stopped it: a signal, --fail-fast, a full file system, a worker lost beyond the
// retries. A stopped copy leaves no new tree and no partly written file.
Status CopyTrees(const std::vector<TreeSource>& sources, const TreeOptions& options,
                 SignalGuard& signals, FILE* out, FILE* err, ProgressObserver* observer,
                 TreeReport* report);

}  // namespace pcopy
