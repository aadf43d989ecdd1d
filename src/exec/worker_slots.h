// worker_slots.h: the shared mapping through which workers report to the parent: one slot of
// counters per worker, the cursor of a self-scheduled list, and the per-unit ledger.
//
// Created by the parent before fork() as anonymous shared memory (Boost.Interprocess
// anonymous_shared_memory: MAP_SHARED|MAP_ANONYMOUS), so forked workers inherit the mapping and
// nothing is ever named in /dev/shm. Each worker writes only its own slot (and ledger entries it
// claims); the parent reads. There is no lock: every field is a lock-free atomic, so a worker
// killed at any instruction cannot leave anything held. Slots are cache-line aligned so workers
// never share a line. A failed worker stores its error record first and its state last
// (release); the parent reads the state first (acquire), so kFailed always comes with a whole
// record. No pointer is stored inside the mapping.
#pragma once

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/status.h"
#include "copy/io_error.h"
#include "exec/ledger.h"

namespace pcopy {

enum class WorkerState : uint32_t { kStarting = 0, kRunning, kDone, kFailed };

// In WorkerSlot::used_methods beside the MethodBits: a clone (FICLONE, FICLONERANGE) made some of
// the copy, sharing SOURCE's extents.
inline constexpr uint32_t kClonedBit = 1u << 31;

struct alignas(64) WorkerSlot {
  std::atomic<uint64_t> bytes_done{0};       // live progress, including a unit in flight
  std::atomic<uint64_t> completed_bytes{0};  // whole units marked done by this slot's workers
  std::atomic<uint32_t> state{0};            // a WorkerState
  std::atomic<uint32_t> used_methods{0};     // MethodBit of each method that moved bytes
  std::atomic<int32_t> fallback_errno{-1};   // as TransferState::fallback_errno
  // The unit being copied now, for messages about this worker (a resume uses the ledger).
  std::atomic<uint32_t> unit_file{0};
  std::atomic<uint64_t> unit_offset{0};
  std::atomic<uint64_t> unit_length{0};  // 0 before the first
  // The error record (copy/io_error.h), field by field.
  std::atomic<uint32_t> error_op{0};    // an IoOp
  std::atomic<uint32_t> error_file{0};  // an IoFile
  std::atomic<uint32_t> error_file_index{0};
  std::atomic<uint32_t> error_has_offset{0};
  std::atomic<int32_t> error_errno{0};
  std::atomic<uint64_t> error_offset{0};
  // The write size tuner (copy/write_size_tuner.h), where the run tunes: the size in use (0:
  // not tuned), the probes and switches so far, and the last switch: the file offset after
  // which it took effect, the sizes, the rates that decided it in MB/s (1e6 bytes/s), and why.
  std::atomic<uint32_t> write_size{0};
  std::atomic<uint32_t> write_probes{0};
  std::atomic<uint32_t> write_switches{0};
  std::atomic<uint32_t> switch_from{0};
  std::atomic<uint64_t> switch_at{0};
  std::atomic<uint32_t> switch_from_rate{0};
  std::atomic<uint32_t> switch_to_rate{0};
  std::atomic<uint32_t> switch_why{0};  // a WriteSizeReport::Why
};

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<int32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<WorkerSlot>);
static_assert(sizeof(WorkerSlot) == 128);  // two whole cache lines, so no slot shares one

// Shared by all workers: the cursor of a self-scheduled list (the index of the next unit to
// try). Moving it is one fetch_add; the ledger's compare-and-swap decides who owns a unit.
struct alignas(64) SharedHeader {
  std::atomic<uint64_t> next_unit{0};
};
static_assert(std::is_standard_layout_v<SharedHeader>);

// Worker side: records a failure (fields first, state last).
void RecordFailure(WorkerSlot* slot, const IoError& error);
// Parent side: the record a failed slot holds.
IoError SlotError(const WorkerSlot& slot);

class WorkerSlots {
 public:
  WorkerSlots() = default;
  // Maps a SharedHeader, `count` zeroed slots and a ledger of `units` free entries. Boost throws
  // on failure; this returns the error.
  static Status Create(size_t count, size_t units, WorkerSlots* out);

  WorkerSlot& operator[](size_t i) { return slots_[i]; }
  const WorkerSlot& operator[](size_t i) const { return slots_[i]; }
  size_t size() const { return count_; }
  std::span<const WorkerSlot> all() const { return {slots_, count_}; }
  SharedHeader& header() { return *header_; }
  Ledger& ledger() { return ledger_; }
  const Ledger& ledger() const { return ledger_; }

 private:
  boost::interprocess::mapped_region region_;
  SharedHeader* header_ = nullptr;  // points into region_, valid in every process that inherited it
  WorkerSlot* slots_ = nullptr;     // likewise, right after the header
  Ledger ledger_;                   // likewise, right after the slots
  size_t count_ = 0;
};

}  // namespace pcopy
