#include "plan/plan.h"

#include <algorithm>

namespace pcopy {
namespace {

uint64_t CeilDiv(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

void PlanContiguous(CopyPlan* plan, uint64_t n) {
  const uint64_t size = plan->size;
  const uint64_t align = std::min(kPlanAlignment, plan->chunk_size);
  uint64_t start = 0;
  for (uint64_t i = 1; i <= n; ++i) {
    // 128-bit product: size * i overflows 64 bits for sizes above 16 EiB / jobs.
    uint64_t end =
        i == n ? size : static_cast<uint64_t>(static_cast<unsigned __int128>(size) * i / n);
    if (i != n) end -= end % align;
    if (end <= start) continue;  // alignment left this worker nothing: fewer workers
    plan->workers.push_back(WorkerPlan{{ByteRange{start, end - start}}});
    start = end;
  }
}

void PlanInterleaved(CopyPlan* plan, uint64_t n) {
  plan->workers.resize(n);
  uint64_t i = 0;
  for (uint64_t offset = 0; offset < plan->size; offset += plan->chunk_size, ++i) {
    const uint64_t length = std::min(plan->chunk_size, plan->size - offset);
    plan->workers[i % n].ranges.push_back(ByteRange{offset, length});
  }
}

void PlanDynamic(CopyPlan* plan, uint64_t n) {
  plan->workers.resize(n);
  for (uint64_t offset = 0; offset < plan->size; offset += plan->chunk_size) {
    plan->queue.push_back(ByteRange{offset, std::min(plan->chunk_size, plan->size - offset)});
  }
}

void PlanGuided(CopyPlan* plan, uint64_t n) {
  plan->workers.resize(n);
  const uint64_t unit = plan->chunk_size;
  for (uint64_t offset = 0; offset < plan->size;) {
    const uint64_t remaining = plan->size - offset;
    const uint64_t length =
        std::min(remaining, std::max<uint64_t>(1, remaining / (2 * n) / unit) * unit);
    plan->queue.push_back(ByteRange{offset, length});
    offset += length;
  }
}

}  // namespace

uint64_t WorkerPlan::bytes() const {
  uint64_t total = 0;
  for (const ByteRange& r : ranges) total += r.length;
  return total;
}

CopyPlan MakePlan(uint64_t size, unsigned jobs, uint64_t chunk_size, Strategy strategy) {
  CopyPlan plan;
  plan.size = size;
  plan.strategy = strategy;
  plan.chunk_size = std::max<uint64_t>(chunk_size, 1);
  if (CeilDiv(size, plan.chunk_size) > kMaxChunks) {
    // Raised to fit kMaxChunks; once that is a page or more, to a multiple of a page, so that
    // boundaries stay page-aligned.
    plan.chunk_size = CeilDiv(size, kMaxChunks);
    if (plan.chunk_size > kPlanAlignment) {
      plan.chunk_size = CeilDiv(plan.chunk_size, kPlanAlignment) * kPlanAlignment;
    }
  }
  if (size == 0) return plan;
  const uint64_t n = std::clamp<uint64_t>(jobs, 1, CeilDiv(size, plan.chunk_size));
  switch (strategy) {
    case Strategy::kContiguous:
      PlanContiguous(&plan, n);
      break;
    case Strategy::kInterleaved:
      PlanInterleaved(&plan, n);
      break;
    case Strategy::kDynamic:
      PlanDynamic(&plan, n);
      break;
    case Strategy::kGuided:
      PlanGuided(&plan, n);
      break;
  }
  return plan;
}

}  // namespace pcopy
