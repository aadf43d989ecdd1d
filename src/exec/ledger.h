// ledger.h: the per-unit ledger of a run, in the shared mapping every worker inherits.
//
// One 32-bit atomic state per work unit (plan/work_list.h): free, taken by worker W, or done. A
// worker takes a unit by compare-and-swap from free to "taken by me", copies it, and marks it
// done; nothing else is ever written by a worker. So the parent can always tell exactly which
// units a dead worker held (taken by it, not done) and hand them back (Release) before it starts
// a replacement, and the run is complete exactly when every unit is done. There is no lock: a
// worker killed at any instruction leaves at most its own "taken" marks, which Release clears.
//
// Beside each state, the unit's written frontier: how many bytes from its start a worker has
// written (its pwrite or copy_file_range returned), in order. A resumable copy's checkpoint
// (exec/checkpoint.h) reads the frontiers, makes the file durable, and only then records those
// bytes in its journal. A replaced worker rewrites its unit from the start with the same bytes, so
// a frontier only grows: what the dead worker wrote is in the page cache all the same.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pcopy {

using LedgerEntry = std::atomic<uint32_t>;
static_assert(LedgerEntry::is_always_lock_free);

inline constexpr uint32_t kUnitFree = 0;
inline constexpr uint32_t kUnitDone = UINT32_MAX;  // any other value: taken by worker value - 1

class Ledger {
 public:
  Ledger() = default;
  Ledger(LedgerEntry* entries, std::atomic<uint64_t>* written, size_t count)
      : entries_(entries), written_(written), count_(count) {}

  size_t size() const { return count_; }
  uint32_t State(size_t unit) const { return entries_[unit].load(std::memory_order_acquire); }
  bool IsDone(size_t unit) const { return State(unit) == kUnitDone; }

  // Worker side. Claim takes a free unit for `worker` (false if anyone holds it or it is done);
  // Done marks a unit the worker holds as completely written (release: its bytes came first).
  bool Claim(size_t unit, size_t worker) {
    uint32_t expected = kUnitFree;
    return entries_[unit].compare_exchange_strong(expected, static_cast<uint32_t>(worker + 1),
                                                  std::memory_order_acq_rel);
  }
  void Done(size_t unit) { entries_[unit].store(kUnitDone, std::memory_order_release); }
  // The worker holding `unit` has written its first `bytes` (release: the write came first).
  void Wrote(size_t unit, uint64_t bytes) {
    if (bytes > written_[unit].load(std::memory_order_relaxed)) {
      written_[unit].store(bytes, std::memory_order_release);
    }
  }
  uint64_t Written(size_t unit) const { return written_[unit].load(std::memory_order_acquire); }

  // Parent side, only while `worker` is not running: its unfinished units become free again.
  // Returns how many.
  size_t Release(size_t worker);
  // Units not done yet.
  size_t Remaining() const;

 private:
  LedgerEntry* entries_ = nullptr;            // in shared memory; the mapping outlives the ledger
  std::atomic<uint64_t>* written_ = nullptr;  // likewise
  size_t count_ = 0;
};

}  // namespace pcopy
