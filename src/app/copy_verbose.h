// copy_verbose.h: what -v prints about one file's copy before and after it runs: the plan, the
// data of a sparse SOURCE, and the methods that moved the bytes, in words.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "app/outcome.h"
#include "base/byte_range.h"
#include "exec/executor.h"
#include "os/page_cache.h"
#include "plan/plan.h"

namespace pcopy {

// "pread/pwrite with 32.00 KiB buffers", "copy_file_range, then pread/pwrite ... (copy_file_range:
// Invalid cross-device link)": every method that moved bytes, in the order they are tried.
std::string DescribeMethod(const ExecResult& r, uint64_t buffer_size);

// A tree's methods (TreeReport::used_methods): "clones (shared extents), then pread/pwrite with
// 32.0 KiB buffers"; "" where the runner could not tell.
std::string DescribeTreeMethods(uint32_t used, const std::vector<WriteSizeReport>& write_sizes,
                                uint64_t buffer_size);

// -v for a SOURCE with holes: how much of it is data, in how many extents.
void PrintSparse(FILE* out, const std::vector<ByteRange>& extents, uint64_t size);

// -v: how much of SOURCE is in the page cache before the copy (os/page_cache.h), so whether it
// is read from memory or from storage, and the read-ahead asked for (bytes; 0: none). Nothing
// where the kernel could not tell.
void PrintCacheShare(FILE* out, const std::optional<CacheShare>& share, uint64_t read_ahead);

// -v: the strategy, the workers and what each is given.
void PrintPlan(FILE* out, const CopyPlan& plan);

// -v after a copy whose workers tuned their write size: one line per worker, with its size at
// the end and its last switch (when, from what, and what decided it); budget is the run's
// ExecConfig::large_write_budget.
void PrintWriteSizes(FILE* out, const std::vector<WriteSizeReport>& reports, uint64_t budget);

// -v's summary: "4 workers"; for pcopy-mpi's ranks "3 ranks", or with -j K > 1 "6 workers on 3
// ranks" (workers: every rank's together).
std::string WorkersPhrase(size_t workers, bool ranks, unsigned per_rank);

// What a single file's summary says besides its CopyReport.
struct CopiedFacts {
  uint64_t data_bytes = 0;     // the bytes this run moved: report.bytes less holes and resumed
  bool resumed = false;        // an earlier run's partial copy was adopted
  uint64_t resumed_bytes = 0;  // what it had made durable (0 is possible)
  bool cloned = false;         // FICLONE made the copy
  bool fsync = false;
  bool verified = false;  // --verify read the copy back and it matched
  bool in_place = false;  // a block device DEST, written in place
};

// The summary of one file's copy, as -v and the bar's last word print it: "copied 1.00 GiB in
// 2.310 s (443 MiB/s) with 2 workers, method ...". The rate is of the data moved: not the holes a
// sparse SOURCE skipped, nor what a resumed copy already had.
std::string DescribeCopied(const CopyReport& r, const CopiedFacts& facts);

// -v for a copy this process makes itself: why no worker is forked.
void PrintInProcess(FILE* out, uint64_t data);

}  // namespace pcopy
