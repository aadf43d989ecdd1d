#include "os/child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <utility>

#include "test_util.h"

namespace pcopy {
namespace {

int ReturnContext(void* context) noexcept { return *static_cast<int*>(context); }

int PauseForever(void*) noexcept {
  for (;;) pause();
}

// 0 when the child runs with no signal blocked, else the first blocked signal.
int FirstBlockedSignal(void*) noexcept {
  sigset_t mask;
  sigemptyset(&mask);
  if (sigprocmask(SIG_BLOCK, nullptr, &mask) != 0) return 100;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&mask, sig) == 1) return sig;
  }
  return 0;
}

using test::Gone;
using test::WaitUntil;

// Reads /proc/<pid>/comm without its newline; "" once the process is gone.
std::string Comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(ChildProcessTest, WaitGivesTheBodysExitCode) {
  for (int code : {0, 1, 3, 42, 255}) {
    ChildProcess child;
    ASSERT_OK(ChildProcess::Spawn(&ReturnContext, &code, 0, "exit-code", &child));
    EXPECT_GT(child.pid(), 0);
    EXPECT_TRUE(child.alive());
    child.Wait();
    EXPECT_TRUE(child.reaped());
    EXPECT_FALSE(child.alive());
    ASSERT_TRUE(WIFEXITED(child.wait_status()));
    EXPECT_EQ(WEXITSTATUS(child.wait_status()), code);
    EXPECT_EQ(child.succeeded(), code == 0);
    EXPECT_EQ(child.DescribeExit(), "exited with status " + std::to_string(code));
  }
}

TEST(ChildProcessTest, KilledBySigkill) {
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "victim", &child));
  child.Kill(SIGKILL);
  child.Wait();
  EXPECT_FALSE(child.succeeded());
  ASSERT_TRUE(WIFSIGNALED(child.wait_status()));
  EXPECT_EQ(WTERMSIG(child.wait_status()), SIGKILL);
  EXPECT_EQ(child.DescribeExit(), "was killed by signal 9 (Killed)");
}

TEST(ChildProcessTest, KilledBySigterm) {
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "victim", &child));
  child.Kill(SIGTERM);
  child.Wait();
  EXPECT_EQ(child.DescribeExit(), "was killed by signal 15 (Terminated)");
}

TEST(ChildProcessTest, DescribeRunningChild) {
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "running", &child));
  EXPECT_FALSE(child.DescribeExit().empty());
  EXPECT_FALSE(child.succeeded());
}  // the destructor kills and reaps it; test_main checks nothing is left

TEST(ChildProcessTest, DestructorKillsAndReapsARunningChild) {
  pid_t pid = -1;
  {
    ChildProcess child;
    ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "orphan-to-be", &child));
    pid = child.pid();
    ASSERT_FALSE(Gone(pid));
  }
  // Reaped, not merely killed: a zombie still answers kill(pid, 0).
  EXPECT_TRUE(Gone(pid));
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ChildProcessTest, MoveAssignmentReapsThePreviousChild) {
  ChildProcess a, b;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "first", &a));
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "second", &b));
  const pid_t first = a.pid(), second = b.pid();
  a = std::move(b);
  EXPECT_TRUE(Gone(first));
  EXPECT_EQ(a.pid(), second);
  EXPECT_TRUE(a.alive());
  EXPECT_FALSE(b.alive());  // NOLINT(bugprone-use-after-move): moved-from must be empty
  ChildProcess c(std::move(a));
  EXPECT_EQ(c.pid(), second);
  EXPECT_FALSE(a.alive());  // NOLINT(bugprone-use-after-move)
  c.Kill(SIGKILL);
  c.Wait();
  EXPECT_TRUE(Gone(second));
}

TEST(ChildProcessTest, ProcessGroup) {
  ChildProcess leader, member;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "leader", &leader));
  // The group is right as soon as Spawn returns: no waiting for the child to run.
  EXPECT_EQ(getpgid(leader.pid()), leader.pid());
  EXPECT_NE(getpgid(leader.pid()), getpgrp());
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, leader.pid(), "member", &member));
  EXPECT_EQ(getpgid(member.pid()), leader.pid());
  // One kill of the group stops both.
  ASSERT_EQ(kill(-leader.pid(), SIGKILL), 0);
  leader.Wait();
  member.Wait();
  EXPECT_EQ(leader.DescribeExit(), "was killed by signal 9 (Killed)");
  EXPECT_EQ(member.DescribeExit(), "was killed by signal 9 (Killed)");
}

