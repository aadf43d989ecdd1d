// chunk_tuning.h: a worker's write size tuner at work (copy/write_size_tuner.h): it sets the
// write size of each chunk the worker copies, times the chunk, feeds the tuner, and publishes
// what the tuner chose in the worker's slot for -v. Used by the workers of one file
// (exec/worker.h) and by those of a tree for the chunks of its large files (exec/tree_worker.h).
//
// Runs inside forked workers (or the parent, in process): no allocation, no exception; the slot
// has this worker as its one writer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "copy/io.h"
#include "copy/write_size_tuner.h"
#include "exec/executor.h"
#include "exec/worker_slots.h"

namespace pcopy {

struct TuningConfig {
  bool tune = false;    // off: nothing here changes the buffer
  uint64_t min = 0;     // the size to start at, fall back to, and keep once the budget is spent
  uint64_t budget = 0;  // bytes this worker may copy in chunks before it keeps the minimum
};

class ChunkTuning {
 public:
  // env->buffer is the worker's whole buffer, as large as the largest size to try; tuning is off
  // where it is smaller than config.min.
  ChunkTuning(const TuningConfig& config, WorkerSlot* slot, CopyEnv* env);
  // Before a chunk: sets env->buffer to the size to write it with.
  void Begin();
  // The chunk [end - length, end) was copied (not called for one that failed).
  void End(uint64_t length, uint64_t end);
  // Before a copy that is not a chunk (a small file of a tree): the minimum size.
  void Rest();

 private:
  void Spend();
  void Publish(const WriteSizeTuner::Switch& s, WriteSizeReport::Why why);

  WorkerSlot* slot_;
  CopyEnv* env_;
  std::optional<WriteSizeTuner> tuner_;
  std::span<char> whole_;
  uint64_t min_size_ = 0;
  uint64_t budget_ = 0;
  uint64_t copied_ = 0;
  bool spent_ = false;
  uint64_t size_ = 0;
  uint64_t last_end_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// Parent side: what the tuner of the worker that wrote slot did; nullopt where it did not tune.
std::optional<WriteSizeReport> WriteSizeOf(const WorkerSlot& slot);

}  // namespace pcopy
