// e2e_copy_strategies_test.cc: every scheduling strategy (contiguous, interleaved, dynamic,
// guided) copies byte-exact across sizes x -j x chunk size x method; a slow worker's chunks are
// taken over, --slow-worker slows worker 0, and a worker killed mid-copy fails it cleanly.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

// ---------------------------------------------------------------------------------------------
// Every strategy x size x -j x chunk size x method.

struct StrategyCase {
  const char* strategy;
  CopyCase copy;
};

void PrintTo(const StrategyCase& c, std::ostream* os) {
  *os << "--strategy " << c.strategy << ", ";
  PrintTo(c.copy, os);
}

std::string StrategyCaseName(const testing::TestParamInfo<StrategyCase>& info) {
  return std::string(info.param.strategy) + "_" +
         CaseName(testing::TestParamInfo<CopyCase>(info.param.copy, info.index));
}

const std::vector<uint64_t> kStrategySizes = {0, 1, 4097, kMiB + 7, 16 * kMiB + 4095};

class E2eStrategyMatrix : public testing::TestWithParam<StrategyCase> {
 protected:
  static void SetUpTestSuite() { sources_ = new SourceSet(kStrategySizes); }
  static void TearDownTestSuite() {
    delete sources_;
    sources_ = nullptr;
  }
  static SourceSet* sources_;
};

SourceSet* E2eStrategyMatrix::sources_ = nullptr;

TEST_P(E2eStrategyMatrix, CopiesByteExact) {
  const StrategyCase& c = GetParam();
  TempDir out;
  const std::string src = sources_->Path(c.copy.size), dst = out / "dst";
  std::vector<std::string> args = {"--strategy", c.strategy,   "-j", std::to_string(c.copy.jobs),
                                   "--method",   c.copy.method};
  if (c.copy.small_chunks) {
    args.push_back("--chunk-size");
    args.push_back("4K");
  }
  args.push_back(src);
  args.push_back(dst);
  ExpectCopied(RunPcopy(args), src, dst);
  EXPECT_EQ(out.List(), std::vector<std::string>{"dst"});
}

std::vector<StrategyCase> StrategyCases() {
  std::vector<StrategyCase> cases;
  for (const char* strategy : {"contiguous", "interleaved", "dynamic", "guided"}) {
    for (uint64_t size : kStrategySizes) {
      for (unsigned jobs : {1u, 2u, 3u, 7u, 16u}) {
        for (bool small : {true, false}) {
          // On ext4 auto is pread/pwrite; copy_file_range+pread is what it is on xfs or btrfs.
          for (const char* method : {"auto", "copy_file_range+pread"}) {
            cases.push_back({strategy, {size, jobs, method, small}});
          }
        }
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(E2eCopy, E2eStrategyMatrix, testing::ValuesIn(StrategyCases()),
                         StrategyCaseName);

// A slow worker under dynamic scheduling: the other worker takes over the chunks it does not get
// to, and the copy is still complete.
TEST(E2eCopy, DynamicWithSlowWorkerIsByteExact) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 64 * kMiB, 20);
  ExpectCopied(RunPcopy({"--strategy", "dynamic", "-j", "2", "--slow-worker", "4", "--chunk-size",
                         "1M", src, dst}),
               src, dst);
  const std::string dst2 = t / "dst2";
  const RunResult r = RunPcopy({"-v", "--strategy", "guided", "-j", "3", "--slow-worker", "2.5",
                                "--chunk-size", "1M", "--method", "pread", src, dst2});
  ExpectCopied(r, src, dst2, /*expect_silent=*/false);
  EXPECT_NE(r.err.find("plan: guided, 3 workers"), std::string::npos) << r.err;
}

TEST(E2eCopy, VerboseDynamicPrintsChunks) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB + 3, 21);
  const RunResult r = RunPcopy({"-v", "--strategy", "dynamic", "-j", "2", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
  EXPECT_NE(r.err.find("pcopy: plan: dynamic, 2 workers"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("5 chunks"), std::string::npos) << r.err;  // 4 of 1 MiB and 3 bytes
  EXPECT_NE(r.err.find("with 2 workers"), std::string::npos) << r.err;
}

// --slow-worker makes worker 0 FACTOR times slower than it would be, --bwlimit or not. 16 MiB
// at 32M/s over 2 contiguous workers is 0.5 s; with worker 0 four times slower its 8 MiB take 2 s.
TEST(E2eCopy, SlowWorkerIsSlowerUnderBwlimit) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB, 22);
  const auto start = std::chrono::steady_clock::now();
  ExpectCopied(RunPcopy({"--strategy", "contiguous", "--bwlimit", "32M", "-j", "2", "--slow-worker",
                         "4", src, dst}),
               src, dst);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(took, 1.2) << "worker 0 was not slowed down: the copy took " << took << " s";
}

// A worker killed in the middle of a dynamic copy: the copy fails, and nothing is published.
TEST(E2eCopy, DynamicWorkerKilledFailsCleanly) {
  TempDir t;
  const std::string src = t / "src", dst = t / "out/dst";
  MakeRandomFile(src, 32 * kMiB, 23);
  ASSERT_EQ(mkdir((t / "out").c_str(), 0755), 0);
  // --bwlimit 20M: about 1.6 s; the worker is killed once the first bytes have landed.
  PcopyProcess p(
      {"--strategy", "dynamic", "--retries", "0", "--bwlimit", "20M", "-j", "2", src, dst});
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u) << "pcopy did not start 2 workers";
  ASSERT_TRUE(WaitUntilCopied(p, t / "out", kMiB));
  ASSERT_EQ(kill(workers[0], SIGKILL), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dst));
  EXPECT_TRUE(Temporaries(t / "out").empty());
  EXPECT_TRUE(ListDir(t / "out").empty()) << testing::PrintToString(ListDir(t / "out"));
  // The other worker does not outlive the copy.
  for (pid_t w : workers) EXPECT_NE(kill(w, 0), 0) << "worker " << w << " still exists";
}

}  // namespace
}  // namespace pcopy::test
