#include "exec/worker.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <new>
#include <optional>

#include "copy/pacer.h"
#include "copy/range_copy.h"
#include "copy/transfer_methods.h"
#include "copy/writeback.h"
#include "exec/chunk_tuning.h"

namespace pcopy {
namespace {

// One copy_file_range call moves at most this much, so progress is reported many times a second
// even at memory speed (64 MiB is about 20 ms at 3 GB/s). 8 MiB steps measured no faster and
// possibly slower than 64 MiB or 1 GiB ones on 4 GiB copies (README "Defaults").
constexpr uint64_t kCopyFileRangeStep = 64ull << 20;

constexpr size_t kNoUnit = static_cast<size_t>(-1);

// Publishes progress to the worker's slot, and the unit's written frontier to the ledger; each
// has one writer at a time, so plain stores suffice.
class SlotProgress final : public ProgressSink {
 public:
  SlotProgress(WorkerSlot* slot, Ledger* ledger, Pacer* pacer, WorkerHost* host)
      : slot_(slot), ledger_(ledger), pacer_(pacer), host_(host) {}
  // The bytes that follow are those of `unit`, from its start.
  void Begin(size_t unit) {
    unit_ = unit;
    unit_written_ = 0;
  }
  void Add(uint64_t bytes) override {
    slot_->bytes_done.store(slot_->bytes_done.load(std::memory_order_relaxed) + bytes,
                            std::memory_order_relaxed);
    unit_written_ += bytes;
    ledger_->Wrote(unit_, unit_written_);
    if (host_ != nullptr) host_->Landed();
    pacer_->Account(bytes);
  }

 private:
  WorkerSlot* slot_;
  Ledger* ledger_;
  Pacer* pacer_;
  WorkerHost* host_;
  size_t unit_ = 0;
  uint64_t unit_written_ = 0;
};

// The next unit this worker has claimed in the ledger. A static list: the worker's own units in
// order, skipping those already done (by the worker it replaces). A shared list: the next index
// of the cursor that the ledger lets it claim; once the cursor has passed the end, any unit still
// free: one a worker took from the cursor and died before claiming, or one the parent released.
class UnitSource {
 public:
  explicit UnitSource(const WorkerTask& task) : task_(task) {
    const WorkList& w = *task.work;
    if (!w.shared()) {
      position_ = w.first[task.index];
      end_ = w.first[task.index + 1];
    } else {
      end_ = w.units.size();
    }
  }
  size_t Next() {
    Ledger& ledger = *task_.ledger;
    if (task_.work->shared()) {
      for (uint64_t k; (k = task_.next_unit->fetch_add(1, std::memory_order_relaxed)) < end_;) {
        if (ledger.Claim(k, task_.index)) return k;
      }
    }
    for (; position_ < end_; ++position_) {
      if (ledger.Claim(position_, task_.index)) return position_++;
    }
    return kNoUnit;
  }

 private:
  const WorkerTask& task_;
  size_t position_ = 0;
  size_t end_ = 0;
};

struct AlignedFree {
  void operator()(char* p) const { ::operator delete (p, std::align_val_t{kDirectAlignment}); }
};

// Points env at the descriptors of file `index` (opened by the executor), with what the method
// needs opened beside them.
class OpenFiles {
 public:
  IoError Use(const WorkerTask& task, uint32_t index, CopyEnv* env) {
    if (index == index_) return {};
    env->src_fd = task.fds[index].src;
    env->dst_fd = task.fds[index].dst;
    method_fds_ = MethodFds();
    IoError e = method_fds_.Open(task.config->method, env);
    e.file_index = index;
    index_ = e.ok() ? index : kNoFile;
    return e;
  }

 private:
  static constexpr uint32_t kNoFile = UINT32_MAX;
  uint32_t index_ = kNoFile;
  MethodFds method_fds_;
};

// With --fsync: the pipeline of the file being copied learns what was written, in order from
// the unit's offset; its first error stops the copy at the end of the unit's range.
class DurableProgress final : public ProgressSink {
 public:
  DurableProgress(const SysCalls* sys, ProgressSink* inner) : sys_(sys), inner_(inner) {}
  // A unit of the file dst_fd begins at offset; a new file first drains the last one's pipeline.
  IoError Begin(int dst_fd, uint64_t offset) {
    IoError e;
    if (dst_fd != dst_fd_) {
      e = Drain();
      pipeline_.emplace(sys_, dst_fd);
      dst_fd_ = dst_fd;
    }
    position_ = offset;
    return e;
  }
  void Add(uint64_t bytes) override {
    inner_->Add(bytes);
    if (error_.ok() && pipeline_) error_ = pipeline_->Wrote(position_, bytes);
    position_ += bytes;
  }
  IoError error() const { return error_; }
  IoError Drain() { return pipeline_ && error_.ok() ? pipeline_->Drain() : error_; }

