#include "exec/worker.h"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <new>

#include "copy/pacer.h"
#include "copy/range_copy.h"
#include "copy/transfer_methods.h"

namespace pcopy {
namespace {

// One copy_file_range call moves at most this much, so progress is reported many times a second
// even at memory speed (64 MiB is about 20 ms at 3 GB/s). 8 MiB steps measured no faster and
// possibly slower than 64 MiB or 1 GiB ones on 4 GiB copies (README "Defaults").
constexpr uint64_t kCopyFileRangeStep = 64ull << 20;

// Publishes progress to the worker's slot; the slot has one writer, so a plain store suffices.
class SlotProgress final : public ProgressSink {
 public:
  SlotProgress(WorkerSlot* slot, Pacer* pacer) : slot_(slot), pacer_(pacer) {}
  void Add(uint64_t bytes) override {
    slot_->bytes_done.store(slot_->bytes_done.load(std::memory_order_relaxed) + bytes,
                            std::memory_order_relaxed);
    pacer_->Account(bytes);
  }

 private:
  WorkerSlot* slot_;
  Pacer* pacer_;
};

// The next range this worker copies: its own list for a static plan, the shared queue otherwise.
class RangeSource {
 public:
  explicit RangeSource(const WorkerTask& task) : task_(task), position_(task.start_index) {}
  // The index of the range Next() returned last, within this worker's own list.
  size_t index() const { return position_ == 0 ? 0 : position_ - 1; }
  const ByteRange* Next() {
    const CopyPlan& plan = *task_.plan;
    if (task_.redo.length != 0 && !redone_) {
      redone_ = true;
      return &task_.redo;
    }
    if (plan.self_scheduled()) {
      const uint64_t k = task_.next_chunk->fetch_add(1, std::memory_order_relaxed);
      return k < plan.queue.size() ? &plan.queue[k] : nullptr;
    }
    const std::vector<ByteRange>& own = plan.workers[task_.index].ranges;
    return position_ < own.size() ? &own[position_++] : nullptr;
  }

 private:
  const WorkerTask& task_;
  size_t position_;
  bool redone_ = false;
};

struct AlignedFree {
  void operator()(char* p) const { ::operator delete (p, std::align_val_t{kDirectAlignment}); }
};

}  // namespace

int RunWorker(const WorkerTask& task, WorkerSlot* slot) noexcept {
  slot->state.store(static_cast<uint32_t>(WorkerState::kRunning), std::memory_order_relaxed);
  // Aligned for O_DIRECT, and a whole number of alignment units when that method needs it.
  const size_t buffer_size = static_cast<size_t>(task.method == Method::kDirect
                                                     ? (task.buffer_size + kDirectAlignment - 1) /
                                                           kDirectAlignment * kDirectAlignment
                                                     : task.buffer_size);
  std::unique_ptr<char, AlignedFree> buffer(static_cast<char*>(
      ::operator new (buffer_size, std::align_val_t{kDirectAlignment}, std::nothrow)));
  if (!buffer) {
    RecordFailure(slot, Status::FromErrno("allocate", "copy buffer", ENOMEM));
    return kWorkerFailed;
  }
  CopyEnv env;
  env.sys = task.sys;
  env.src_fd = task.src_fd;
  env.dst_fd = task.dst_fd;
  env.src_name = task.src_name;
  env.dst_name = task.dst_name;
  env.buffer = std::span<char>(buffer.get(), buffer_size);
  env.max_step = kCopyFileRangeStep;
  if (task.bwlimit != 0) {
    // Small steps under a rate limit, so the sleeps are short and the rate is even.
    env.max_step = std::clamp<uint64_t>(task.bwlimit / 10, 4096, kCopyFileRangeStep);
    env.buffer = env.buffer.first(std::min<uint64_t>(env.buffer.size(), env.max_step));
  }

  MethodFds method_fds;
  if (Status s = method_fds.Open(task.method, &env); !s.ok()) {
    RecordFailure(slot, s);
    return kWorkerFailed;
  }
  Pacer pacer(task.bwlimit, task.slow_factor);
  TransferState transfer;
  transfer.method = task.method;
  SlotProgress progress(slot, &pacer);
  RangeSource source(task);
  Status status;
  while (const ByteRange* range = source.Next()) {
    slot->range_done.store(0, std::memory_order_relaxed);
    slot->range_index.store(source.index(), std::memory_order_relaxed);
    slot->range_offset.store(range->offset, std::memory_order_relaxed);
    slot->range_length.store(range->length, std::memory_order_relaxed);
    status = CopyRange(env, &transfer, range->offset, range->length, progress);
    if (!status.ok()) break;
    slot->completed_bytes.store(
        slot->completed_bytes.load(std::memory_order_relaxed) + range->length,
        std::memory_order_relaxed);
    slot->range_done.store(1, std::memory_order_release);
  }
  slot->used_methods.store(transfer.used, std::memory_order_relaxed);
  slot->fallback_errno.store(transfer.fallback_errno, std::memory_order_relaxed);
  if (!status.ok()) {
    RecordFailure(slot, status);
    return kWorkerFailed;
  }
  slot->state.store(static_cast<uint32_t>(WorkerState::kDone), std::memory_order_release);
  return kWorkerOk;
}

}  // namespace pcopy
