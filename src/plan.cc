#include "plan.h"

#include <algorithm>

namespace pcopy {
namespace {

CopyPlan PlanContiguous(uint64_t size, unsigned jobs, uint64_t chunk_size) {
  CopyPlan plan;
  plan.size = size;
  plan.strategy = Strategy::kContiguous;
  if (size == 0) return plan;
  chunk_size = std::max<uint64_t>(chunk_size, 1);
  const uint64_t chunks = size / chunk_size + (size % chunk_size != 0);
  const uint64_t n = std::clamp<uint64_t>(jobs, 1, chunks);
  const uint64_t align = std::min(kPlanAlignment, chunk_size);
  uint64_t start = 0;
  for (uint64_t i = 1; i <= n; ++i) {
    // 128-bit product: size * i overflows 64 bits for sizes above 16 EiB / jobs.
    uint64_t end =
        i == n ? size : static_cast<uint64_t>(static_cast<unsigned __int128>(size) * i / n);
    if (i != n) end -= end % align;
    if (end <= start) continue;  // alignment left this worker nothing: fewer workers
    plan.workers.push_back(WorkerPlan{{ByteRange{start, end - start}}});
    start = end;
  }
  return plan;
}

}  // namespace

uint64_t WorkerPlan::bytes() const {
  uint64_t total = 0;
  for (const ByteRange& r : ranges) total += r.length;
  return total;
}

CopyPlan MakePlan(uint64_t size, unsigned jobs, uint64_t chunk_size, Strategy strategy) {
  switch (strategy) {
    case Strategy::kContiguous:
      break;
  }
  return PlanContiguous(size, jobs, chunk_size);
}

}  // namespace pcopy
