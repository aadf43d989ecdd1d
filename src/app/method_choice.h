// method_choice.h: what --method auto becomes for one SOURCE and DEST, and why.
#pragma once

#include <cstdio>
#include <string>

#include "app/options.h"
#include "os/sys_calls.h"

namespace pcopy {

// o.method unless it is auto; then copy_file_range+pread where both files are on one file system
// type that can share extents or copy on the server, pread elsewhere. With verbose, says which
// and why on one line.
Method ChooseMethod(const Options& o, const SysCalls& sys, int src_fd, int dst_fd, FILE* verbose);

// Whether --method auto, where it chooses pread/pwrite, lets each worker tune its write size
// (copy/write_size_tuner.h): not when --buffer-size names one, nor under --bwlimit, whose pacing
// sets the size of each step and the pace of every chunk.
bool TunesWriteSize(const Options& o);

// Whether this copy writes SOURCE's bytes into DEST's blocks itself, so that DEST's file system
// (the one holding dir) needs room for all of them. Not where copy_file_range may share extents
// (a reflink on xfs, btrfs...) or copy on the server: that takes no room here, and reserving it
// would defeat it.
bool WritesEveryByte(const Options& o, const SysCalls& sys, int src_fd, const std::string& dir);

}  // namespace pcopy
