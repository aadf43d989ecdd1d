// plan.h: which bytes each worker copies, and in which order. A pure function of the file size,
// the number of jobs, the chunk size and the strategy; it knows nothing of processes or files, so
// executors other than forked workers can run the same plan.
#pragma once

#include <cstdint>
#include <vector>

#include "base/byte_range.h"

namespace pcopy {

enum class Strategy { kContiguous, kInterleaved, kDynamic, kGuided };

struct WorkerPlan {
  std::vector<ByteRange> ranges;  // in the order the worker copies them; none empty
  uint64_t bytes() const;
};

struct CopyPlan {
  uint64_t size = 0;  // the bytes the plan copies: the file's size, or its data (extent_plan.h)
  Strategy strategy = Strategy::kContiguous;
  uint64_t chunk_size = 0;  // the chunk size used (raised above the asked one for huge files)
  // One entry per worker process: never more than there is work for. Static strategies
  // (contiguous, interleaved) give every worker its own non-empty ranges.
  std::vector<WorkerPlan> workers;
  // Self-scheduled strategies (dynamic, guided): the chunks in hand-out order; the workers' own
  // ranges are empty and each takes the next chunk here whenever it finishes one.
  std::vector<ByteRange> queue;

  bool self_scheduled() const { return !queue.empty(); }
};

// Range boundaries fall on multiples of this (or of the chunk size, if smaller) so that no two
// workers write into the same page of the destination's page cache.
inline constexpr uint64_t kPlanAlignment = 4096;
// A plan never holds more chunks than this; a smaller chunk size is raised to fit, so that
// --chunk-size 1 on a large file cannot exhaust memory.
inline constexpr uint64_t kMaxChunks = 1ull << 20;

// contiguous:  at most ceil(size / chunk) workers, each one range of near-equal length, so -j 2
//              copies the lower and the upper half.
// interleaved: chunk-size chunks dealt round-robin: chunk i to worker i mod N.
// dynamic:     chunk-size chunks handed out in file order to whichever worker is free.
// guided:      like dynamic, but each chunk is about remaining / (2N), never below the chunk size:
//              large chunks first (few hand-outs), small ones at the end (an even finish).
// A size of 0 gives no workers.
CopyPlan MakePlan(uint64_t size, unsigned jobs, uint64_t chunk_size, Strategy strategy);

}  // namespace pcopy
