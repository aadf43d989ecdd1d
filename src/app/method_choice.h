// method_choice.h: what --method auto becomes for one SOURCE and DEST, and why.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "app/options.h"
#include "os/page_cache.h"
#include "os/sys_calls.h"

namespace pcopy {

// o.method unless it is auto; then copy_file_range+pread where both files are on one file system
// type that can share extents or copy on the server, pread elsewhere. With verbose, says which
// and why on one line.
// untuned: why this copy keeps a fixed write size where the options would let it tune (see
// WriteSizeRule), or nullptr; -v says it.
Method ChooseMethod(const Options& o, const SysCalls& sys, int src_fd, int dst_fd, FILE* verbose,
                    const char* untuned = nullptr);

// Whether --method auto, where it chooses pread/pwrite, lets each worker tune its write size
// (copy/write_size_tuner.h): not when --buffer-size names one, nor under --bwlimit, whose pacing
// sets the size of each step and the pace of every chunk.
bool TunesWriteSize(const Options& o);

// The share of the data to copy that is in the page cache: of the data, not of the length, so
// that a sparse SOURCE whose data is all cached counts as cached. Where the kernel cannot tell
// (no share), SOURCE counts as cached: the tuner then falls back on its own if it must.
double CachedFraction(const std::optional<CacheShare>& cached, uint64_t data);

// With --method auto, a SOURCE mostly out of the page cache is read ahead by its workers
// (ExecConfig::read_ahead, bytes); 0 for none.
uint64_t ColdReadAhead(const Options& o, double cached_fraction);

// Why a copy of one file whose options let it tune keeps writing buffer_size, in words, or
// nullptr where it tunes. Measured (README "Defaults"): a SOURCE mostly on storage is read at the
// disk's pace, and larger writes there only risk their delayed cost; past 2 GiB of data the
// larger writes of the first GiB gained nothing and brought the slowest runs.
const char* UntunedBecause(const Options& o, double cached_fraction, uint64_t data);

// Whether this copy writes SOURCE's bytes into DEST's blocks itself, so that DEST's file system
// (the one holding dir) needs room for all of them. Not where copy_file_range may share extents
// (a reflink on xfs, btrfs...) or copy on the server: that takes no room here, and reserving it
// would defeat it.
bool WritesEveryByte(const Options& o, const SysCalls& sys, int src_fd, const std::string& dir);

}  // namespace pcopy
