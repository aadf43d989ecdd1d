#include "exec/worker_slots.h"

#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/exceptions.hpp>
#include <cerrno>
#include <new>

#include "copy/io.h"

namespace pcopy {
namespace {

SlotOp OpOf(const Status& status) {
  const std::string& op = status.op();
  if (op == "read") return status.err() == 0 ? SlotOp::kSourceEnded : SlotOp::kRead;
  if (op == "write") return SlotOp::kWrite;
  if (op == "copy_file_range") return SlotOp::kCopyFileRange;
  return SlotOp::kSetup;
}

}  // namespace

void RecordFailure(WorkerSlot* slot, const Status& status) {
  slot->error_op.store(static_cast<uint32_t>(OpOf(status)), std::memory_order_relaxed);
  slot->error_errno.store(status.err(), std::memory_order_relaxed);
  slot->error_has_offset.store(status.offset().has_value(), std::memory_order_relaxed);
  slot->error_offset.store(status.offset().value_or(0), std::memory_order_relaxed);
  slot->state.store(static_cast<uint32_t>(WorkerState::kFailed), std::memory_order_release);
}

Status SlotError(const WorkerSlot& slot, const std::string& src_name, const std::string& dst_name) {
  const auto op = static_cast<SlotOp>(slot.error_op.load(std::memory_order_relaxed));
  const int err = slot.error_errno.load(std::memory_order_relaxed);
  std::optional<uint64_t> offset;
  if (slot.error_has_offset.load(std::memory_order_relaxed)) {
    offset = slot.error_offset.load(std::memory_order_relaxed);
  }
  switch (op) {
    case SlotOp::kRead:
      return Status::FromErrno("read", src_name, err, offset);
    case SlotOp::kSourceEnded:
      return SourceChanged(src_name, offset.value_or(0));
    case SlotOp::kWrite:
      return Status::FromErrno("write", dst_name, err, offset);
    case SlotOp::kCopyFileRange:
      return Status::FromErrno("copy_file_range", src_name, err, offset).WithSecondPath(dst_name);
    case SlotOp::kSetup:
    case SlotOp::kNone:
      break;
  }
  return Status::FromErrno("start worker for", dst_name, err != 0 ? err : EIO);
}

Status WorkerSlots::Create(size_t count, WorkerSlots* out) {
  namespace bip = boost::interprocess;
  try {
    bip::mapped_region region =
        bip::anonymous_shared_memory(sizeof(SharedHeader) + sizeof(WorkerSlot) * count);
    auto* header = new (region.get_address()) SharedHeader();
    auto* slots = reinterpret_cast<WorkerSlot*>(header + 1);
    for (size_t i = 0; i < count; ++i) new (&slots[i]) WorkerSlot();
    out->region_ = std::move(region);
    out->header_ = header;
    out->slots_ = slots;
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
