// e2e_hostile_environment_test.cc: the real pcopy binary in a hostile environment: outputs that
// cannot be written (/dev/full), and its own process stopped and continued mid-copy. pcopy neither
// dies of it nor claims a success it cannot report, and DEST ends complete.
#include <signal.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

// ---------------------------------------------------------------------------------------------
// Outputs that cannot be written (/dev/full: every write fails with ENOSPC). pcopy must not
// die of it, and must not claim success when its -v report was lost.

// Runs pcopy with stdout and stderr on the given files or devices, stdin on /dev/null.
ExitStatus RunPcopyWithOutputs(const std::vector<std::string>& args, const std::string& out,
                               const std::string& err, int timeout_ms) {
  std::vector<std::string> argv = {PCOPY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunWithOutputs(argv, out, err, timeout_ms);
}

TEST(E2eHostile, ErrorToFullStderr) {
  TempDir t;
  const ExitStatus e =
      RunPcopyWithOutputs({t / "missing", t / "dst"}, "/dev/null", "/dev/full", kHangTimeoutMs);
  EXPECT_EQ(e.signal, 0) << "pcopy died of signal " << e.signal;
  EXPECT_EQ(e.code, 1);
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());

  // --help whose text cannot be written is a failure too.
  const ExitStatus h = RunPcopyWithOutputs({"--help"}, "/dev/full", "/dev/full", kHangTimeoutMs);
  EXPECT_EQ(h.signal, 0);
  EXPECT_NE(h.code, 0);
}

TEST(E2eHostile, VerboseCopyToFullOutputs) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB + 5, 73);
  const std::string original = ReadFile(src);
  const std::vector<std::vector<std::string>> variants = {
      {"-v"}, {"-v", "--progress", "bar", "--bwlimit", "64M"}, {"--progress", "plain", "-v"}};
  for (const auto& options : variants) {
    SCOPED_TRACE(testing::PrintToString(options));
    ASSERT_TRUE(!Exists(dst) || unlink(dst.c_str()) == 0);
    std::vector<std::string> args = {"-j", "2"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {src, dst});
    const ExitStatus e = RunPcopyWithOutputs(args, "/dev/full", "/dev/full", kHangTimeoutMs);
    EXPECT_EQ(e.signal, 0) << "pcopy died of signal " << e.signal;
    EXPECT_NE(e.code, 0) << "the -v report was lost, yet pcopy exited 0";
    EXPECT_NE(e.code, -1);
    EXPECT_TRUE(ReadFile(dst) == original) << "DEST is not complete";
    EXPECT_TRUE(ReadFile(src) == original);
    EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
  }
}

// ---------------------------------------------------------------------------------------------
// The parent stopped (SIGSTOP, as by Ctrl-Z or a debugger) and continued mid-copy: the workers
// carry on (they take chunks from a shared cursor, not from the parent) until every byte is in
// the temporary, nothing is published while the parent is stopped, and the copy completes.

TEST(E2eHostile, ParentStoppedAndContinued) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  constexpr uint64_t kSize = 16 * kMiB + 4095;
  MakeRandomFile(src, kSize, 74);
  const std::string original = ReadFile(src);
  PcopyProcess p({"--bwlimit", "20M", "-j", "2", src, dst});
  ASSERT_EQ(WaitForNWorkers(p, 2).size(), 2u);
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  ASSERT_EQ(kill(p.pid(), SIGSTOP), 0);
  EXPECT_TRUE(WaitUntilCopied(p, t.path(), kSize)) << "the workers stopped with their parent";
  EXPECT_FALSE(Exists(dst)) << "DEST published while the parent was stopped";
  ASSERT_EQ(kill(p.pid(), SIGCONT), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(ReadFile(dst) == original);
  EXPECT_TRUE(ReadFile(src) == original);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

}  // namespace
}  // namespace pcopy::test
