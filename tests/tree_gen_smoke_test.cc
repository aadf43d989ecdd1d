// tree_gen_smoke_test.cc: pcopy-tree-gen (bench/tree_gen.cc), the generator of the tree
// benchmark, gives the same tree for the same seed, a different one for another seed, follows
// --scale, keeps to its size and fan-out bounds, and refuses a tree the disk cannot hold.
// Small scales only: the whole file runs in about a second.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "test_util.h"

namespace pcopy::test {
namespace {

#ifdef PCOPY_TREE_GEN_BINARY

namespace fs = std::filesystem;

RunResult Generate(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PCOPY_TREE_GEN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

uint64_t Fnv1a(const std::string& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// One line per entry, sorted: path, type, mode, size and content hash (files), mtime.
std::string Listing(const std::string& root) {
  std::vector<std::string> lines;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    struct stat st;
    EXPECT_EQ(lstat(e.path().c_str(), &st), 0) << e.path();
    std::ostringstream line;
    line << fs::relative(e.path(), root).native() << " " << std::oct << st.st_mode << std::dec
         << " " << st.st_mtim.tv_sec;
    if (S_ISREG(st.st_mode)) line << " " << st.st_size << " " << Fnv1a(ReadFile(e.path()));
    lines.push_back(line.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  return all;
}

struct TreeStats {
  std::vector<uint64_t> sizes;            // of every regular file, sorted
  std::map<std::string, size_t> entries;  // per directory, the root included
};

TreeStats Stats(const std::string& root) {
  TreeStats s;
  s.entries[root] = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    ++s.entries[e.path().parent_path().native()];
    if (e.is_directory()) s.entries.try_emplace(e.path().native(), 0);
    if (e.is_regular_file()) s.sizes.push_back(e.file_size());
  }
  std::sort(s.sizes.begin(), s.sizes.end());
  return s;
}

TEST(TreeGenSmoke, SameSeedSameTreeAndScaleSetsTheCount) {
  TempDir t;
  const RunResult plan =
      Generate({"--plan", "--shape", "a", "--scale", "0.01", "--seed", "7", t / "planned"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.out.rfind("files 1000 dirs ", 0), 0u) << plan.out;
  EXPECT_FALSE(Exists(t / "planned"));  // --plan writes nothing
  for (const char* dir : {"one", "two"}) {
    const RunResult r = Generate({"--shape", "a", "--scale", "0.01", "--seed", "7", t / dir});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, plan.out);
  }
  const std::string listing = Listing(t / "one");
  EXPECT_EQ(listing, Listing(t / "two"));
  ASSERT_EQ(Generate({"--shape", "a", "--scale", "0.01", "--seed", "8", t / "other"}).exit_code, 0);
  EXPECT_NE(listing, Listing(t / "other"));

  const TreeStats s = Stats(t / "one");
  ASSERT_EQ(s.sizes.size(), 1000u);
  const uint64_t median = s.sizes[s.sizes.size() / 2];
  EXPECT_GE(median, 2048u);  // ~4 KiB
  EXPECT_LE(median, 8192u);
  EXPECT_LE(s.sizes.back(), 1u << 20);
  EXPECT_GT(s.sizes.back(), 64u << 10);  // a tail
  EXPECT_GT(s.entries.size(), 1u);
  for (const auto& [dir, n] : s.entries) {
    EXPECT_GE(n, 1u) << dir;
    EXPECT_LE(n, 1000u + 16) << dir;  // files, plus at most 16 subdirectories or so
  }
}

TEST(TreeGenSmoke, ScaleShrinksLargeFiles) {
  TempDir t;
  ASSERT_EQ(Generate({"--shape", "b", "--scale", "0.00001", t / "b"}).exit_code, 0);
  const TreeStats b = Stats(t / "b");
  EXPECT_EQ(b.sizes, std::vector<uint64_t>(8, 5369));  // 512 MiB / 100,000
  ASSERT_EQ(Generate({"--shape", "c", "--scale", "0.001", t / "c"}).exit_code, 0);
  const TreeStats c = Stats(t / "c");
  ASSERT_EQ(c.sizes.size(), 2u + 20);  // 2 large files beside 20,000 / 1,000 small ones
  EXPECT_EQ(std::count(c.sizes.begin(), c.sizes.end(), 1073742u), 2);  // 1 GiB / 1,000
}

TEST(TreeGenSmoke, ManyDirectoriesOfEmptyFiles) {
  TempDir t;
  const RunResult r = Generate({"--shape", "million", "--scale", "0.005", t / "m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;  // no file's name may be a directory's
  const TreeStats m = Stats(t / "m");
  EXPECT_EQ(m.sizes, std::vector<uint64_t>(5'000, 0));
  EXPECT_GT(m.entries.size(), 20u);
}

TEST(TreeGenSmoke, RefusesWhatDoesNotFitOrIsNotEmpty) {
  TempDir t;
  const RunResult huge = Generate({"--shape", "b", "--scale", "100000", t / "huge"});
  EXPECT_EQ(huge.exit_code, 1);
  EXPECT_NE(huge.err.find("pcopy-tree-gen: the tree needs "), std::string::npos) << huge.err;
  EXPECT_NE(huge.err.find("(a smaller --scale fits)"), std::string::npos) << huge.err;
  EXPECT_FALSE(Exists(t / "huge"));

  WriteFile(t / "full", "x");
  const RunResult full = Generate({"--shape", "a", "--scale", "0.0001", t.path()});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_NE(full.err.find("not an empty directory"), std::string::npos) << full.err;
  EXPECT_EQ(Generate({"--shape", "z", t / "z"}).exit_code, 2);
}

#else

TEST(TreeGenSmoke, SameSeedSameTreeAndScaleSetsTheCount) {
  GTEST_SKIP() << "benchmarks are not built in this configuration (PCOPY_BUILD_BENCH=OFF)";
}

#endif

}  // namespace
}  // namespace pcopy::test