TEST(ChildProcessTest, ChildRunsWithNoSignalsBlocked) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &block, &old), 0);
  ChildProcess child;
  const Status s = ChildProcess::Spawn(&FirstBlockedSignal, nullptr, 0, "sigmask", &child);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ASSERT_OK(s);
  child.Wait();
  ASSERT_TRUE(WIFEXITED(child.wait_status())) << child.DescribeExit();
  EXPECT_EQ(WEXITSTATUS(child.wait_status()), 0)
      << "signal " << WEXITSTATUS(child.wait_status()) << " blocked in the child";
}

TEST(ChildProcessTest, TryReapDoesNotBlock) {
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "tryreap", &child));
  {
    // A TryReap that blocked would wait for the child to end: the watchdog ends it, and the
    // test fails instead of hanging.
    test::Watchdog watchdog({child.pid()}, std::chrono::milliseconds(test::kHangTimeoutMs));
    EXPECT_FALSE(child.TryReap());
    EXPECT_FALSE(child.TryReap());
    EXPECT_FALSE(watchdog.fired()) << "TryReap blocked until the child was killed";
  }
  EXPECT_TRUE(child.alive());
  EXPECT_FALSE(child.reaped());
  child.Kill(SIGKILL);
  EXPECT_TRUE(WaitUntil("TryReap to reap the killed child", [&] { return child.TryReap(); }));
  EXPECT_TRUE(child.reaped());
  EXPECT_TRUE(child.TryReap());  // stays reaped
  EXPECT_EQ(child.DescribeExit(), "was killed by signal 9 (Killed)");
  EXPECT_TRUE(Gone(child.pid()));
}

TEST(ChildProcessTest, TryReapSeesAnExit) {
  int code = 7;
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&ReturnContext, &code, 0, "quick", &child));
  EXPECT_TRUE(WaitUntil("TryReap to reap the child", [&] { return child.TryReap(); }));
  EXPECT_EQ(child.DescribeExit(), "exited with status 7");
}

TEST(ChildProcessTest, KillAfterReapIsHarmless) {
  int code = 0;
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&ReturnContext, &code, 0, "done", &child));
  child.Wait();
  child.Kill(SIGKILL);  // must not signal a recycled pid
  child.Wait();
  EXPECT_TRUE(child.succeeded());
}

TEST(ChildProcessTest, NameVisibleInProc) {
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "pcopy-worker-3", &child));
  const pid_t pid = child.pid();
  EXPECT_TRUE(WaitUntil("its name", [&] { return Comm(pid) == "pcopy-worker-3"; })) << Comm(pid);
}

TEST(ChildProcessTest, LongNameKeepsFifteenBytes) {
  ChildProcess child;
  ASSERT_OK(ChildProcess::Spawn(&PauseForever, nullptr, 0, "pcopy-worker-123456789", &child));
  const pid_t pid = child.pid();
  EXPECT_TRUE(WaitUntil("its name", [&] { return Comm(pid) == "pcopy-worker-12"; })) << Comm(pid);
}

// A parent started with SIGCHLD ignored (the disposition survives exec) has its children reaped
// by the kernel: waitpid() then fails with ECHILD. A child that exited 3 must still not count as
// a success, and TryReap() must not report it running forever (the executor would spin).
TEST(ChildProcessTest, InheritedIgnoredSigchld) {
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ASSERT_EQ(sigaction(SIGCHLD, &ignore, &old), 0);
  int code = 3;
  ChildProcess waited, polled;
  const Status s1 = ChildProcess::Spawn(&ReturnContext, &code, 0, "ign-wait", &waited);
  const Status s2 = ChildProcess::Spawn(&ReturnContext, &code, 0, "ign-poll", &polled);
  bool poll_ended = false;
  if (s1.ok() && s2.ok()) {
    waited.Wait();
    poll_ended = WaitUntil("TryReap to see the child end", [&] { return polled.TryReap(); });
  }
  sigaction(SIGCHLD, &old, nullptr);
  ASSERT_OK(s1);
  ASSERT_OK(s2);
  EXPECT_FALSE(waited.succeeded()) << "a child that exited 3 " << waited.DescribeExit();
  EXPECT_TRUE(poll_ended) << "TryReap still reports a finished child as running";
  if (poll_ended) {
    EXPECT_FALSE(polled.succeeded()) << "a child that exited 3 " << polled.DescribeExit();
  }
}

TEST(ChildProcessTest, DefaultIsEmpty) {
  ChildProcess child;
  EXPECT_FALSE(child.alive());
  EXPECT_FALSE(child.reaped());
  EXPECT_LE(child.pid(), 0);
  child.Wait();  // nothing to wait for
  EXPECT_FALSE(child.TryReap());
}

}  // namespace
}  // namespace pcopy
