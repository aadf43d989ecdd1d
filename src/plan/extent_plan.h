// extent_plan.h: the plan of a file whose data lies in extents, with holes between them that no
// worker touches. Pure, as plan.h: the extents come from the caller (os/data_extents.h finds a
// file's with SEEK_DATA / SEEK_HOLE), and nothing here opens a file or starts a process.
//
// The data, not the length, is what the workers share: the extents are laid end to end, the
// plan of plan.h is made over their bytes alone (same strategies, same chunk size, same cap on
// the number of chunks), and each planned range is mapped back onto the file offsets that hold
// those bytes, split where it would span a hole. A file without holes is one extent [0, size),
// and its plan is exactly MakePlan(size, ...).
#pragma once

#include <cstdint>
#include <vector>

#include "base/byte_range.h"
#include "plan/plan.h"
#include "plan/work_list.h"

namespace pcopy {

// The extents rounded outward to kPlanAlignment (an end past file_size clamped to it), merged
// where they then touch or overlap, empty ones dropped: no two workers write into one page of
// DEST, and the few zeros copied from a hole's edge cost less than a page shared. Input sorted
// and disjoint, as DataExtents gives them.
std::vector<ByteRange> AlignExtents(const std::vector<ByteRange>& extents, uint64_t file_size);

// The plan of a file of file_size bytes whose data lies in `extents` (sorted, disjoint, inside
// [0, file_size)): AlignExtents, then MakePlan over the aligned bytes with the workers' ranges
// and the queue's chunks mapped onto file offsets. plan.size is the bytes copied (the aligned
// data); no extent at all gives a plan without workers.
CopyPlan MakeExtentPlan(const std::vector<ByteRange>& extents, uint64_t file_size, unsigned jobs,
                        uint64_t chunk_size, Strategy strategy);

// The work units of one file of a run, as file index `file`: MakeWorkList(MakeExtentPlan(...)).
// A copier of many files calls it once per file with that file's extents.
WorkList MakeExtentWorkList(const std::vector<ByteRange>& extents, uint64_t file_size,
                            unsigned jobs, uint64_t chunk_size, Strategy strategy, uint32_t file);

}  // namespace pcopy
