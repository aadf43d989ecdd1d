// pacer.h: slows a copy worker down on purpose, for --bwlimit (at most a share of a byte rate) and
// --slow-worker (FACTOR times slower than the worker would be, to study strategies on an uneven
// machine).
//
// A Pacer lives inside one worker (a forked one, or the parent copying a small file itself) and is
// told about every piece the worker copies. It allocates nothing and throws nothing. Sleeps go
// through a PacerClock so tests can replace time, or through a PacerSleeper where the sleeping
// process must keep taking signals.
#pragma once

#include <chrono>
#include <cstdint>

namespace pcopy {

struct PacerClock {
  std::chrono::nanoseconds (*now)();  // monotonic
  void (*sleep)(std::chrono::nanoseconds);
};

const PacerClock& RealPacerClock();

// Sleeps in place of the clock's sleep: the parent, when it copies a small file itself, sleeps in
// its one signal wait (os/signal_guard.h), so that SIGINT cuts a --bwlimit sleep short instead of
// staying blocked behind it. A sleep may return early; the Pacer measures what it really slept.
class PacerSleeper {
 public:
  virtual void Sleep(std::chrono::nanoseconds d) = 0;

 protected:
  ~PacerSleeper() = default;
};

class Pacer {
 public:
  // Shorter sleeps are saved up: a piece of 32 KiB takes about 10 us, and a sleep that short
  // oversleeps by several times its length, which made a "4x slower" worker 8x slower or more.
  static constexpr std::chrono::nanoseconds kMinSleep = std::chrono::milliseconds(1);

  // bytes_per_second 0: no rate limit; slow_factor <= 1: not slowed. sleeper, when given, sleeps
  // instead of clock.sleep.
  Pacer(uint64_t bytes_per_second, double slow_factor, const PacerClock& clock = RealPacerClock(),
        PacerSleeper* sleeper = nullptr);

  // Called after each piece lands; sleeps as long as the limits require.
  void Account(uint64_t bytes);

 private:
  // Sleeps for d and returns how long it really slept (sleeps overshoot).
  std::chrono::nanoseconds Sleep(std::chrono::nanoseconds d);

  const PacerClock& clock_;
  PacerSleeper* sleeper_;
  uint64_t rate_;
  double slow_factor_;
  uint64_t done_ = 0;
  std::chrono::nanoseconds start_;
  std::chrono::nanoseconds last_;       // when the previous Account returned
  std::chrono::nanoseconds slowed_{0};  // time slept for slow_factor, excluded from the rate
  std::chrono::nanoseconds owed_{0};    // slow_factor sleep still due (negative: overslept)
};

}  // namespace pcopy
