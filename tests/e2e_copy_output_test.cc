// e2e_copy_output_test.cc: what a successful copy prints: the -v plan and method, progress
// (plain, bar, none, quiet, or no terminal), --help and --version.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

TEST(E2eCopy, VerbosePrintsPlanAndMethod) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4 * kMiB + 3, 11);
  for (const char* method : {"copy_file_range", "pread"}) {
    SCOPED_TRACE(method);
    const std::string dst = t / (std::string("dst-") + method);
    const RunResult r = RunPcopy({"-v", "-j", "2", "--method", method, src, dst});
    ExpectCopied(r, src, dst, /*expect_silent=*/false);
    EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
    // The default strategy.
    EXPECT_NE(r.err.find("pcopy: plan: dynamic, 2 workers"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(std::string("method ") + method), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("with 2 workers"), std::string::npos) << r.err;
  }
}

TEST(E2eCopy, ProgressPlainEndsWithTheSummary) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB, 12);
  const RunResult r = RunPcopy({"--progress", "plain", "-j", "2", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.out, "");
  // Plain lines end with the summary alone, as the bar does (a 4 MiB copy may print no line
  // before it).
  ASSERT_FALSE(r.err.empty());
  const size_t last = r.err.rfind('\n', r.err.size() - 2);
  const std::string summary = last == std::string::npos ? r.err : r.err.substr(last + 1);
  EXPECT_EQ(summary.rfind("pcopy: copied 4.00 MiB in ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("pcopy: 100.0%"), std::string::npos) << r.err;
}

TEST(E2eCopy, ProgressBarWithoutTerminalEndsComplete) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB, 17);
  const RunResult r = RunPcopy({"--progress", "bar", "-j", "2", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.out, "");
  // The last frame says how long it took; then one summary line, the copy's last word.
  EXPECT_NE(r.err.find("100.0% 4.00 MiB/4.00 MiB "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/s in 0:0"), std::string::npos) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n') << "the bar's last line is not ended";
  const size_t last = r.err.rfind('\n', r.err.size() - 2);
  ASSERT_NE(last, std::string::npos) << r.err;
  const std::string summary = r.err.substr(last + 1);
  EXPECT_EQ(summary.rfind("pcopy: copied 4.00 MiB in ", 0), 0u) << r.err;
  EXPECT_NE(summary.find("iB/s) with 2 workers, method "), std::string::npos) << summary;

  // A tree's bar ends the same way; --si prints powers of 1000; -q none of it.
  ASSERT_EQ(mkdir((t / "tree").c_str(), 0700), 0);
  MakeRandomFile(t / "tree/f", 2 * kMiB, 3);
  const RunResult tree = RunPcopy({"--progress", "bar", "--si", "-r", t / "tree", t / "copy"});
  EXPECT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_NE(tree.err.find("\npcopy: copied 1 file and 1 directory (2.10 MB) in "),
            std::string::npos)
      << tree.err;
  EXPECT_NE(tree.err.find(" MB/s) with "), std::string::npos) << tree.err;
  const RunResult quiet = RunPcopy({"--progress", "bar", "-q", src, t / "quiet"});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err, "");
}

TEST(E2eCopy, ProgressNoneQuietAndNoTerminalPrintNothing) {
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 4 * kMiB, 13);
  const std::vector<std::vector<std::string>> variants = {
      {"--progress", "none"}, {"-q"}, {"--quiet", "--progress", "plain"}, {}};
  int i = 0;
  for (const auto& options : variants) {
    const std::string dst = t / ("dst" + std::to_string(i++));
    std::vector<std::string> args = options;
    args.insert(args.end(), {"-j", "2", src, dst});
    SCOPED_TRACE(testing::PrintToString(args));
    ExpectCopied(RunPcopy(args), src, dst);  // checks that stdout and stderr are empty
  }
}

TEST(E2eCopy, HelpAndVersion) {
  RunResult r = RunPcopy({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("Usage: pcopy", 0), 0u) << r.out;
  for (const char* option : {"--jobs", "--chunk-size", "--method", "--progress", "--no-clobber",
                             "--fsync", "--bwlimit", "--verbose", "--quiet"}) {
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  }
  EXPECT_NE(r.out.find("130 SIGINT"), std::string::npos);
  r = RunPcopy({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("pcopy ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace pcopy::test
