// page_cache.h: how much of a file is in the page cache now, asked before a copy starts so that
// -v can say whether SOURCE was read from memory or from storage.
//
// cachestat(2) answers for the whole file in one call (Linux 6.5 and later). Older kernels answer
// ENOSYS, and then mincore(2) looks at the file mapped a window at a time (the mapping touches no
// page, so it reads nothing); a file larger than kSampledWindows windows is sampled, windows
// spread evenly over it. No fork concerns: the parent asks once.
#pragma once

#include <cstdint>
#include <optional>

#include "os/sys_calls.h"

namespace pcopy {

struct CacheShare {
  uint64_t cached = 0;  // bytes of the file in the page cache (estimated where sampled)
  uint64_t size = 0;
  const char* how = "";  // "cachestat" or "mincore"
  double fraction() const {
    return size == 0 ? 1 : static_cast<double>(cached) / static_cast<double>(size);
  }
};

inline constexpr uint64_t kCacheWindow = 64ull << 20;
inline constexpr uint64_t kSampledWindows = 64;

// The share of fd's first size bytes in the page cache; nullopt where neither call answers (a
// file that cannot be mapped, such as one on a FUSE file system without mmap).
std::optional<CacheShare> CachedShare(const SysCalls& sys, int fd, uint64_t size);

}  // namespace pcopy
