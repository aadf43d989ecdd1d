// phase.h: how far a long step of the parent has got once the bytes are copied (syncing the copy
// to storage, verifying it, digesting it), for a progress display to draw. The steps call it from
// the parent only, between their waits; an observer must not block.
#pragma once

#include <cstdint>

namespace pcopy {

class PhaseObserver {
 public:
  virtual ~PhaseObserver() = default;
  // phase: one word ("syncing", "verifying", "digesting"); done of total bytes. Called as the step
  // goes, often (views throttle), and a last time with done == total when it completes.
  virtual void OnPhase(const char* phase, uint64_t done, uint64_t total) = 0;
};

// A step's reports: to observer (none when null), under the word phase. Totals of 0 are not told.
struct PhaseReport {
  PhaseObserver* observer = nullptr;
  const char* phase = "";
  void operator()(uint64_t done, uint64_t total) const {
    if (observer != nullptr && total != 0) observer->OnPhase(phase, done, total);
  }
};

}  // namespace pcopy
