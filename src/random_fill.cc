#include "random_fill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "io.h"
#include "unique_fd.h"

namespace pcopy {
namespace {

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// 128 KiB writes: larger ones into a new file are slow on this class of machine (README).
constexpr size_t kWriteSize = 128 << 10;

}  // namespace

RandomBytes::RandomBytes(uint64_t seed) {
  for (uint64_t& s : s_) s = SplitMix64(&seed);
}

uint64_t RandomBytes::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

void RandomBytes::Fill(std::span<char> out) {
  size_t i = 0;
  for (; i + 8 <= out.size(); i += 8) {
    const uint64_t v = Next();
    memcpy(out.data() + i, &v, 8);
  }
  if (i < out.size()) {
    const uint64_t v = Next();
    memcpy(out.data() + i, &v, out.size() - i);
  }
}

Status WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed,
                       SignalGuard* signals) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::FromErrno("cannot create", path, errno);
  RandomBytes random(seed);
  std::vector<char> buffer(kWriteSize);
  for (uint64_t offset = 0; offset < size;) {
    if (signals != nullptr && signals->Poll() != 0) break;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kWriteSize, size - offset));
    random.Fill(std::span<char>(buffer.data(), n));
    if (Status s = WriteFull(RealSysCalls(), fd.get(), path, buffer.data(), n, offset); !s.ok()) {
      return s;
    }
    offset += n;
  }
  return fd.Close(path);
}

}  // namespace pcopy
