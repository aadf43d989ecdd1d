#include "os/page_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace pcopy {
namespace {

// Pages of [offset, offset + length) resident, by mincore on a mapping of just that window.
std::optional<uint64_t> ResidentPages(const SysCalls& sys, int fd, uint64_t offset, uint64_t length,
                                      uint64_t page, std::vector<unsigned char>* vec) {
  void* map = sys.mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (map == MAP_FAILED) return std::nullopt;
  vec->assign((length + page - 1) / page, 0);
  const int r = sys.mincore(map, length, vec->data());
  sys.munmap(map, length);
  if (r != 0) return std::nullopt;
  return static_cast<uint64_t>(
      std::count_if(vec->begin(), vec->end(), [](unsigned char c) { return (c & 1) != 0; }));
}

std::optional<CacheShare> ByMincore(const SysCalls& sys, int fd, uint64_t size) {
  const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t windows = (size + kCacheWindow - 1) / kCacheWindow;
  const uint64_t looked = std::min(windows, kSampledWindows);
  std::vector<unsigned char> vec;
  uint64_t cached = 0, seen = 0;
  for (uint64_t i = 0; i < looked; ++i) {
    const uint64_t offset = i * windows / looked * kCacheWindow;
    const uint64_t length = std::min(kCacheWindow, size - offset);
    const std::optional<uint64_t> pages = ResidentPages(sys, fd, offset, length, page, &vec);
    if (!pages) return std::nullopt;
    cached += std::min(*pages * page, length);
    seen += length;
  }
  const double share = seen == 0 ? 1 : static_cast<double>(cached) / static_cast<double>(seen);
  return CacheShare{static_cast<uint64_t>(share * static_cast<double>(size)), size, "mincore"};
}

}  // namespace

std::optional<CacheShare> CachedShare(const SysCalls& sys, int fd, uint64_t size) {
  if (size == 0) return CacheShare{0, 0, "cachestat"};
  uint64_t pages = 0;
  if (sys.cachestat_pages(fd, 0, size, &pages) == 0) {
    const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    return CacheShare{std::min(pages * page, size), size, "cachestat"};
  }
  if (errno != ENOSYS && errno != EPERM) return std::nullopt;
  return ByMincore(sys, fd, size);
}

}  // namespace pcopy
