// random_bytes.h: fast reproducible pseudo-random bytes, for the demo, the tests and the benches.
// xoshiro256** (Blackman and Vigna): far faster than /dev/urandom, and a seed reproduces a file.
// Not for anything secret.
#pragma once

#include <cstdint>
#include <span>

namespace pcopy {

class RandomBytes {
 public:
  explicit RandomBytes(uint64_t seed);
  void Fill(std::span<char> out);

 private:
  uint64_t Next();
  uint64_t s_[4];
};

}  // namespace pcopy
