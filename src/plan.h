// plan.h: which bytes each worker copies. A pure function of the file size, the number of jobs,
// the chunk size and the strategy; it knows nothing of processes or files, so executors other than
// forked workers can run the same plan.
#pragma once

#include <cstdint>
#include <vector>

namespace pcopy {

enum class Strategy { kContiguous };

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t end() const { return offset + length; }
  bool operator==(const ByteRange&) const = default;
};

struct WorkerPlan {
  std::vector<ByteRange> ranges;  // in the order the worker copies them; none empty
  uint64_t bytes() const;
};

struct CopyPlan {
  uint64_t size = 0;
  Strategy strategy = Strategy::kContiguous;
  std::vector<WorkerPlan> workers;  // never more than there is work for; none without ranges
};

// Range boundaries fall on multiples of this (or of the chunk size, if smaller) so that no two
// workers write into the same page of the destination's page cache.
inline constexpr uint64_t kPlanAlignment = 4096;

// contiguous: at most ceil(size / chunk_size) workers, each one range of near-equal length, so
// -j 2 copies the lower and the upper half. A size of 0 gives no workers.
CopyPlan MakePlan(uint64_t size, unsigned jobs, uint64_t chunk_size, Strategy strategy);

}  // namespace pcopy
