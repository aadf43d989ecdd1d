#include "exec/chunk_tuning.h"

#include <algorithm>

namespace pcopy {
namespace {

void Bump(std::atomic<uint32_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

uint32_t MegabytesPerSecond(double bytes_per_second) {
  return static_cast<uint32_t>(std::min(bytes_per_second / 1e6, 4e9));
}

}  // namespace

ChunkTuning::ChunkTuning(const TuningConfig& config, WorkerSlot* slot, CopyEnv* env)
    : slot_(slot), env_(env) {
  if (!config.tune || config.min == 0 || env->buffer.size() < config.min) return;
  tuner_.emplace(config.min, env->buffer.size());
  whole_ = env->buffer;
  min_size_ = config.min;
  budget_ = config.budget;
  env_->buffer = whole_.first(static_cast<size_t>(min_size_));
  slot_->write_size.store(static_cast<uint32_t>(min_size_), std::memory_order_relaxed);
}

void ChunkTuning::Begin() {
  if (!tuner_) return;
  if (!spent_ && copied_ >= budget_) Spend();
  size_ = spent_ ? min_size_ : tuner_->Next();
  env_->buffer = whole_.first(static_cast<size_t>(size_));
  start_ = std::chrono::steady_clock::now();
}

void ChunkTuning::End(uint64_t length, uint64_t end) {
  if (!tuner_) return;
  copied_ += length;
  last_end_ = end;
  if (spent_) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now() - start_)
                      .count();
  if (size_ != tuner_->current()) Bump(slot_->write_probes);
  const std::optional<WriteSizeTuner::Switch> s =
      tuner_->Record(length, static_cast<uint64_t>(std::max<int64_t>(ns, 1)));
  if (s) Publish(*s, s->stalled ? WriteSizeReport::kStalled : WriteSizeReport::kFaster);
}

void ChunkTuning::Rest() {
  if (tuner_) env_->buffer = whole_.first(static_cast<size_t>(min_size_));
}

// This worker's share of the budget is copied: the minimum from now on, said as a switch where
// the size in use was larger.
void ChunkTuning::Spend() {
  spent_ = true;
  if (tuner_->current() == min_size_) return;
  WriteSizeTuner::Switch s;
  s.from = tuner_->current();
  s.to = min_size_;
  Publish(s, WriteSizeReport::kBudget);
}

void ChunkTuning::Publish(const WriteSizeTuner::Switch& s, WriteSizeReport::Why why) {
  slot_->switch_at.store(last_end_, std::memory_order_relaxed);
  slot_->switch_from.store(static_cast<uint32_t>(s.from), std::memory_order_relaxed);
  slot_->switch_from_rate.store(MegabytesPerSecond(s.from_rate), std::memory_order_relaxed);
  slot_->switch_to_rate.store(MegabytesPerSecond(s.to_rate), std::memory_order_relaxed);
  slot_->switch_why.store(static_cast<uint32_t>(why), std::memory_order_relaxed);
  slot_->write_size.store(static_cast<uint32_t>(s.to), std::memory_order_relaxed);
  Bump(slot_->write_switches);
}

std::optional<WriteSizeReport> WriteSizeOf(const WorkerSlot& slot) {
  const uint32_t size = slot.write_size.load(std::memory_order_relaxed);
  if (size == 0) return std::nullopt;
  WriteSizeReport r;
  r.size = size;
  r.probes = slot.write_probes.load(std::memory_order_relaxed);
  r.switches = slot.write_switches.load(std::memory_order_relaxed);
  r.at = slot.switch_at.load(std::memory_order_relaxed);
  r.from = slot.switch_from.load(std::memory_order_relaxed);
  r.from_rate = slot.switch_from_rate.load(std::memory_order_relaxed);
  r.to_rate = slot.switch_to_rate.load(std::memory_order_relaxed);
  r.why = static_cast<WriteSizeReport::Why>(slot.switch_why.load(std::memory_order_relaxed));
  return r;
}

}  // namespace pcopy
