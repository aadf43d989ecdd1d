#include "plan/extent_plan.h"

#include <algorithm>

namespace pcopy {
namespace {

// Maps offsets of the extents laid end to end ("packed" offsets) back onto file offsets.
class PackedExtents {
 public:
  explicit PackedExtents(const std::vector<ByteRange>& extents) : extents_(extents) {
    starts_.reserve(extents.size());
    uint64_t packed = 0;
    for (const ByteRange& e : extents) {
      starts_.push_back(packed);
      packed += e.length;
    }
  }

  // Appends to out the file ranges holding packed bytes [r.offset, r.end()), one per extent
  // they touch, in order.
  void Map(const ByteRange& r, std::vector<ByteRange>* out) const {
    size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), r.offset) -
                                   starts_.begin()) -
               1;
    for (uint64_t packed = r.offset, left = r.length; left > 0; ++i) {
      const uint64_t into = packed - starts_[i];
      const uint64_t take = std::min(left, extents_[i].length - into);
      out->push_back(ByteRange{extents_[i].offset + into, take});
      packed += take;
      left -= take;
    }
  }

  std::vector<ByteRange> MapAll(const std::vector<ByteRange>& ranges) const {
    std::vector<ByteRange> mapped;
    mapped.reserve(ranges.size());
    for (const ByteRange& r : ranges) Map(r, &mapped);
    return mapped;
  }

 private:
  const std::vector<ByteRange>& extents_;
  std::vector<uint64_t> starts_;  // the packed offset of each extent
};

}  // namespace

std::vector<ByteRange> AlignExtents(const std::vector<ByteRange>& extents, uint64_t file_size) {
  std::vector<ByteRange> aligned;
  for (const ByteRange& e : extents) {
    const uint64_t end = std::min(file_size, e.end());
    if (end <= e.offset) continue;
    const uint64_t start = e.offset - e.offset % kPlanAlignment;
    const uint64_t up =
        end % kPlanAlignment == 0 ? end : end - end % kPlanAlignment + kPlanAlignment;
    const uint64_t stop = std::min(file_size, up);
    if (!aligned.empty() && start <= aligned.back().end()) {
      aligned.back().length = std::max(aligned.back().end(), stop) - aligned.back().offset;
    } else {
      aligned.push_back(ByteRange{start, stop - start});
    }
  }
  return aligned;
}

CopyPlan MakeExtentPlan(const std::vector<ByteRange>& extents, uint64_t file_size, unsigned jobs,
                        uint64_t chunk_size, Strategy strategy) {
  const std::vector<ByteRange> aligned = AlignExtents(extents, file_size);
  uint64_t data = 0;
  for (const ByteRange& e : aligned) data += e.length;
  CopyPlan plan = MakePlan(data, jobs, chunk_size, strategy);
  if (aligned.size() == 1 && aligned[0].offset == 0) return plan;  // packed offsets are file's
  const PackedExtents packed(aligned);
  for (WorkerPlan& w : plan.workers) w.ranges = packed.MapAll(w.ranges);
  plan.queue = packed.MapAll(plan.queue);
  return plan;
}

WorkList MakeExtentWorkList(const std::vector<ByteRange>& extents, uint64_t file_size,
                            unsigned jobs, uint64_t chunk_size, Strategy strategy, uint32_t file) {
  return MakeWorkList(MakeExtentPlan(extents, file_size, jobs, chunk_size, strategy), file);
}

}  // namespace pcopy
