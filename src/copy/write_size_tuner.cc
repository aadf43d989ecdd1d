#include "copy/write_size_tuner.h"

#include <algorithm>

namespace pcopy {

void WriteSizeTuner::Rates::Add(double rate) {
  values[count % kWindow] = rate;
  ++count;
}

double WriteSizeTuner::Rates::Median() const {
  const size_t n = size();
  if (n == 0) return 0;
  std::array<double, kWindow> sorted = values;
  std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n));
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

WriteSizeTuner::WriteSizeTuner(uint64_t min_size, uint64_t max_size)
    : min_size_(min_size), levels_(1) {
  while (levels_ < kMaxLevels && (min_size_ << levels_) <= max_size) ++levels_;
}

// A neighbour of the current size that may be probed now, once the current size has enough
// rates to be compared with; when both may, they take turns.
std::optional<size_t> WriteSizeTuner::ProbeCandidate() const {
  if (level_[current_].rates.size() < 3) return std::nullopt;
  const bool up = current_ + 1 < levels_ && level_[current_ + 1].probe_at <= chunks_;
  const bool down = current_ > 0 && level_[current_ - 1].probe_at <= chunks_;
  if (up && (probe_up_ || !down)) return current_ + 1;
  if (down) return current_ - 1;
  return std::nullopt;
}

uint64_t WriteSizeTuner::Next() {
  last_ = current_;
  if (chunks_ >= next_probe_) {
    if (const std::optional<size_t> probe = ProbeCandidate()) last_ = *probe;
  }
  return SizeOf(last_);
}

std::optional<WriteSizeTuner::Switch> WriteSizeTuner::Record(uint64_t bytes, uint64_t ns) {
  const double rate = static_cast<double>(bytes) / static_cast<double>(std::max<uint64_t>(ns, 1));
  ++chunks_;
  if (last_ == current_) return RecordCurrent(rate);
  next_probe_ = chunks_ + kProbeEvery;
  probe_up_ = last_ < current_;
  return RecordProbe(last_, rate);
}

std::optional<WriteSizeTuner::Switch> WriteSizeTuner::RecordCurrent(double rate) {
  Rates& rates = level_[current_].rates;
  const bool slow = rates.size() >= 3 && rate * kStallFactor < rates.Median();
  slow_run_ = slow ? slow_run_ + 1 : 0;
  rates.Add(rate);
  if (slow_run_ < 2 || current_ == 0) return std::nullopt;
  const size_t from = current_;
  Switch s = MoveTo(0, true);
  s.from_rate = rate * 1e9;  // the stalled chunk's rate, rather than a median it dragged down
  BackOff(from);
  return s;
}

std::optional<WriteSizeTuner::Switch> WriteSizeTuner::RecordProbe(size_t level, double rate) {
  const double current_rate = level_[current_].rates.Median();
  if (rate * kStallFactor < current_rate) {
    BackOff(level);
    return std::nullopt;
  }
  Rates& rates = level_[level].rates;
  rates.Add(rate);
  if (rates.size() < 2) return std::nullopt;
  if (rates.Median() > kSwitchGain * current_rate) {
    const size_t from = current_;
    const Switch s = MoveTo(level, false);
    BackOff(from);  // just measured slower: no need to probe it again at once
    return s;
  }
  BackOff(level);
  return std::nullopt;
}

// Makes level current. Every other size's rates are forgotten: they were measured in a state
// that has just been shown to change, so each is measured afresh before it is compared.
WriteSizeTuner::Switch WriteSizeTuner::MoveTo(size_t level, bool stalled) {
  Switch s{SizeOf(current_), SizeOf(level), level_[current_].rates.Median() * 1e9,
           level_[level].rates.Median() * 1e9, stalled};
  current_ = level;
  slow_run_ = 0;
  for (size_t i = 0; i < levels_; ++i) {
    if (i == level) continue;
    level_[i].rates = Rates();
    if (i + 1 == level || i == level + 1)
      level_[i].probe_at = std::min(level_[i].probe_at, chunks_);
  }
  level_[level].backoff = 0;
  next_probe_ = chunks_ + kProbeEvery;
  return s;
}

void WriteSizeTuner::BackOff(size_t level) {
  Level& l = level_[level];
  l.rates = Rates();
  l.backoff = std::min(l.backoff + 1, 6u);
  l.probe_at = chunks_ + (kProbeEvery << l.backoff);
}

}  // namespace pcopy
