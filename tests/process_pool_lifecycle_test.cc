// process_pool_lifecycle_test.cc: what a ProcessPool leaves behind: its destructor kills and
// reaps the workers of a pool never joined, its queue's name is unique and never visible, and a
// pool owner killed by a signal takes its workers with it and leaves no name.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "exec/process_pool.h"
#include "process_pool_test_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

using std::chrono::milliseconds;

TEST(ProcessPoolTest, DestructorKillsAndReapsWorkersOfAPoolNeverJoined) {
  Probe probe;
  std::vector<pid_t> pids;
  {
    std::unique_ptr<ProcessPool> pool;
    ASSERT_OK(ProcessPool::Start(Config(3, 8, &probe), &pool));
    pids = Pids(*pool);
    // Two workers inside a task that would wait 5 s, one waiting for a task; more queued.
    for (uint64_t i = 0; i < 5; ++i) ASSERT_OK(pool->Submit(Task(i, i, kAnnounce | kWait)));
    ASSERT_TRUE(probe.NextStarted(kHang).has_value());
    ASSERT_TRUE(probe.NextStarted(kHang).has_value());
    for (pid_t p : pids) ASSERT_FALSE(Gone(p)) << p;
    pool.reset();
  }
  // Reaped, not merely killed: a zombie still answers kill(pid, 0).
  for (pid_t p : pids) EXPECT_TRUE(Gone(p)) << p;
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
  // Killed, not drained: a worker that had let the queued tasks run would have started more
  // than one task each (every task here waits, so each worker starts at most one before it is
  // killed).
  size_t started = 2;
  while (probe.NextStarted(milliseconds(0))) ++started;
  EXPECT_LE(started, pids.size()) << "queued tasks ran after the pool was destroyed";
}

TEST(ProcessPoolTest, QueueNameIsUniqueAndNeverVisible) {
  std::unique_ptr<ProcessPool> a, b;
  ASSERT_OK(ProcessPool::Start(Config(1, 4), &a));
  ASSERT_OK(ProcessPool::Start(Config(1, 4), &b));
  EXPECT_NE(a->queue_name(), b->queue_name());
  const std::string prefix = std::string(kPoolName) + "-" + std::to_string(getpid()) + "-";
  EXPECT_EQ(a->queue_name().rfind(prefix, 0), 0u) << a->queue_name();
  EXPECT_EQ(b->queue_name().rfind(prefix, 0), 0u) << b->queue_name();
  const std::string name_a = a->queue_name(), name_b = b->queue_name();
  // Started and working, the queues have no name anywhere.
  EXPECT_NO_IPC_NAMES(*a);
  EXPECT_NO_IPC_NAMES(*b);
  std::vector<PoolResult> results;
  ASSERT_OK(a->Map({Task(1, 1), Task(2, 2)}, &results));
  ASSERT_OK(b->Map({Task(1, 1), Task(2, 2)}, &results));
  EXPECT_NO_IPC_NAMES(*a);
  ASSERT_OK(a->Join());
  EXPECT_NO_IPC_NAMES(*a);
  a.reset();  // joined
  b.reset();  // never joined
  EXPECT_TRUE(IpcNames(name_a).empty());
  EXPECT_TRUE(IpcNames(name_b).empty());
  EXPECT_TRUE(LingeringIpcNames("pcopy").empty());
}

// Runs in a forked child: starts a pool, runs a few tasks, leaves more queued behind a blocked
// worker, writes "<pid0> <pid1> <queue name>\n" to fd, then dies by sig (raised, or sent by the
// test). alarm() ends it in any case.
[[noreturn]] void PoolOwner(int fd, int sig, Probe* probe) {
  alarm(30);
  signal(SIGINT, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::unique_ptr<ProcessPool> pool;
  if (!ProcessPool::Start(Config(2, 4, probe), &pool).ok()) _exit(10);
  std::vector<PoolResult> results;
  if (!pool->Map({Task(1, 1), Task(2, 2), Task(3, 3)}, &results).ok()) _exit(11);
  for (uint64_t i = 0; i < 3; ++i) {
    if (!pool->Submit(Task(10 + i, i, kWait)).ok()) _exit(12);
  }
  const std::string line = std::to_string(pool->worker_pid(0)) + " " +
                           std::to_string(pool->worker_pid(1)) + " " + pool->queue_name() + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(13);
  if (sig == SIGKILL) raise(SIGKILL);
  for (;;) pause();
}

TEST(ProcessPoolTest, PoolOwnerKilledBySignalLeavesNoName) {
  for (int sig : {SIGKILL, SIGINT}) {
    SCOPED_TRACE("signal " + std::to_string(sig));
    Probe probe;
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      PoolOwner(fds[1], sig, &probe);
    }
    close(fds[1]);
    std::string line;
    bool ended = false;
    EXPECT_TRUE(WaitUntil("the pool's owner to report", [&] {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 100) == 1) {
        char buf[256];
        const ssize_t n = read(fds[0], buf, sizeof buf);
        if (n > 0) line.append(buf, static_cast<size_t>(n));
        ended = n <= 0;
      }
      return ended || line.find('\n') != std::string::npos;
    }));
    close(fds[0]);
    std::istringstream in(line);
    pid_t w0 = 0, w1 = 0;
    std::string name;
    in >> w0 >> w1 >> name;
    EXPECT_GT(w0, 0) << "child said: '" << line << "'";
    EXPECT_GT(w1, 0);
    EXPECT_EQ(name.rfind(std::string(kPoolName) + "-" + std::to_string(child) + "-", 0), 0u)
        << name;
    if (!name.empty()) {
      EXPECT_TRUE(IpcNames(name).empty()) << "while the pool runs";
    }
    if (sig != SIGKILL) kill(child, sig);

    int status = 0;
    if (!WaitUntil("the pool's owner to die",
                   [&] { return waitpid(child, &status, WNOHANG) == child; })) {
      ADD_FAILURE() << "the pool's owner did not die";
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
    }
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "wait status " << status;
    // The orphaned workers die with their owner (and come here, the subreaper, to be reaped).
    for (pid_t w : {w0, w1}) {
      if (w <= 0) continue;
      EXPECT_TRUE(WaitUntil("worker " + std::to_string(w) + " to die and be reaped here", [&] {
        waitpid(w, nullptr, WNOHANG);
        return Gone(w);
      }));
    }
    if (!name.empty()) {
      EXPECT_TRUE(IpcNames(name).empty()) << IpcNames(name).front();
    }
    EXPECT_TRUE(LingeringIpcNames("pcopy").empty());
  }
}

}  // namespace
}  // namespace pcopy::test
