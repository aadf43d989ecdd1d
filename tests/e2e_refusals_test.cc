// e2e_refusals_test.cc: what the real pcopy binary refuses before it creates anything, in cp's
// words: a copy onto itself named as the user typed it; and the verify step's data sync named
// after the call it makes (fdatasync).
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

// cp: "'foo' and 'link' are the same file": the operands as typed, not the resolved target.
TEST(E2eRefusals, SameFileNamesTheOperandsAsTyped) {
  TempDir t;
  const std::string src = t / "foo", link = t / "link", dir_link = t / "dir-link";
  MakeRandomFile(src, kMiB + 1, 114);
  ASSERT_EQ(symlink("foo", link.c_str()), 0);
  ASSERT_EQ(symlink(".", dir_link.c_str()), 0);
  RunResult r = RunPcopy({"-j", "2", src, link});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: " + Quoted(src) + " and " + Quoted(link) + " are the same file\n");
  r = RunPcopy({src, dir_link});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "pcopy: " + Quoted(src) + " and " + Quoted(dir_link + "/foo") + " are the same file\n");
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dir-link", "foo", "link"}));
}

// --verify reads the copy back after fdatasync(2); a failure there is named after that call.
TEST(E2eRefusals, VerifySyncFailureSaysFdatasync) {
  TempDir t, io;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 3 * kMiB, 115);
  const std::string out = io / "out", err = io / "err";
  if (RunWithOutputs({"strace", "-f", "-o", "/dev/null", "true"}, out, err, 30000).code != 0) {
    GTEST_SKIP() << "strace cannot trace here: " << ReadFile(err);
  }
  // LeakSanitizer cannot run under ptrace: in the sanitizer build it would abort pcopy at exit.
  const ExitStatus e =
      RunWithOutputs({"strace", "-f", "-o", "/dev/null", "-E", "ASAN_OPTIONS=detect_leaks=0", "-e",
                      "trace=fdatasync", "-e", "inject=fdatasync:error=EIO", PCOPY_BINARY, "-j",
                      "2", "--verify", src, dst},
                     out, err, 60000);
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(ReadFile(err), "pcopy: fdatasync " + Quoted(dst) + ": Input/output error\n");
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

}  // namespace
}  // namespace pcopy::test
