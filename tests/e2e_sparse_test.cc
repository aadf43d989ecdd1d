// e2e_sparse_test.cc: --sparse through the real binary. A terabyte of holes is copied at once
// and allocates nothing; files with data between holes come out byte-identical and no larger on
// storage, with every strategy; --sparse=never allocates every byte; --sparse=always leaves the
// zero blocks of a dense file unwritten; --verify and --print-digest cover the holes; the free
// space check counts only the data; bad values are usage errors.
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "sparse_test_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

// Writing a terabyte takes many minutes on any disk; skipping its holes takes milliseconds. The
// bound only tells the two apart, so a loaded machine cannot fail it.
constexpr double kTerabyteSeconds = 20;

RunResult TimedPcopy(const std::vector<std::string>& args, double* seconds) {
  const auto start = std::chrono::steady_clock::now();
  RunResult r = RunPcopy(args);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// ---------------------------------------------------------------------------------------------
// A terabyte file, all hole or with data at both ends, by every strategy.

struct TerabyteCase {
  const char* strategy;
  bool data_at_ends;
};

void PrintTo(const TerabyteCase& c, std::ostream* os) {
  *os << "--strategy " << c.strategy << (c.data_at_ends ? ", data at both ends" : ", all hole");
}

std::string TerabyteCaseName(const testing::TestParamInfo<TerabyteCase>& info) {
  return std::string(info.param.strategy) + (info.param.data_at_ends ? "_data_at_ends" : "_holes");
}

class E2eSparseTerabyte : public testing::TestWithParam<TerabyteCase> {};

TEST_P(E2eSparseTerabyte, CopiedAtOnceAllocatingOnlyTheData) {
  const TerabyteCase& c = GetParam();
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  std::vector<ByteRange> data;
  if (c.data_at_ends) data = {{0, kMiB + 5}, {kTiB - 3 * kKiB, 3 * kKiB}};
  MakeSparseFile(src, kTiB, data);
  double seconds = 0;
  const RunResult r = TimedPcopy({"-j", "4", "--strategy", c.strategy, src, dst}, &seconds);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_LT(seconds, kTerabyteSeconds);
  EXPECT_EQ(SizeOf(dst), kTiB);
  EXPECT_LE(AllocatedBytes(dst), AllocatedBytes(src));
  if (!c.data_at_ends) {
    EXPECT_EQ(AllocatedBytes(dst), 0u);
  }
  EXPECT_TRUE(SameSparseFile(src, dst));
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

INSTANTIATE_TEST_SUITE_P(Strategies, E2eSparseTerabyte,
                         testing::Values(TerabyteCase{"dynamic", false},
                                         TerabyteCase{"contiguous", true},
                                         TerabyteCase{"interleaved", true},
                                         TerabyteCase{"dynamic", true},
                                         TerabyteCase{"guided", true}),
                         TerabyteCaseName);

// ---------------------------------------------------------------------------------------------
// Patterns of data and holes x strategy x -j, compared byte for byte as cmp does.

constexpr uint64_t kPatternSize = 24 * kMiB + 1234;

struct Pattern {
  const char* name;
  std::vector<ByteRange> data;
};

std::vector<Pattern> Patterns() {
  std::vector<ByteRange> many;
  for (uint64_t i = 0; i < 64; ++i) many.push_back({i * 360 * kKiB + 100, 4 * kKiB + i * 97});
  return {{"head", {{0, 3 * kMiB}}},
          {"tail", {{kPatternSize - 5000, 5000}}},
          {"middle_unaligned", {{kMiB + 1, 100}, {9 * kMiB - 7, 2 * kMiB + 9}}},
          {"many_small", many}};
}

struct PatternCase {
  Pattern pattern;
  const char* strategy;
  unsigned jobs;
};

void PrintTo(const PatternCase& c, std::ostream* os) {
  *os << c.pattern.name << ", --strategy " << c.strategy << ", -j " << c.jobs;
}

std::string PatternCaseName(const testing::TestParamInfo<PatternCase>& info) {
  return std::string(info.param.pattern.name) + "_" + info.param.strategy + "_j" +
         std::to_string(info.param.jobs);
}

std::vector<PatternCase> PatternCases() {
  std::vector<PatternCase> cases;
  for (const Pattern& p : Patterns()) {
    for (const char* s : {"contiguous", "interleaved", "dynamic", "guided"}) {
      for (unsigned jobs : {1u, 3u}) cases.push_back({p, s, jobs});
    }
  }
  return cases;
}

class E2eSparsePatterns : public testing::TestWithParam<PatternCase> {};

TEST_P(E2eSparsePatterns, SameBytesNoMoreBlocks) {
  const PatternCase& c = GetParam();
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeSparseFile(src, kPatternSize, c.pattern.data, 7);
  const RunResult r = RunPcopy(
      {"-j", std::to_string(c.jobs), "--strategy", c.strategy, "--chunk-size", "256K", src, dst});
  ExpectCopied(r, src, dst);
  EXPECT_LE(AllocatedBytes(dst), AllocatedBytes(src));
  EXPECT_EQ(DataOf(dst), DataOf(src));
}

INSTANTIATE_TEST_SUITE_P(Layouts, E2eSparsePatterns, testing::ValuesIn(PatternCases()),
                         PatternCaseName);

// ---------------------------------------------------------------------------------------------
// never, always, and the checks that read the copy back.

TEST(E2eSparse, NeverWritesEveryByte) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeSparseFile(src, 16 * kMiB, {{4 * kMiB, kMiB}}, 3);
  ExpectCopied(RunPcopy({"--sparse=never", "-j", "2", src, dst}), src, dst);
  EXPECT_GE(AllocatedBytes(dst), 16 * kMiB);
  EXPECT_EQ(DataOf(dst), (std::vector<ByteRange>{{0, 16 * kMiB}}));
}

// A dense file with 2 MiB of written zeros: auto copies it as it is (it has no holes to keep);
// always leaves the zero blocks unwritten.
TEST(E2eSparse, AlwaysLeavesZeroBlocksUnwritten) {
  TempDir t;
  const std::string src = t / "src", auto_dst = t / "auto", always_dst = t / "always";
  MakeSparseFile(src, 8 * kMiB, {{0, 3 * kMiB}, {5 * kMiB, 3 * kMiB}}, 5);
  WriteZeros(src, 3 * kMiB, 2 * kMiB);
  ASSERT_GE(AllocatedBytes(src), 8 * kMiB);
  ExpectCopied(RunPcopy({"-j", "2", src, auto_dst}), src, auto_dst);
  EXPECT_GE(AllocatedBytes(auto_dst), 8 * kMiB);
  ExpectCopied(RunPcopy({"--sparse=always", "-j", "2", src, always_dst}), src, always_dst);
  EXPECT_LE(AllocatedBytes(always_dst), 6 * kMiB + 64 * kKiB);
  EXPECT_EQ(DataOf(always_dst), (std::vector<ByteRange>{{0, 3 * kMiB}, {5 * kMiB, 3 * kMiB}}));
}

// The digest covers the whole length, the holes read as zeros: it equals --checksum's of SOURCE.
TEST(E2eSparse, VerifyAndDigestCoverTheHoles) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeSparseFile(src, 40 * kMiB + 3, {{kMiB, 2 * kMiB}, {30 * kMiB + 1, 100}}, 9);
  const RunResult sum = RunPcopy({"--checksum", src});
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  const std::string digest = sum.out.substr(0, sum.out.find(' '));
  for (const char* mode : {"--sparse=auto", "--sparse=always"}) {
    SCOPED_TRACE(mode);
    const RunResult r = RunPcopy({mode, "--verify", "--print-digest", "-j", "3", src, dst});
    ExpectCopied(r, src, dst, false);
    EXPECT_EQ(r.out, digest + "  " + dst + "\n");
    EXPECT_LE(AllocatedBytes(dst), AllocatedBytes(src));
  }
}

