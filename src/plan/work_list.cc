#include "plan/work_list.h"

#include <algorithm>

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

WorkList SplitUnits(const WorkList& list, uint64_t piece) {
  if (piece == 0) return list;
  WorkList out;
  out.workers = list.workers;
  out.bytes = list.bytes;
  const auto cut = [&](size_t from, size_t to) {
    for (size_t k = from; k < to; ++k) {
      const WorkUnit& u = list.units[k];
      for (uint64_t at = 0; at < u.length || (u.length == 0 && at == 0); at += piece) {
        out.units.push_back(WorkUnit{u.file, u.offset + at, std::min(piece, u.length - at)});
        if (u.length == 0) break;
      }
    }
  };
  if (list.shared()) {
    cut(0, list.units.size());
    return out;
  }
  for (size_t w = 0; w + 1 < list.first.size(); ++w) {
    out.first.push_back(out.units.size());
    cut(list.first[w], list.first[w + 1]);
  }
  out.first.push_back(out.units.size());
  return out;
}

}  // namespace pcopy
