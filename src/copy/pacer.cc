#include "copy/pacer.h"

#include <thread>

namespace pcopy {
namespace {

using std::chrono::nanoseconds;

nanoseconds SteadyNow() {
  return std::chrono::duration_cast<nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

void ThreadSleep(nanoseconds d) { std::this_thread::sleep_for(d); }

}  // namespace

const PacerClock& RealPacerClock() {
  static const PacerClock clock{&SteadyNow, &ThreadSleep};
  return clock;
}

Pacer::Pacer(uint64_t bytes_per_second, double slow_factor, const PacerClock& clock,
             PacerSleeper* sleeper)
    : clock_(clock),
      sleeper_(sleeper),
      rate_(bytes_per_second),
      slow_factor_(slow_factor),
      start_(clock.now()),
      last_(start_) {}

nanoseconds Pacer::Sleep(nanoseconds d) {
  const nanoseconds before = clock_.now();
  if (sleeper_ != nullptr) {
    sleeper_->Sleep(d);
  } else {
    clock_.sleep(d);
  }
  return clock_.now() - before;
}

void Pacer::Account(uint64_t bytes) {
  if (rate_ == 0 && slow_factor_ <= 1) return;  // every piece of every copy comes through here
  if (rate_ != 0) {
    // The rate counts working time only: the slow-worker sleeps come on top of it.
    done_ += bytes;
    const auto due = nanoseconds(
        static_cast<int64_t>(static_cast<double>(done_) * 1e9 / static_cast<double>(rate_)));
    const nanoseconds worked = clock_.now() - start_ - slowed_;
    if (due > worked) Sleep(due - worked);
  }
  if (slow_factor_ > 1) {
    // The piece took now - last_ (its rate-limit sleep included: a slowed worker is FACTOR times
    // slower than its paced self); the worker owes (factor - 1) times that in sleep. What a sleep
    // overshoots is taken off the next debt, so the factor holds on average.
    owed_ += std::chrono::duration_cast<nanoseconds>((clock_.now() - last_) * (slow_factor_ - 1));
    if (owed_ >= kMinSleep) {
      const nanoseconds slept = Sleep(owed_);
      owed_ -= slept;
      slowed_ += slept;
    }
  }
  last_ = clock_.now();
}

}  // namespace pcopy
