// ceilings.cc: the most this machine can do, measured in the same run as the copies, so that
// every result can be shown as a share of it: memory copy bandwidth (a hot-cache copy cannot beat
// it) and the file system's direct-I/O read and write bandwidth (a cold or durable copy cannot).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "lab.h"

namespace lab {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

struct FreeDeleter {
  void operator()(void* p) const { free(p); }
};

std::unique_ptr<char, FreeDeleter> Aligned(size_t size) {
  void* p = nullptr;
  if (posix_memalign(&p, 4096, size) != 0) return nullptr;
  memset(p, 1, size);  // fault the pages in before anything is timed
  return std::unique_ptr<char, FreeDeleter>(static_cast<char*>(p));
}

double MemcpyGbps() {
  constexpr size_t kSize = 256 << 20;
  auto a = Aligned(kSize), b = Aligned(kSize);
  if (!a || !b) return 0;
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    memcpy(b.get(), a.get(), kSize);
    asm volatile("" : : "r"(b.get()) : "memory");  // the copy must happen: b is "used"
    best = std::max(best, static_cast<double>(kSize) / Seconds(t0) / 1e9);
  }
  return best;
}

// O_DIRECT throughput over up to `limit` bytes with 1 MiB requests; 0 if O_DIRECT is refused.
double DirectGbps(const std::string& path, bool write_mode, uint64_t limit) {
  const int flags = write_mode ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;
  const int fd = open(path.c_str(), flags | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  constexpr size_t kBlock = 1 << 20;
  auto buf = Aligned(kBlock);
  uint64_t done = 0;
  const auto t0 = Clock::now();
  while (buf && done + kBlock <= limit) {
    const ssize_t n = write_mode ? pwrite(fd, buf.get(), kBlock, static_cast<off_t>(done))
                                 : pread(fd, buf.get(), kBlock, static_cast<off_t>(done));
    if (n != static_cast<ssize_t>(kBlock)) break;
    done += kBlock;
  }
  if (write_mode) fsync(fd);
  const double secs = Seconds(t0);
  close(fd);
  return done == 0 ? 0 : static_cast<double>(done) / secs / 1e9;
}

}  // namespace

Ceilings MeasureCeilings(const std::string& dir, const std::string& source, uint64_t size) {
  Ceilings c;
  c.memcpy_gbps = MemcpyGbps();
  const uint64_t limit = std::min<uint64_t>(size, 1ull << 30);
  c.direct_read_gbps = DirectGbps(source, false, limit);
  const std::string scratch = dir + "/pcopy-bench.direct";
  c.direct_write_gbps = DirectGbps(scratch, true, limit);
  unlink(scratch.c_str());
  return c;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace lab
