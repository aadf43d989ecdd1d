// e2e_demo_test.cc: the demo as a new user runs it (`pcopy --demo`, here a small one): cp's time
// first, on the same file, then pcopy's copy, the ratio, the byte-for-byte check, and nothing
// left in TMPDIR; without cp in PATH the demo still runs, and says why there is no comparison.
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr int kTimeoutMs = 60000;

RunResult RunDemo(const std::string& tmpdir, const std::string& path,
                  const std::vector<std::string>& more = {}) {
  std::vector<std::string> argv = {"env",    "TMPDIR=" + tmpdir, "PATH=" + path, PCOPY_BINARY,
                                   "--demo", "--demo-size",      "12M",          "-j",
                                   "2"};
  argv.insert(argv.end(), more.begin(), more.end());
  return RunCommand(argv, kTimeoutMs);
}

// The lines of text, without their newlines.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

TEST(E2eDemo, ComparesWithCpAndChecksTheCopy) {
  TempDir tmp;
  const char* path = getenv("PATH");
  const RunResult r = RunDemo(tmp.path(), path != nullptr ? path : "/usr/bin:/bin");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0].rfind(
                "pcopy demo: writing 12.0 MiB of random data to " + tmp.path() + "/pcopy-demo-", 0),
            0u)
      << lines[0];
  EXPECT_EQ(lines[1].rfind("pcopy demo: before: cp " + tmp.path(), 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("pcopy demo: cp took ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("pcopy demo: after: pcopy -j 2 " + tmp.path(), 0), 0u) << lines[3];
  EXPECT_EQ(lines[4].rfind("pcopy demo: pcopy took ", 0), 0u) << lines[4];
  EXPECT_NE(lines[4].find(" s for 12.0 MiB: "), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("x cp's speed (cp: "), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("The copy is identical to the source, byte for byte. Removed the "
                          "demo files."),
            std::string::npos)
      << lines[4];
  EXPECT_EQ(tmp.List(), std::vector<std::string>{}) << "the demo left files behind";
}

// The "after" line is the command that ran: the options given to the demo that change the copy.
TEST(E2eDemo, TheAfterLineNamesTheOptionsGiven) {
  TempDir tmp;
  const char* path = getenv("PATH");
  const RunResult r = RunDemo(tmp.path(), path != nullptr ? path : "/usr/bin:/bin",
                              {"--strategy", "contiguous", "--bwlimit", "1G", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pcopy demo: after: pcopy -j 2 --strategy contiguous --bwlimit 1073741824 "
                       "--verify " +
                       tmp.path()),
            std::string::npos)
      << r.out;
  EXPECT_EQ(tmp.List(), std::vector<std::string>{});
}

TEST(E2eDemo, WithoutCpItSaysSoAndStillCopies) {
  TempDir tmp;
  const RunResult r = RunDemo(tmp.path(), tmp.path());  // a PATH with no cp in it
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\npcopy demo: no cp in PATH: no comparison with cp\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("cp's speed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("identical to the source, byte for byte"), std::string::npos) << r.out;
  EXPECT_EQ(tmp.List(), std::vector<std::string>{});
}

}  // namespace
}  // namespace pcopy::test
