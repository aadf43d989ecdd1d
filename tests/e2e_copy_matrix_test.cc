// e2e_copy_matrix_test.cc: the real pcopy binary copies byte-exact across sizes (0 to 256 MiB,
// aligned or not) x -j x the default methods x chunk size, and with unaligned ranges and the
// largest -j.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

void RunCopyCase(const CopyCase& c, const std::string& src) {
  TempDir out;
  const std::string dst = out / "dst";
  std::vector<std::string> args = {"-j", std::to_string(c.jobs), "--method", c.method};
  if (c.small_chunks) {
    args.push_back("--chunk-size");
    args.push_back("4K");
  }
  args.push_back(src);
  args.push_back(dst);
  const RunResult r = RunPcopy(args);
  ExpectCopied(r, src, dst);
  EXPECT_EQ(out.List(), std::vector<std::string>{"dst"});
}

const std::vector<uint64_t> kSmallSizes = {0, 1, 4095, 4096, 4097, kMiB + 7, 16 * kMiB + 4095};

class E2eCopyMatrix : public testing::TestWithParam<CopyCase> {
 protected:
  static void SetUpTestSuite() { sources_ = new SourceSet(kSmallSizes); }
  static void TearDownTestSuite() {
    delete sources_;
    sources_ = nullptr;
  }
  static SourceSet* sources_;
};

SourceSet* E2eCopyMatrix::sources_ = nullptr;

TEST_P(E2eCopyMatrix, CopiesByteExact) { RunCopyCase(GetParam(), sources_->Path(GetParam().size)); }

std::vector<CopyCase> SmallCases() {
  std::vector<CopyCase> cases;
  for (uint64_t size : std::initializer_list<uint64_t>{0, 1, 4095, 4096, 4097, kMiB + 7}) {
    for (unsigned jobs : {1u, 2u, 3u, 7u, 16u}) {
      for (const char* method : {"auto", "copy_file_range", "copy_file_range+pread", "pread"}) {
        for (bool small : {false, true}) cases.push_back({size, jobs, method, small});
      }
    }
  }
  // A larger unaligned size, so the default chunk size also gives many workers.
  for (unsigned jobs : {3u, 16u}) {
    for (const char* method : {"auto", "copy_file_range", "copy_file_range+pread", "pread"}) {
      cases.push_back({16 * kMiB + 4095, jobs, method, false});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(E2eCopy, E2eCopyMatrix, testing::ValuesIn(SmallCases()), CaseName);

// 256 MiB only with a few job counts and the explicit methods: it is the expensive part.
constexpr uint64_t kLargeSize = 256 * kMiB;

class E2eCopyLarge : public testing::TestWithParam<CopyCase> {
 protected:
  static void SetUpTestSuite() { sources_ = new SourceSet({kLargeSize}); }
  static void TearDownTestSuite() {
    delete sources_;
    sources_ = nullptr;
  }
  static SourceSet* sources_;
};

SourceSet* E2eCopyLarge::sources_ = nullptr;

TEST_P(E2eCopyLarge, CopiesByteExact) { RunCopyCase(GetParam(), sources_->Path(kLargeSize)); }

INSTANTIATE_TEST_SUITE_P(E2eCopy, E2eCopyLarge,
                         testing::Values(CopyCase{kLargeSize, 1, "copy_file_range", false},
                                         CopyCase{kLargeSize, 2, "copy_file_range+pread", false},
                                         CopyCase{kLargeSize, 2, "copy_file_range", false},
                                         CopyCase{kLargeSize, 7, "copy_file_range", false},
                                         CopyCase{kLargeSize, 1, "pread", false},
                                         CopyCase{kLargeSize, 2, "pread", false},
                                         CopyCase{kLargeSize, 7, "pread", false},
                                         CopyCase{kLargeSize, 2, "sendfile", false},
                                         CopyCase{kLargeSize, 2, "mmap", false},
                                         CopyCase{kLargeSize, 2, "direct", false}),
                         CaseName);

// --chunk-size 1 lifts the 4 KiB alignment of range boundaries, so workers split pages; the
// largest -j spawns the most processes pcopy allows.
TEST(E2eCopy, UnalignedRangesAndMaximumJobs) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4097, 18);
  for (const char* method : {"auto", "copy_file_range", "copy_file_range+pread", "pread"}) {
    SCOPED_TRACE(method);
    const std::string dst = t / (std::string("dst-") + method);
    ExpectCopied(RunPcopy({"-j", "16", "--chunk-size", "1", "--method", method, src, dst}), src,
                 dst);
  }
  const std::string big = t / "big", dst = t / "dst-1024";
  MakeRandomFile(big, kMiB + 7, 19);
  const RunResult r =
      RunPcopy({"-v", "-j", "1024", "--chunk-size", "1", "--strategy", "contiguous", big, dst});
  ExpectCopied(r, big, dst, /*expect_silent=*/false);
  EXPECT_NE(r.err.find("plan: contiguous, 1024 workers"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pcopy::test
