// work_list.h: a plan flattened into work units that any executor can run: forked workers
// today, MPI ranks later, one file or many.
//
// A unit is {file index, offset, length}. Every unit appears once in `units`, and its index there
// is its identity: the executor's per-chunk ledger (exec/ledger.h) keeps one state per index, and
// a resume journal will persist the same indices. A static plan (contiguous, interleaved) gives
// each worker its own consecutive run of indices, copied in order; a self-scheduled plan
// (dynamic, guided) lets any worker take the next unit in index order. Pure data: no processes,
// no files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "plan/plan.h"

namespace pcopy {

struct WorkUnit {
  uint32_t file = 0;  // index into the executor's list of files
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const WorkUnit&) const = default;
};

struct WorkList {
  std::vector<WorkUnit> units;
  // Static plans: worker w copies units [first[w], first[w + 1]). Self-scheduled plans: empty,
  // and every worker takes from all units.
  std::vector<size_t> first;
  size_t workers = 0;
  uint64_t bytes = 0;  // all units together

  bool shared() const { return first.empty(); }
  // The bytes worker w is planned to copy: its own units, or an even share of a shared list.
  uint64_t PlannedBytes(size_t w) const;
};

// The units of plan, for file `file`, in the order the plan hands them out.
WorkList MakeWorkList(const CopyPlan& plan, uint32_t file = 0);

// list with every unit longer than `piece` cut into consecutive units of `piece` bytes (the last
// shorter), each worker keeping its own in order: the same bytes, in the same order, with finer
// identities (a resumable copy across ranks records whole units only).
WorkList SplitUnits(const WorkList& list, uint64_t piece);

}  // namespace pcopy
