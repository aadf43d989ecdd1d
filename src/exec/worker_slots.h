// worker_slots.h: the shared-memory array through which workers report to the parent.
//
// Created by the parent before fork() as anonymous shared memory (Boost.Interprocess
// anonymous_shared_memory: MAP_SHARED|MAP_ANONYMOUS), so forked workers inherit the mapping and
// nothing is ever named in /dev/shm. Each worker writes only its own slot; the parent only reads.
// There is no lock: every field is a lock-free atomic, so a worker killed at any instruction
// cannot leave anything held. Slots are cache-line aligned so workers never share a line.
// A failed worker stores its error fields first and its state last (release); the parent reads
// the state first (acquire), so a kFailed state always comes with a complete error.
#pragma once

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <cstdint>
#include <string>
#include <type_traits>

#include "base/status.h"

namespace pcopy {

enum class WorkerState : uint32_t { kStarting = 0, kRunning, kDone, kFailed };

// Which operation a worker's error came from; the parent turns it back into a Status with paths.
enum class SlotOp : uint32_t { kNone = 0, kRead, kWrite, kCopyFileRange, kSourceEnded, kSetup };

struct alignas(64) WorkerSlot {
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint32_t> state{0};           // a WorkerState
  std::atomic<uint32_t> used_methods{0};    // MethodBit of each method that moved bytes
  std::atomic<int32_t> fallback_errno{-1};  // as TransferState::fallback_errno
  std::atomic<uint32_t> error_op{0};        // a SlotOp
  std::atomic<int32_t> error_errno{0};
  std::atomic<uint32_t> error_has_offset{0};
  std::atomic<uint64_t> error_offset{0};
  std::atomic<uint64_t> range_offset{0};  // the range being copied now (a dynamic plan's chunk)
  std::atomic<uint64_t> range_length{0};  // 0 before the first
  // Only whole ranges count as done: what a worker that died had finished, and where its
  // replacement resumes (its own range list's index for a static plan).
  std::atomic<uint64_t> completed_bytes{0};
  std::atomic<uint64_t> range_index{0};
  std::atomic<uint32_t> range_done{0};  // 1 once the current range is completely written
};

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<int32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<WorkerSlot>);
static_assert(sizeof(WorkerSlot) == 128);  // two whole cache lines, so no slot shares one

// Shared by all workers: the cursor of a self-scheduled plan (the index of the next chunk of
// CopyPlan::queue to hand out). Taking a chunk is one fetch_add, so there is nothing to lock.
struct alignas(64) SharedHeader {
  std::atomic<uint64_t> next_chunk{0};
};
static_assert(std::is_standard_layout_v<SharedHeader>);

// Worker side: records a failure (fields first, state last).
void RecordFailure(WorkerSlot* slot, const Status& status);
// Parent side: the Status a failed slot describes, with the copy's paths filled in.
Status SlotError(const WorkerSlot& slot, const std::string& src_name, const std::string& dst_name);

class WorkerSlots {
 public:
  WorkerSlots() = default;
  // Maps a SharedHeader and count zeroed slots. Boost throws on failure; this returns the error.
  static Status Create(size_t count, WorkerSlots* out);

  WorkerSlot& operator[](size_t i) { return slots_[i]; }
  const WorkerSlot& operator[](size_t i) const { return slots_[i]; }
  size_t size() const { return count_; }
  SharedHeader& header() { return *header_; }

 private:
  boost::interprocess::mapped_region region_;
  SharedHeader* header_ = nullptr;  // points into region_, valid in every process that inherited it
  WorkerSlot* slots_ = nullptr;     // likewise, right after the header
  size_t count_ = 0;
};

}  // namespace pcopy
