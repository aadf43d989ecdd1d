// test_util_test.cc: the helpers every test leans on: how pcopy is launched (only stdin, stdout
// and stderr reach it), how its exit is collected, and how a wait gives up.
#include "test_util.h"

#include <fcntl.h>
#include <gtest/gtest-spi.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

// What each open descriptor of pid refers to, from /proc/<pid>/fd.
std::map<int, std::string> OpenDescriptors(pid_t pid) {
  std::map<int, std::string> open;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const std::string& name : ListDir(dir)) {
    char target[4096];
    const ssize_t n = readlink((dir + "/" + name).c_str(), target, sizeof target - 1);
    if (n < 0) continue;  // closed meanwhile
    open[std::stoi(name)] = std::string(target, static_cast<size_t>(n));
  }
  return open;
}

std::string RealPath(const std::string& path) {
  char* resolved = realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return path;
  std::string out = resolved;
  free(resolved);
  return out;
}

// A descriptor the test process holds without O_CLOEXEC (careless code elsewhere in the test
// binary, a library) must not reach pcopy or its workers; nor may the launcher's own copies of
// stdin, stdout and stderr.
TEST(LauncherTest, PcopyInheritsOnlyStdinStdoutAndStderr) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst", marker = t / "marker";
  MakeRandomFile(src, 16 * kMiB, 3);
  WriteFile(marker, "not for pcopy");
  const int leak = open(marker.c_str(), O_RDONLY);  // no O_CLOEXEC, on purpose
  ASSERT_GE(leak, 3) << strerror(errno);
  PcopyProcess p({"--bwlimit", "20M", "-j", "2", src, dst});
  close(leak);
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u) << "pcopy did not start 2 workers";

  const std::string marker_path = RealPath(marker);
  std::vector<pid_t> processes = {p.pid()};
  processes.insert(processes.end(), workers.begin(), workers.end());
  for (pid_t pid : processes) {
    SCOPED_TRACE("pid " + std::to_string(pid));
    const std::map<int, std::string> open = OpenDescriptors(pid);
    ASSERT_TRUE(open.count(0) && open.count(1) && open.count(2)) << testing::PrintToString(open);
    EXPECT_EQ(open.at(0), "/dev/null");
    for (const auto& [fd, target] : open) {
      EXPECT_NE(target, marker_path) << "descriptor " << leak << " of the test is open as " << fd;
      if (fd > 2) {
        for (int std_fd : {0, 1, 2}) {
          EXPECT_NE(target, open.at(std_fd))
              << "descriptor " << fd << " is a second copy of " << std_fd << ": " << target;
        }
      }
    }
  }
  const RunResult r = FinishWithin(p);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src, dst));
}

// A program that is not there is reported as exit 127, without a process left behind.
TEST(LauncherTest, MissingProgramExits127) {
  TempDir t;
  const ExitStatus e = RunWithOutputs({t / "no-such-program"}, t / "out", t / "err");
  EXPECT_EQ(e.code, 127);
  EXPECT_EQ(e.signal, 0);
}

// An exit status that cannot be collected (here: someone else reaped pcopy) is a failure of the
// test, never exit 0.
TEST(LauncherTest, FailedWaitpidIsAFailureNotExitZero) {
  PcopyProcess p({"--version"});
  ASSERT_GT(p.pid(), 0);
  int status = 0;
  ASSERT_EQ(waitpid(p.pid(), &status, 0), p.pid());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  RunResult r;
  EXPECT_NONFATAL_FAILURE(r = p.Finish(), "pcopy's exit status is unknown");
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, 0);
}

TEST(WaitUntilTest, NamesWhatItWaitedFor) {
  int calls = 0;
  const testing::AssertionResult never = WaitUntil(
      "the impossible",
      [&] {
        ++calls;
        return false;
      },
      20);
  EXPECT_FALSE(never);
  EXPECT_NE(std::string(never.message()).find("waiting for the impossible"), std::string::npos)
      << never.message();
  EXPECT_GE(calls, 1);
  calls = 0;
  EXPECT_TRUE(WaitUntil("the third try", [&] { return ++calls == 3; }));
  EXPECT_EQ(calls, 3);
  // A timeout of 0 still asks once.
  calls = 0;
  EXPECT_TRUE(WaitUntil(
      "the first try", [&] { return ++calls == 1; }, 0));
}

}  // namespace
}  // namespace pcopy::test
