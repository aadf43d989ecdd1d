#include "plan/work_list.h"

namespace pcopy {

uint64_t WorkList::PlannedBytes(size_t w) const {
  if (shared()) return workers == 0 ? 0 : bytes / workers;
  uint64_t total = 0;
  for (size_t k = first[w]; k < first[w + 1]; ++k) total += units[k].length;
  return total;
}

WorkList MakeWorkList(const CopyPlan& plan, uint32_t file) {
  WorkList list;
  list.workers = plan.workers.size();
  list.bytes = plan.size;
  if (plan.self_scheduled()) {
    list.units.reserve(plan.queue.size());
    for (const ByteRange& r : plan.queue) list.units.push_back(WorkUnit{file, r.offset, r.length});
    return list;
  }
  list.first.reserve(plan.workers.size() + 1);
  for (const WorkerPlan& w : plan.workers) {
    list.first.push_back(list.units.size());
    for (const ByteRange& r : w.ranges) list.units.push_back(WorkUnit{file, r.offset, r.length});
  }
  list.first.push_back(list.units.size());
  return list;
}

}  // namespace pcopy
