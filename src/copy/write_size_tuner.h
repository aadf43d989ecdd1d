// write_size_tuner.h: the write size of --method auto's pread/pwrite, chosen by measurement while
// a worker copies, chunk by chunk.
//
// Why it adapts: the size of each write into a new ext4 file decides the size of the page-cache
// folios the kernel allocates for it, and which size is fastest depends on the machine's memory
// state, which moves during a copy. On one 2-CPU virtual machine, in one hour: 128 KiB writes
// copied a hot 1 GiB file 1.45x faster than 32 KiB ones, while on 4 GiB files 1 MiB writes were
// 5x slower than 32 KiB ones (new large folios that the host hands over slowly; README
// "Defaults"). No fixed size wins both, so each worker measures.
//
// How: the tuner keeps the rates (bytes per nanosecond) of the last few chunks at each size, the
// sizes being powers of two from a safe minimum (32 KiB) to a maximum. The worker copies most
// chunks at the current size; every kProbeEvery chunks it copies one at a neighbouring size
// (twice as large or half as large, in turn). A neighbour whose median rate over two probes
// beats the current size's median by kSwitchGain becomes the current size; one that does not is
// probed again only after twice as many chunks as last time (up to 64x), so a bad size costs
// little. A size that stalls (two chunks in a row at under a third of its median rate, or a
// single probe that slow) is left at once for the minimum, which never falls into the trap.
//
// Pure logic: no clock, no system call, no allocation; the worker times each chunk and reports
// it. One tuner per worker, in the worker's own memory: workers tune independently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace pcopy {

class WriteSizeTuner {
 public:
  static constexpr size_t kMaxLevels = 8;
  static constexpr uint64_t kProbeEvery = 8;  // chunks between probes
  static constexpr double kSwitchGain = 1.15;
  static constexpr double kStallFactor = 3;

  // A change of the current size, and the median rates (bytes per second) that decided it.
  struct Switch {
    uint64_t from = 0;
    uint64_t to = 0;
    double from_rate = 0;
    double to_rate = 0;
    bool stalled = false;  // left because `from` stalled, not because `to` measured faster
  };

  // Sizes min_size, 2 min_size, ... up to max_size (at most kMaxLevels of them); starts at
  // min_size. min_size must be positive.
  WriteSizeTuner(uint64_t min_size, uint64_t max_size);

  // The write size for the next chunk: the current one, or a neighbour being probed.
  uint64_t Next();
  // The chunk copied at the size the last Next() returned took ns nanoseconds for bytes bytes.
  // Returns the switch this caused, if any.
  std::optional<Switch> Record(uint64_t bytes, uint64_t ns);

  uint64_t current() const { return SizeOf(current_); }

 private:
  // The last kWindow rates at one size, oldest overwritten first.
  struct Rates {
    static constexpr size_t kWindow = 4;
    std::array<double, kWindow> values{};
    size_t count = 0;  // how many were recorded, up to kWindow kept
    void Add(double rate);
    double Median() const;  // 0 when empty
    size_t size() const { return count < kWindow ? count : kWindow; }
  };
  struct Level {
    Rates rates;
    uint64_t probe_at = 0;  // the chunk number from which it may be probed again
    unsigned backoff = 0;   // how many times in a row a probe of it lost
  };

  uint64_t SizeOf(size_t level) const { return min_size_ << level; }
  std::optional<size_t> ProbeCandidate() const;
  std::optional<Switch> RecordCurrent(double rate);
  std::optional<Switch> RecordProbe(size_t level, double rate);
  Switch MoveTo(size_t level, bool stalled);
  void BackOff(size_t level);

  uint64_t min_size_;
  size_t levels_;
  std::array<Level, kMaxLevels> level_{};
  size_t current_ = 0;
  size_t last_ = 0;      // the level the last Next() returned
  uint64_t chunks_ = 0;  // chunks recorded
  uint64_t next_probe_ = kProbeEvery;
  bool probe_up_ = true;   // the direction of the next probe, when both neighbours may be probed
  unsigned slow_run_ = 0;  // current-size chunks in a row under a third of its median
};

}  // namespace pcopy