 private:
  const SysCalls* sys_;
  ProgressSink* inner_;
  std::optional<WritebackPipeline> pipeline_;
  int dst_fd_ = -1;
  uint64_t position_ = 0;
  IoError error_;
};

// A cold SOURCE: the kernel is asked to start reading the range read_ahead bytes past this unit,
// so that reads are in flight while this one is written (POSIX_FADV_WILLNEED queues the reads
// and returns). Advice only: its failure changes nothing.
void ReadAhead(const ExecConfig& config, const CopyEnv& env, const WorkUnit& unit) {
  (void)config.sys->posix_fadvise(env.src_fd, static_cast<off_t>(unit.offset + config.read_ahead),
                                  static_cast<off_t>(unit.length), POSIX_FADV_WILLNEED);
}

IoError CopyUnits(const WorkerTask& task, WorkerSlot* slot, CopyEnv* env, TransferState* transfer) {
  Pacer pacer(task.bwlimit, task.slow_factor, RealPacerClock(), task.host);
  SlotProgress slot_progress(slot, task.ledger, &pacer, task.host);
  DurableProgress durable(task.config->sys, &slot_progress);
  ProgressSink& progress =
      task.config->durable ? static_cast<ProgressSink&>(durable) : slot_progress;
  UnitSource source(task);
  OpenFiles files;
  ChunkTuning tuning(
      TuningConfig{task.config->tune_write_size, task.config->buffer_size,
                   task.config->large_write_budget / std::max<size_t>(task.work->workers, 1)},
      slot, env);
  for (size_t k;
       (task.host == nullptr || !task.host->Stopping()) && (k = source.Next()) != kNoUnit;) {
    const WorkUnit& unit = task.work->units[k];
    slot->unit_file.store(unit.file, std::memory_order_relaxed);
    slot->unit_offset.store(unit.offset, std::memory_order_relaxed);
    slot->unit_length.store(unit.length, std::memory_order_relaxed);
    slot_progress.Begin(k);
    IoError e = files.Use(task, unit.file, env);
    if (e.ok() && task.config->durable) e = durable.Begin(env->dst_fd, unit.offset);
    if (e.ok() && task.config->read_ahead != 0) ReadAhead(*task.config, *env, unit);
    tuning.Begin();
    if (e.ok()) e = CopyRange(*env, transfer, unit.offset, unit.length, progress);
    if (e.ok()) e = durable.error();
    if (e.ok()) tuning.End(unit.length, unit.offset + unit.length);
    if (!e.ok()) {
      e.file_index = unit.file;
      return e;
    }
    slot->completed_bytes.store(slot->completed_bytes.load(std::memory_order_relaxed) + unit.length,
                                std::memory_order_relaxed);
    task.ledger->Done(k);
  }
  return durable.Drain();
}

}  // namespace

int RunWorker(const WorkerTask& task, WorkerSlot* slot) noexcept {
  slot->state.store(static_cast<uint32_t>(WorkerState::kRunning), std::memory_order_relaxed);
  const ExecConfig& config = *task.config;
  // Aligned for O_DIRECT, and a whole number of alignment units when that method needs it.
  // A tuned write size is a prefix of a buffer of the largest size it may take.
  const uint64_t size = config.tune_write_size ? std::max(config.max_write_size, config.buffer_size)
                                               : config.buffer_size;
  const size_t buffer_size =
      static_cast<size_t>(config.method == Method::kDirect
                              ? (size + kDirectAlignment - 1) / kDirectAlignment * kDirectAlignment
                              : size);
  std::unique_ptr<char, AlignedFree> buffer(static_cast<char*>(
      ::operator new (buffer_size, std::align_val_t{kDirectAlignment}, std::nothrow)));
  if (!buffer) {
    RecordFailure(slot, IoError::NoOffset(IoOp::kAllocate, IoFile::kDest, ENOMEM));
    return kWorkerFailed;
  }
  CopyEnv env;
  env.sys = config.sys;
  env.buffer = std::span<char>(buffer.get(), buffer_size);
  env.max_step = kCopyFileRangeStep;
  env.skip_zero_blocks = config.skip_zero_blocks;
  if (task.bwlimit != 0) {
    // Small steps under a rate limit, so the sleeps are short and the rate is even.
    env.max_step = std::clamp<uint64_t>(task.bwlimit / 10, 4096, kCopyFileRangeStep);
    env.buffer = env.buffer.first(std::min<uint64_t>(env.buffer.size(), env.max_step));
  }
  TransferState transfer;
  transfer.method = config.method;
  const IoError error = CopyUnits(task, slot, &env, &transfer);
  slot->used_methods.store(transfer.used, std::memory_order_relaxed);
  slot->fallback_errno.store(transfer.fallback_errno, std::memory_order_relaxed);
  if (!error.ok()) {
    RecordFailure(slot, error);
    return kWorkerFailed;
  }
  slot->state.store(static_cast<uint32_t>(WorkerState::kDone), std::memory_order_release);
  return kWorkerOk;
}

void AddMethods(const WorkerSlot& slot, ExecResult* result) {
  result->used_methods |= slot.used_methods.load(std::memory_order_relaxed);
  const int fallback = slot.fallback_errno.load(std::memory_order_relaxed);
  if (fallback >= 0 && result->fallback_errno < 0) result->fallback_errno = fallback;
  if (std::optional<WriteSizeReport> r = WriteSizeOf(slot)) result->write_sizes.push_back(*r);
}

ProgressSnapshot SlotsSnapshot(const WorkList& work, const ExecConfig& config,
                               std::span<const WorkerSlot> slots,
                               std::chrono::steady_clock::time_point start,
                               const std::function<bool(size_t)>& busy) {
  ProgressSnapshot s;
  s.total = work.bytes;
  s.files_total = config.files.size();
  for (size_t w = 0; w < slots.size(); ++w) {
    s.done.push_back(slots[w].bytes_done.load(std::memory_order_relaxed));
    s.planned.push_back(work.PlannedBytes(w));
    const uint32_t file = slots[w].unit_file.load(std::memory_order_relaxed);
    s.current.push_back(busy(w) && file < config.files.size() ? config.files[file].src_name : "");
  }
  s.elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

Status WorkerError(const WorkerSlot& slot, const ExecConfig& config) {
  const IoError e = SlotError(slot);
  const ExecFile& f = config.files[std::min<size_t>(e.file_index, config.files.size() - 1)];
  return ToStatus(e, f.src_name, f.dst_name);
}

}  // namespace pcopy
