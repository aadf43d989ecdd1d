#include "e2e_copy_util.h"

#include <sys/stat.h>

#include <iterator>
#include <string>
#include <vector>

namespace pcopy::test {
namespace {

std::string DirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

}  // namespace

mode_t CurrentUmask() {
  const mode_t mask = umask(0);
  umask(mask);
  return mask;
}

mode_t PermissionsOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

uint64_t SizeOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return ~0ull;
  return static_cast<uint64_t>(st.st_size);
}

void ExpectCopied(const RunResult& r, const std::string& src, const std::string& dst,
                  bool expect_silent) {
  EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
  EXPECT_EQ(r.signal, 0);
  if (expect_silent) {
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "");
  }
  EXPECT_TRUE(SameBytes(src, dst)) << src << " and " << dst << " differ";
  EXPECT_EQ(SizeOf(dst), SizeOf(src));
  struct stat st {};
  ASSERT_EQ(stat(src.c_str(), &st), 0);
  EXPECT_EQ(PermissionsOf(dst), st.st_mode & 0777 & ~CurrentUmask()) << dst;
  EXPECT_TRUE(Temporaries(DirOf(dst)).empty()) << "temporary left in " << DirOf(dst);
}

void PrintTo(const CopyCase& c, std::ostream* os) {
  *os << "size " << c.size << ", -j " << c.jobs << ", --method " << c.method << ", --chunk-size "
      << (c.small_chunks ? "4K" : "default");
}

std::string CaseName(const testing::TestParamInfo<CopyCase>& info) {
  const CopyCase& c = info.param;
  return "size" + std::to_string(c.size) + "_j" + std::to_string(c.jobs) + "_" +
         ParamName(c.method) + (c.small_chunks ? "_chunk4K" : "_chunkdefault");
}

SourceSet::SourceSet(const std::vector<uint64_t>& sizes) {
  static constexpr mode_t kModes[] = {0644, 0600, 0755, 0640, 0444, 0705};
  size_t i = 0;
  for (uint64_t size : sizes) {
    const std::string path = dir_ / ("src-" + std::to_string(size));
    MakeRandomFile(path, size, 1000 + size);
    chmod(path.c_str(), kModes[i++ % std::size(kModes)]);
    paths_[size] = path;
  }
}

}  // namespace pcopy::test