TEST(E2eSparse, VerboseSaysHowMuchIsData) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeSparseFile(src, kTiB, {{kMiB, kMiB}});
  const RunResult r = RunPcopy({"-v", "-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.err.find("pcopy: sparse: 1 data extent, 1.00 MiB of 1.00 TiB; the holes stay holes\n"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("pcopy: copied 1.00 TiB (1.00 MiB of data, the rest holes) in "),
            std::string::npos)
      << r.err;
}

TEST(E2eSparse, BadValuesAreUsageErrors) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeSparseFile(src, kMiB, {{0, 4096}});
  const std::vector<std::vector<std::string>> cases = {
      {"--sparse=sometimes"},
      {"--sparse="},
      {"--sparse", "AUTO"},
      {"--sparse=always", "--method", "mmap"},
      {"--sparse=always", "--method", "copy_file_range"}};
  for (const std::vector<std::string>& args : cases) {
    SCOPED_TRACE(testing::PrintToString(args));
    std::vector<std::string> argv = args;
    argv.insert(argv.end(), {src, dst});
    const RunResult r = RunPcopy(argv);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(IsOneLine(r.err)) << r.err;
    EXPECT_TRUE(EndsWith(r.err, " (try 'pcopy --help')\n")) << r.err;
    EXPECT_FALSE(Exists(dst));
  }
}

// A 4 MiB tmpfs takes a terabyte file holding 1 MiB of data: only the data needs room.
TEST(E2eSparseSmallTmpfs, FreeSpaceCountsOnlyTheData) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir t;
  const std::string mnt = t / "mnt", src = t / "src", dst = mnt + "/dst";
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  TmpfsMount mount(mnt, "size=4m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  MakeSparseFile(src, kTiB, {{kTiB / 2, kMiB}}, 11);
  const RunResult r = RunPcopy({"-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SizeOf(dst), kTiB);
  EXPECT_LE(AllocatedBytes(dst), kMiB + 64 * kKiB);
  EXPECT_TRUE(SameSparseFile(src, dst));
  EXPECT_EQ(ListDir(mnt), std::vector<std::string>{"dst"});
}

}  // namespace
}  // namespace pcopy::test
