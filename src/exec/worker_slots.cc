#include "exec/worker_slots.h"

#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/exceptions.hpp>
#include <cerrno>
#include <new>

namespace pcopy {

void RecordFailure(WorkerSlot* slot, const IoError& error) {
  slot->error_op.store(static_cast<uint32_t>(error.op), std::memory_order_relaxed);
  slot->error_file.store(static_cast<uint32_t>(error.file), std::memory_order_relaxed);
  slot->error_file_index.store(error.file_index, std::memory_order_relaxed);
  slot->error_has_offset.store(error.has_offset ? 1 : 0, std::memory_order_relaxed);
  slot->error_errno.store(error.err, std::memory_order_relaxed);
  slot->error_offset.store(error.offset, std::memory_order_relaxed);
  slot->state.store(static_cast<uint32_t>(WorkerState::kFailed), std::memory_order_release);
}

IoError SlotError(const WorkerSlot& slot) {
  IoError e;
  e.op = static_cast<IoOp>(slot.error_op.load(std::memory_order_relaxed));
  e.file = static_cast<IoFile>(slot.error_file.load(std::memory_order_relaxed));
  e.file_index = slot.error_file_index.load(std::memory_order_relaxed);
  e.has_offset = slot.error_has_offset.load(std::memory_order_relaxed) != 0;
  e.err = slot.error_errno.load(std::memory_order_relaxed);
  e.offset = slot.error_offset.load(std::memory_order_relaxed);
  return e;
}

Status WorkerSlots::Create(size_t count, size_t units, WorkerSlots* out) {
  namespace bip = boost::interprocess;
  try {
    bip::mapped_region region = bip::anonymous_shared_memory(
        sizeof(SharedHeader) + sizeof(WorkerSlot) * count +
        (sizeof(std::atomic<uint64_t>) + sizeof(LedgerEntry)) * units);
    auto* header = new (region.get_address()) SharedHeader();
    auto* slots = reinterpret_cast<WorkerSlot*>(header + 1);
    for (size_t i = 0; i < count; ++i) new (&slots[i]) WorkerSlot();
    auto* written = reinterpret_cast<std::atomic<uint64_t>*>(slots + count);
    for (size_t k = 0; k < units; ++k) new (&written[k]) std::atomic<uint64_t>(0);
    auto* entries = reinterpret_cast<LedgerEntry*>(written + units);
    for (size_t k = 0; k < units; ++k) new (&entries[k]) LedgerEntry(kUnitFree);
    out->region_ = std::move(region);
    out->header_ = header;
    out->slots_ = slots;
    out->ledger_ = Ledger(entries, written, units);
    out->count_ = count;
    return {};
  } catch (const bip::interprocess_exception& e) {
    int err = e.get_native_error();
    return Status::FromErrno("map shared memory for", "worker progress", err != 0 ? err : ENOMEM);
  } catch (const std::bad_alloc&) {
    return Status::FromErrno("map shared memory for", "worker progress", ENOMEM);
  }
}

}  // namespace pcopy
