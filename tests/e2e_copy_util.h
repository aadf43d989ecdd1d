// e2e_copy_util.h: what the end-to-end copy tests share. They run successful copies through the
// real pcopy binary, and every one compares real bytes, checks the exit code, what was printed,
// the mode of DEST and that no temporary is left (ExpectCopied). The copy matrices share
// CopyCase and SourceSet.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <iterator>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {

inline constexpr uint64_t kMiB = 1ull << 20;

mode_t CurrentUmask();
// The permission bits of path, or (mode_t)-1 if it cannot be stat'ed.
mode_t PermissionsOf(const std::string& path);
// The size of path, or ~0 if it cannot be stat'ed.
uint64_t SizeOf(const std::string& path);

// What every successful copy must leave behind: exit 0, nothing on stderr (no terminal, so no
// progress by default), DEST byte-identical, DEST's mode the source's permissions less the umask,
// and no temporary beside DEST.
void ExpectCopied(const RunResult& r, const std::string& src, const std::string& dst,
                  bool expect_silent = true);

// One cell of the size x jobs x method x chunk-size matrix.
struct CopyCase {
  uint64_t size;
  unsigned jobs;
  // auto, copy_file_range, copy_file_range+pread, pread (and, 256 MiB only, sendfile, mmap,
  // direct)
  const char* method;
  bool small_chunks;  // --chunk-size 4K instead of the default 1M
};

void PrintTo(const CopyCase& c, std::ostream* os);
std::string CaseName(const testing::TestParamInfo<CopyCase>& info);

// Source files, one per size, made once per suite. Their modes differ so that DEST's mode is
// seen to follow the source's.
class SourceSet {
 public:
  explicit SourceSet(const std::vector<uint64_t>& sizes);
  const std::string& Path(uint64_t size) const { return paths_.at(size); }

 private:
  TempDir dir_;
  std::map<uint64_t, std::string> paths_;
};

}  // namespace pcopy::test
