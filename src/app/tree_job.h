// tree_job.h: the copy command as cp reads it: SOURCE DEST, SOURCE... DIRECTORY, -t, -T, -r.
//
// One regular file (or block device) to one DEST goes to the single-file copy (copy_job.h), with
// its plan, --verify and --print-digest. Everything else (directories with -r, several sources,
// symlinks and special files recreated with -r) goes to the tree copy (tree/tree_copy.h), after
// cp's checks of the operands: a directory without -r is omitted with cp's message, a directory
// is never copied into itself, a missing SOURCE is reported and the others still copied. Exit
// codes as for one file: 0 all copied, 1 something could not be, 2 bad usage, 128+N on signal N.
#pragma once

#include "app/options.h"
#include "app/outcome.h"
#include "exec/task_runner.h"
#include "os/signal_guard.h"
#include "os/sys_calls.h"

namespace pcopy {

CopyOutcome RunCopyCommand(const Options& options, SignalGuard& signals, const Console& console,
                           const SysCalls& sys = RealSysCalls());

// pcopy-mpi's tree copy (mpi/mpi_tree.h): the same command with runner's workers instead of
// forked ones (--bwlimit then limits each of them), every operand copied as a tree would be: a
// single regular file is the caller's to send to its own copy.
CopyOutcome RunTreeCommand(const Options& options, SignalGuard& signals, const Console& console,
                           TaskRunner* runner);

}  // namespace pcopy
