// process_pool_test_util.h: what the process pool tests share: a handler (Work) whose tasks
// can announce themselves and wait to be released (Probe), task and config builders, and checks
// that no queue name is left in /dev/shm or /dev/mqueue.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exec/process_pool.h"
#include "test_util.h"

namespace pcopy::test {

// How long a test waits for its workers before it fails: a guard against hangs only.
inline constexpr std::chrono::milliseconds kHang(kHangTimeoutMs);

inline constexpr char kPoolName[] = "pcopy-pooltest";

// Flags in PoolTask::arg[1] for the Work handler.
inline constexpr uint64_t kAnnounce = 1;  // write {id, pid} to Probe::started before working
inline constexpr uint64_t kWait = 2;      // wait until Probe::go is readable (kHang at most)

// What the test shares with its workers (inherited across fork): the workers announce the tasks
// they start on one pipe, and wait for a byte on the other before finishing a kWait task. The
// byte is never read, so one Open() releases every worker for good.
class Probe {
 public:
  struct Announce {
    uint64_t id = 0;
    int64_t pid = 0;
  };

  Probe() {
    EXPECT_EQ(pipe2(started_, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(go_, O_CLOEXEC), 0);
  }
  ~Probe() {
    for (int fd : {started_[0], started_[1], go_[0], go_[1]}) close(fd);
  }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  void Open() { EXPECT_EQ(write(go_[1], "g", 1), 1); }

  // The next task a worker announced, or nothing after timeout.
  std::optional<Announce> NextStarted(std::chrono::milliseconds timeout) {
    pollfd p{started_[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    Announce a;
    if (read(started_[0], &a, sizeof a) != static_cast<ssize_t>(sizeof a)) return std::nullopt;
    return a;
  }

  // In a worker.
  void Started(const PoolTask& task) {
    const Announce a{task.id, getpid()};
    if (write(started_[1], &a, sizeof a) != static_cast<ssize_t>(sizeof a)) _exit(90);
  }
  bool WaitForGo() {
    pollfd p{go_[0], POLLIN, 0};
    int r;
    do {
      r = poll(&p, 1, kHangTimeoutMs);
    } while (r < 0 && errno == EINTR);
    return r == 1;
  }

 private:
  int started_[2] = {-1, -1};
  int go_[2] = {-1, -1};
};

// value[0] = arg[0]^2, value[1] = arg[0] + 1, value[2] = id, value[3] = the worker's pid; sleeps
// arg[2] microseconds; returns arg[3] as its error. Flags in arg[1] need a Probe as context.
int Work(const PoolTask& task, PoolResult* result, void* context) noexcept;

PoolTask Task(uint64_t id, uint64_t x, uint64_t flags = 0, uint64_t sleep_us = 0,
              uint64_t error = 0);

PoolConfig Config(unsigned workers, size_t capacity, Probe* probe = nullptr);

// Milliseconds since t0 (for messages).
long long MsSince(std::chrono::steady_clock::time_point t0);

// Asleep in the kernel (in poll, say), as a process or thread that waits for something is.
bool Sleeping(pid_t pid);

// The pids of the pool's workers.
std::vector<pid_t> Pids(const ProcessPool& pool);

// Entries of /dev/shm and /dev/mqueue whose name contains part.
std::vector<std::string> IpcNames(const std::string& part);

// Those of IpcNames(part) that do not go: another pool, in a test binary running beside this
// one, has its queue's name for an instant between creating and unlinking it; a leak stays.
std::vector<std::string> LingeringIpcNames(const std::string& part);

// This pool's queue, the queues of every pool this process started, and anything named pcopy.
#define EXPECT_NO_IPC_NAMES(pool)                                                            \
  do {                                                                                       \
    EXPECT_EQ(IpcNames((pool).queue_name()).size(), 0u) << IpcNames((pool).queue_name())[0]; \
    const std::string _ours = std::string(kPoolName) + "-" + std::to_string(getpid()) + "-"; \
    EXPECT_EQ(IpcNames(_ours).size(), 0u) << IpcNames(_ours)[0];                             \
    const std::vector<std::string> _lingering = LingeringIpcNames("pcopy");                  \
    EXPECT_EQ(_lingering.size(), 0u) << _lingering[0];                                       \
  } while (0)

// Collects n results with NextResult, giving up after limit.
std::vector<PoolResult> Collect(ProcessPool* pool, size_t n, std::chrono::milliseconds limit);

}  // namespace pcopy::test
