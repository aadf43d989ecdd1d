// random_fill.h: fast reproducible pseudo-random bytes, for the demo, the tests and the benches.
// xoshiro256** (Blackman and Vigna): far faster than /dev/urandom, and a seed reproduces a file.
// Not for anything secret.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "signal_guard.h"
#include "status.h"

namespace pcopy {

class RandomBytes {
 public:
  explicit RandomBytes(uint64_t seed);
  void Fill(std::span<char> out);

 private:
  uint64_t Next();
  uint64_t s_[4];
};

// Writes size pseudo-random bytes to a new file at path (mode 0644, replaced if present).
// Stops early, leaving a partial file for the caller to remove, if signals (may be null)
// receives SIGINT/SIGTERM/SIGHUP.
Status WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed,
                       SignalGuard* signals = nullptr);

}  // namespace pcopy
