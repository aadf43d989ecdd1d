#include "exec/process_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

using std::chrono::milliseconds;
using test::Gone;
using test::kHangTimeoutMs;
using test::ProcessState;
using test::WaitUntil;
using test::Watchdog;
using Clock = std::chrono::steady_clock;

// How long a test waits for its workers before it fails: a guard against hangs only.
constexpr milliseconds kHang(kHangTimeoutMs);

constexpr char kPoolName[] = "pcopy-pooltest";

// Flags in PoolTask::arg[1] for the Work handler.
constexpr uint64_t kAnnounce = 1;  // write {id, pid} to Probe::started before working
constexpr uint64_t kWait = 2;      // wait until Probe::go is readable (kHang at most)

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
  std::optional<Announce> NextStarted(milliseconds timeout) {
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
int Work(const PoolTask& task, PoolResult* result, void* context) noexcept {
  auto* probe = static_cast<Probe*>(context);
  if ((task.arg[1] & kAnnounce) != 0) probe->Started(task);
  if ((task.arg[1] & kWait) != 0 && !probe->WaitForGo()) return ETIMEDOUT;
  if (task.arg[2] != 0) usleep(static_cast<useconds_t>(task.arg[2]));
  result->value[0] = task.arg[0] * task.arg[0];
  result->value[1] = task.arg[0] + 1;
  result->value[2] = task.id;
  result->value[3] = static_cast<uint64_t>(getpid());
  return static_cast<int>(task.arg[3]);
}

PoolTask Task(uint64_t id, uint64_t x, uint64_t flags = 0, uint64_t sleep_us = 0,
              uint64_t error = 0) {
  PoolTask t;
  t.id = id;
  t.arg[0] = x;
  t.arg[1] = flags;
  t.arg[2] = sleep_us;
  t.arg[3] = error;
  return t;
}

PoolConfig Config(unsigned workers, size_t capacity, Probe* probe = nullptr) {
  PoolConfig c;
  c.workers = workers;
  c.queue_capacity = capacity;
  c.handler = &Work;
  c.context = probe;
  c.name = kPoolName;
  return c;
}

long long MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
}

// Asleep in the kernel (in poll, say), as a process or thread that waits for something is.
bool Sleeping(pid_t pid) { return ProcessState(pid) == 'S'; }

std::vector<pid_t> Pids(const ProcessPool& pool) {
  std::vector<pid_t> pids;
  for (unsigned i = 0; i < pool.workers(); ++i) pids.push_back(pool.worker_pid(i));
  return pids;
}

// Entries of /dev/shm and /dev/mqueue whose name contains part.
std::vector<std::string> IpcNames(const std::string& part) {
  std::vector<std::string> found;
  for (const std::string dir : {"/dev/shm", "/dev/mqueue"}) {
    for (const std::string& name : test::ListDir(dir)) {
      if (name.find(part) != std::string::npos) found.push_back(dir + "/" + name);
    }
  }
  return found;
}

// Those of IpcNames(part) that do not go: another pool, in a test binary running beside this
// one, has its queue's name for an instant between creating and unlinking it; a leak stays.
std::vector<std::string> LingeringIpcNames(const std::string& part) {
  return test::LingeringNames([&] { return IpcNames(part); });
}

// This pool's queue, the queues of every pool this process started, and anything named pcopy.
#define EXPECT_NO_IPC_NAMES(pool)                                                            \
  do {                                                                                       \
    EXPECT_EQ(IpcNames((pool).queue_name()).size(), 0u) << IpcNames((pool).queue_name())[0]; \
    const std::string _ours = std::string(kPoolName) + "-" + std::to_string(getpid()) + "-"; \
    EXPECT_EQ(IpcNames(_ours).size(), 0u) << IpcNames(_ours)[0];                             \
    const std::vector<std::string> _lingering = LingeringIpcNames("pcopy");                  \
    EXPECT_EQ(_lingering.size(), 0u) << _lingering[0];                                       \
  } while (0)

// Runs call, which must not return before the pool's workers are released (probe->Open()), while
// another thread releases them as soon as this thread is seen asleep inside call. Returns call's
// status; *returned_early is set if call returned while the workers were still held.
Status ReturnsOnlyOnceReleased(Probe* probe, const std::function<Status()>& call,
                               bool* returned_early) {
  const pid_t caller = gettid();
  std::atomic<bool> calling{false}, returned{false}, released{false};
  std::thread releaser([&] {
    EXPECT_TRUE(WaitUntil("the caller to wait in the pool",
                          [&] { return returned || (calling && Sleeping(caller)); }));
    released = true;
    probe->Open();
  });
  calling = true;
  const Status s = call();
  *returned_early = !released;
  returned = true;
  releaser.join();
  return s;
}

// Collects n results with NextResult, giving up after limit.
std::vector<PoolResult> Collect(ProcessPool* pool, size_t n, milliseconds limit) {
  std::vector<PoolResult> results;
  (void)WaitUntil(
      std::to_string(n) + " results",
      [&] {
        PoolResult r;
        bool got = false;
        const Status s = pool->NextResult(milliseconds(100), &r, &got);
        EXPECT_TRUE(s.ok()) << s.ToString();
        if (got) results.push_back(r);
        return !s.ok() || results.size() >= n;
      },
      static_cast<int>(limit.count()));
  EXPECT_EQ(results.size(), n);
  return results;
}

void ExpectWorkerDeath(const Status& s, std::optional<uint64_t> task) {
  ASSERT_FALSE(s.ok());
  const std::string m = s.ToString();
  EXPECT_NE(m.find("pool worker"), std::string::npos) << m;
  EXPECT_NE(m.find("killed by signal 9"), std::string::npos) << m;
  if (task) {
    EXPECT_NE(m.find("while running task " + std::to_string(*task)), std::string::npos) << m;
  } else {
    EXPECT_EQ(m.find("while running task"), std::string::npos) << m;
  }
}

TEST(ProcessPoolTest, StartRejectsAnIncompleteConfig) {
  std::unique_ptr<ProcessPool> pool;
  PoolConfig c = Config(0, 4);
  EXPECT_FALSE(ProcessPool::Start(c, &pool).ok());
  EXPECT_EQ(pool, nullptr);
  c = Config(2, 4);
  c.handler = nullptr;
  EXPECT_FALSE(ProcessPool::Start(c, &pool).ok());
  EXPECT_EQ(pool, nullptr);
  c = Config(2, 0);
  EXPECT_FALSE(ProcessPool::Start(c, &pool).ok());
  EXPECT_EQ(pool, nullptr);
  EXPECT_TRUE(test::ChildrenOf(getpid()).empty());

  ASSERT_OK(ProcessPool::Start(Config(3, 5), &pool));
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->workers(), 3u);
  EXPECT_EQ(pool->capacity(), 5u);
  const std::vector<pid_t> pids = Pids(*pool);
  EXPECT_EQ(std::set<pid_t>(pids.begin(), pids.end()).size(), 3u);
  for (pid_t p : pids) EXPECT_GT(p, 0);
  ASSERT_OK(pool->Join());
  for (pid_t p : pids) EXPECT_TRUE(Gone(p)) << p;
}

TEST(ProcessPoolTest, MapReturnsEveryResultInTaskOrder) {
  for (unsigned workers : {1u, 2u, 4u}) {
    SCOPED_TRACE("workers=" + std::to_string(workers));
    std::unique_ptr<ProcessPool> pool;
    ASSERT_OK(ProcessPool::Start(Config(workers, 16), &pool));
    Watchdog watchdog(Pids(*pool), kHang);
    // Ids neither sequential nor sorted; each task takes a moment, so every worker gets some.
    std::vector<PoolTask> tasks;
    for (uint64_t i = 0; i < 1000; ++i) tasks.push_back(Task(100000 - 7 * i, i, 0, 150));
    std::vector<PoolResult> results;
    ASSERT_OK(pool->Map(tasks, &results));
    ASSERT_EQ(results.size(), tasks.size());
    std::set<uint32_t> used;
    for (size_t i = 0; i < tasks.size(); ++i) {
      const PoolResult& r = results[i];
      ASSERT_EQ(r.id, tasks[i].id) << i;
      EXPECT_EQ(r.error, 0) << i;
      EXPECT_EQ(r.value[0], i * i) << i;
      EXPECT_EQ(r.value[1], i + 1) << i;
      EXPECT_EQ(r.value[2], tasks[i].id) << i;
      ASSERT_LT(r.worker, workers) << i;
      EXPECT_EQ(r.value[3], static_cast<uint64_t>(pool->worker_pid(r.worker))) << i;
      used.insert(r.worker);
    }
    EXPECT_EQ(used.size(), workers);
    EXPECT_NO_IPC_NAMES(*pool);
    // The pool is reusable: a second batch on the same workers.
    ASSERT_OK(pool->Map({Task(1, 3), Task(2, 4)}, &results));
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].value[0], 9u);
    EXPECT_EQ(results[1].value[0], 16u);
    ASSERT_OK(pool->Join());
    EXPECT_FALSE(watchdog.fired());
  }
}

TEST(ProcessPoolTest, MapEdgeCases) {
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(2, 4), &pool));
  std::vector<PoolResult> results(3);
  ASSERT_OK(pool->Map({}, &results));
  EXPECT_TRUE(results.empty());
  EXPECT_FALSE(pool->Map({Task(5, 1), Task(6, 2), Task(5, 3)}, &results).ok());
  bool submitted = true;
  EXPECT_FALSE(pool->Submit(Task(UINT64_MAX, 1)).ok());
  EXPECT_FALSE(pool->SubmitFor(Task(UINT64_MAX, 1), milliseconds(10), &submitted).ok());
  EXPECT_FALSE(submitted);
  EXPECT_TRUE(pool->Empty());
  ASSERT_OK(pool->Join());
}

TEST(ProcessPoolTest, HandlerErrorsComeBackInTheResult) {
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(2, 8), &pool));
  std::vector<PoolTask> tasks;
  for (uint64_t i = 0; i < 100; ++i) {
    tasks.push_back(Task(i, i, 0, 0, i % 3 == 0 ? EIO : (i % 3 == 1 ? ENOSPC : 0)));
  }
  std::vector<PoolResult> results;
  ASSERT_OK(pool->Map(tasks, &results));
  ASSERT_EQ(results.size(), tasks.size());
  for (uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(results[i].error, static_cast<int32_t>(tasks[i].arg[3])) << i;
    EXPECT_EQ(results[i].value[0], i * i) << i;
  }
  // Handler errors are the tasks' business: the pool is not broken by them.
  ASSERT_OK(pool->Join());
}

TEST(ProcessPoolTest, SubmitThenNextResult) {
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(2, 8), &pool));
  Watchdog watchdog(Pids(*pool), kHang);
  for (uint64_t i = 0; i < 200; ++i) ASSERT_OK(pool->Submit(Task(1000 + i, i, 0, 20)));
  const std::vector<PoolResult> results = Collect(pool.get(), 200, kHang);
  std::set<uint64_t> ids;
  for (const PoolResult& r : results) {
    EXPECT_TRUE(ids.insert(r.id).second) << "twice: " << r.id;
    ASSERT_GE(r.id, 1000u);
    EXPECT_EQ(r.value[0], (r.id - 1000) * (r.id - 1000));
    EXPECT_EQ(r.error, 0);
  }
  EXPECT_EQ(ids.size(), 200u);
  PoolResult r;
  bool got = true;
  ASSERT_OK(pool->NextResult(milliseconds(0), &r, &got));
  EXPECT_FALSE(got);
  ASSERT_OK(pool->Join());
  got = true;
  ASSERT_OK(pool->NextResult(milliseconds(50), &r, &got));
  EXPECT_FALSE(got);
  EXPECT_FALSE(watchdog.fired());
}

// More tasks than the queue and the result pipes hold together, submitted before any result is
// read: Submit must keep the workers going (read their results) rather than wait forever on a
// queue that a worker blocked on its full result pipe will never empty.
TEST(ProcessPoolTest, SubmitManyBeforeReadingAnyResult) {
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(1, 4), &pool));
  Watchdog watchdog(Pids(*pool), kHang);
  constexpr uint64_t kTasks = 3000;  // a 64 KiB pipe holds 1365 results
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < kTasks; ++i) {
    const Status s = pool->Submit(Task(i, i));
    ASSERT_TRUE(s.ok()) << "Submit of task " << i << " failed after " << MsSince(t0)
                        << " ms (watchdog fired: " << watchdog.fired() << "): " << s.ToString();
  }
  const std::vector<PoolResult> results = Collect(pool.get(), kTasks, kHang);
  ASSERT_OK(pool->Join());
  EXPECT_FALSE(watchdog.fired());
}

TEST(ProcessPoolTest, SizeFullEmptyAndSubmitForTimeout) {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(1, 4, &probe), &pool));
  Watchdog watchdog(Pids(*pool), kHang);
  EXPECT_EQ(pool->capacity(), 4u);
  EXPECT_EQ(pool->Size(), 0u);
  EXPECT_TRUE(pool->Empty());
  EXPECT_FALSE(pool->Full());

  bool submitted = false;
  ASSERT_OK(pool->SubmitFor(Task(0, 0, kAnnounce | kWait), kHang, &submitted));
  ASSERT_TRUE(submitted);
  const auto first = probe.NextStarted(kHang);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, 0u);
  EXPECT_EQ(first->pid, pool->worker_pid(0));
  EXPECT_TRUE(pool->Empty());  // the worker holds task 0; the queue is empty again

  for (uint64_t i = 1; i <= 4; ++i) {
    submitted = false;
    ASSERT_OK(pool->SubmitFor(Task(i, i, kWait), kHang, &submitted));
    ASSERT_TRUE(submitted) << i;
    EXPECT_EQ(pool->Size(), i);
    EXPECT_FALSE(pool->Empty());
    EXPECT_EQ(pool->Full(), i == 4);
  }
  submitted = true;
  const auto t0 = Clock::now();
  ASSERT_OK(pool->SubmitFor(Task(5, 5), milliseconds(50), &submitted));
  const long long waited = MsSince(t0);
  EXPECT_FALSE(submitted);
  EXPECT_GE(waited, 45);
  // A zero timeout gives up (the watchdog ends a wait that would not).
  submitted = true;
  ASSERT_OK(pool->SubmitFor(Task(5, 5), milliseconds(0), &submitted));
  EXPECT_FALSE(submitted);
  EXPECT_EQ(pool->Size(), 4u);
  EXPECT_TRUE(pool->Full());

  probe.Open();
  std::vector<PoolResult> results = Collect(pool.get(), 5, kHang);
  std::sort(results.begin(), results.end(),
            [](const PoolResult& a, const PoolResult& b) { return a.id < b.id; });
  for (uint64_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].id, i);
    EXPECT_EQ(results[i].error, 0);
    EXPECT_EQ(results[i].value[0], i * i);
  }
  EXPECT_TRUE(pool->Empty());
  EXPECT_FALSE(pool->Full());
  EXPECT_EQ(pool->Size(), 0u);
  ASSERT_OK(pool->Join());
  EXPECT_FALSE(watchdog.fired());
}

TEST(ProcessPoolTest, SubmitBlocksWhileFullAndGoesOnWhenWorkersDrain) {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(1, 2, &probe), &pool));
  Watchdog watchdog(Pids(*pool), kHang);
  ASSERT_OK(pool->Submit(Task(0, 0, kAnnounce | kWait)));
  ASSERT_TRUE(probe.NextStarted(kHang).has_value());
  ASSERT_OK(pool->Submit(Task(1, 1, kWait)));
  ASSERT_OK(pool->Submit(Task(2, 2, kWait)));
  ASSERT_TRUE(pool->Full());

  bool returned_early = false;
  ASSERT_OK(ReturnsOnlyOnceReleased(
      &probe, [&] { return pool->Submit(Task(3, 3)); }, &returned_early));
  EXPECT_FALSE(returned_early) << "Submit returned while the queue was full";
  const std::vector<PoolResult> results = Collect(pool.get(), 4, kHang);
  std::set<uint64_t> ids;
  for (const PoolResult& r : results) ids.insert(r.id);
  EXPECT_EQ(ids, (std::set<uint64_t>{0, 1, 2, 3}));
  ASSERT_OK(pool->Join());
  EXPECT_FALSE(watchdog.fired());
}

TEST(ProcessPoolTest, CloseLetsWorkersDrainTheQueueAndJoinKeepsTheResults) {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(2, 8, &probe), &pool));
  const std::vector<pid_t> pids = Pids(*pool);
  Watchdog watchdog(pids, kHang);
  for (uint64_t i = 0; i < 6; ++i) ASSERT_OK(pool->Submit(Task(10 + i, i, kAnnounce | kWait)));
  ASSERT_TRUE(probe.NextStarted(kHang).has_value());
  ASSERT_TRUE(probe.NextStarted(kHang).has_value());
  EXPECT_EQ(pool->Size(), 4u);

  // Room for both stop messages: no waiting (a Close that waited would hang until the watchdog
  // killed the workers, and fail).
  ASSERT_OK(pool->Close());
  ASSERT_OK(pool->Close());  // twice is harmless
  const Status after = pool->Submit(Task(99, 1));
  EXPECT_FALSE(after.ok());
  EXPECT_NE(after.ToString().find("closed"), std::string::npos) << after.ToString();
  bool submitted = true;
  EXPECT_FALSE(pool->SubmitFor(Task(99, 1), milliseconds(10), &submitted).ok());
  EXPECT_FALSE(submitted);
  std::vector<PoolResult> mapped;
  EXPECT_FALSE(pool->Map({Task(99, 1)}, &mapped).ok());

  probe.Open();
  ASSERT_OK(pool->Join());
  for (pid_t p : pids) EXPECT_TRUE(Gone(p)) << p;
  // Every queued task ran before the workers stopped, and the results outlive them.
  std::set<uint64_t> ids;
  for (;;) {
    PoolResult r;
    bool got = false;
    ASSERT_OK(pool->NextResult(milliseconds(10), &r, &got));
    if (!got) break;
    EXPECT_EQ(r.error, 0) << r.id;
    EXPECT_EQ(r.value[0], (r.id - 10) * (r.id - 10));
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    ASSERT_LE(ids.size(), 6u);
  }
  EXPECT_EQ(ids, (std::set<uint64_t>{10, 11, 12, 13, 14, 15}));
  ASSERT_OK(pool->Join());  // again: nothing left to do
  EXPECT_FALSE(watchdog.fired());
}

TEST(ProcessPoolTest, CloseWaitsForRoomForItsStopMessages) {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(1, 2, &probe), &pool));
  Watchdog watchdog(Pids(*pool), kHang);
  ASSERT_OK(pool->Submit(Task(0, 0, kAnnounce | kWait)));
  ASSERT_TRUE(probe.NextStarted(kHang).has_value());
  ASSERT_OK(pool->Submit(Task(1, 1, kWait)));
  ASSERT_OK(pool->Submit(Task(2, 2, kWait)));
  ASSERT_TRUE(pool->Full());
  bool returned_early = false;
  ASSERT_OK(ReturnsOnlyOnceReleased(
      &probe, [&] { return pool->Close(); }, &returned_early));
  EXPECT_FALSE(returned_early) << "Close returned before there was room for its stop messages";
  ASSERT_OK(pool->Join());
  const std::vector<PoolResult> results = Collect(pool.get(), 3, kHang);
  std::set<uint64_t> ids;
  for (const PoolResult& r : results) ids.insert(r.id);
  EXPECT_EQ(ids, (std::set<uint64_t>{0, 1, 2}));
  EXPECT_FALSE(watchdog.fired());
}

TEST(ProcessPoolTest, WorkerKilledWhileRunningATaskFailsNextResult) {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(2, 8, &probe), &pool));
  const std::vector<pid_t> pids = Pids(*pool);
  Watchdog watchdog(pids, kHang);
  ASSERT_OK(pool->Submit(Task(41, 1, kAnnounce | kWait)));
  const auto started = probe.NextStarted(kHang);
  ASSERT_TRUE(started.has_value());
  ASSERT_EQ(started->id, 41u);
  ASSERT_TRUE(started->pid == pids[0] || started->pid == pids[1]);
  ASSERT_EQ(kill(static_cast<pid_t>(started->pid), SIGKILL), 0);

  // The death ends the wait for a result, which would otherwise go on for kHangTimeoutMs.
  PoolResult r;
  bool got = true;
  const Status s = pool->NextResult(kHang, &r, &got);
  EXPECT_FALSE(got);
  ExpectWorkerDeath(s, 41);
  // The pool stays broken: every later call says so.
  ExpectWorkerDeath(pool->NextResult(kHang, &r, &got), 41);
  ExpectWorkerDeath(pool->Submit(Task(42, 1)), 41);
  std::vector<PoolResult> results;
  ExpectWorkerDeath(pool->Map({Task(43, 1)}, &results), 41);
  ExpectWorkerDeath(pool->Join(), 41);
  EXPECT_FALSE(watchdog.fired());
  for (pid_t p : pids) EXPECT_TRUE(Gone(p)) << p;
  EXPECT_TRUE(test::ChildrenOf(getpid()).empty());
}

TEST(ProcessPoolTest, WorkerKilledWhileRunningATaskFailsMap) {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(2, 8, &probe), &pool));
  const std::vector<pid_t> pids = Pids(*pool);
  Watchdog watchdog(pids, kHang);
  std::vector<PoolTask> tasks;
  for (uint64_t i = 0; i < 200; ++i) tasks.push_back(Task(i, i, i == 77 ? kAnnounce | kWait : 0));
  std::thread killer([&probe] {
    if (const auto started = probe.NextStarted(kHang)) {
      kill(static_cast<pid_t>(started->pid), SIGKILL);
    }
  });
  std::vector<PoolResult> results;
  const Status s = pool->Map(tasks, &results);
  killer.join();
  ExpectWorkerDeath(s, 77);
  ExpectWorkerDeath(pool->Join(), 77);
  EXPECT_FALSE(watchdog.fired());
  for (pid_t p : pids) EXPECT_TRUE(Gone(p)) << p;
}

TEST(ProcessPoolTest, WorkerKilledWhileRunningATaskFailsJoin) {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(3, 8, &probe), &pool));
  const std::vector<pid_t> pids = Pids(*pool);
  Watchdog watchdog(pids, kHang);
  ASSERT_OK(pool->Submit(Task(7, 1, kAnnounce | kWait)));
  const auto started = probe.NextStarted(kHang);
  ASSERT_TRUE(started.has_value());
  ASSERT_EQ(kill(static_cast<pid_t>(started->pid), SIGKILL), 0);
  ExpectWorkerDeath(pool->Join(), 7);
  EXPECT_FALSE(watchdog.fired());
  for (pid_t p : pids) EXPECT_TRUE(Gone(p)) << p;
  EXPECT_TRUE(test::ChildrenOf(getpid()).empty());
}

TEST(ProcessPoolTest, IdleWorkerKilledIsReportedWithoutATask) {
  std::unique_ptr<ProcessPool> pool;
  ASSERT_OK(ProcessPool::Start(Config(1, 4), &pool));
  Watchdog watchdog(Pids(*pool), kHang);
  std::vector<PoolResult> results;
  ASSERT_OK(pool->Map({Task(1, 2)}, &results));
  const pid_t worker = pool->worker_pid(0);
  ASSERT_TRUE(WaitUntil("the worker to wait for a task", [&] { return Sleeping(worker); }));
  ASSERT_EQ(kill(worker, SIGKILL), 0);
  PoolResult r;
  bool got = true;
  ExpectWorkerDeath(pool->NextResult(kHang, &r, &got), std::nullopt);
  EXPECT_FALSE(got);
  ExpectWorkerDeath(pool->Join(), std::nullopt);
  EXPECT_FALSE(watchdog.fired());
}

// The caller has the result of task 1, so the worker is done with it, even if the worker has not
// yet told the pool so when it dies: the death must not be blamed on task 1 (a caller would run
// it again). The window is short, so this is tried up to 200 times.
TEST(ProcessPoolTest, WorkerKilledJustAfterItsResultWasReadNamesNoTask) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    std::unique_ptr<ProcessPool> pool;
    ASSERT_OK(ProcessPool::Start(Config(1, 4), &pool));
    Watchdog watchdog(Pids(*pool), kHang);
    std::vector<PoolResult> results;
    ASSERT_OK(pool->Map({Task(1, 2)}, &results));
    ASSERT_EQ(kill(pool->worker_pid(0), SIGKILL), 0);
    PoolResult r;
    bool got = true;
    const Status s = pool->NextResult(kHang, &r, &got);
    ExpectWorkerDeath(s, std::nullopt);
    (void)pool->Join();
    if (HasFailure()) break;
  }
}

struct ChildOutcome {
  bool finished = false;  // the body returned within the limit
  int wait_status = 0;
  std::string report;  // what the body returned
};

// Runs body in a forked child under alarm(limit_s), so that a hang inside the pool (on a futex
// in the queue, say) cannot hang the test; reaps the child and, as the subreaper, the workers
// it leaves behind.
ChildOutcome RunBounded(std::string (*body)(), unsigned limit_s) {
  ChildOutcome outcome;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe";
    return outcome;
  }
  const pid_t child = fork();
  if (child < 0) {
    ADD_FAILURE() << "fork";
    return outcome;
  }
  if (child == 0) {
    close(fds[0]);
    alarm(limit_s);
    const std::string report = body();
    if (write(fds[1], report.data(), report.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  // The report ends at end of file, when the child exits (or its alarm kills it).
  const int limit_ms = static_cast<int>(limit_s) * 1000 + kHangTimeoutMs;
  EXPECT_TRUE(WaitUntil(
      "the end of the child's report",
      [&] {
        pollfd p{fds[0], POLLIN, 0};
        if (poll(&p, 1, 100) < 0) return errno != EINTR;
        if (p.revents == 0) return false;
        char buf[512];
        const ssize_t n = read(fds[0], buf, sizeof buf);
        if (n > 0) outcome.report.append(buf, static_cast<size_t>(n));
        return n <= 0;
      },
      limit_ms));
  close(fds[0]);
  if (!WaitUntil("the child to exit",
                 [&] { return waitpid(child, &outcome.wait_status, WNOHANG) == child; })) {
    kill(child, SIGKILL);
    waitpid(child, &outcome.wait_status, 0);
  }
  outcome.finished = WIFEXITED(outcome.wait_status) && WEXITSTATUS(outcome.wait_status) == 0;
  EXPECT_TRUE(WaitUntil("the workers the child left to be reaped", [] {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    return test::ChildrenOf(getpid()).empty();
  }));
  return outcome;
}

// Both workers wait for tasks; one of them is killed there; then a batch is mapped. Whether the
// dead waiter gets in the way depends on the queue's internal state, so this is tried 20 times.
std::string MapAfterAnIdleWorkerDied() {
  std::string report;
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::unique_ptr<ProcessPool> pool;
    if (!ProcessPool::Start(Config(2, 4), &pool).ok()) return "Start failed";
    std::vector<PoolResult> results;
    if (!pool->Map({Task(1, 1), Task(2, 2), Task(3, 3), Task(4, 4)}, &results).ok()) {
      return "the first Map failed";
    }
    const pid_t w0 = pool->worker_pid(0), w1 = pool->worker_pid(1);
    if (!WaitUntil("both workers to wait for tasks",
                   [&] { return Sleeping(w0) && Sleeping(w1); })) {
      return "the workers did not go back to waiting for tasks";
    }
    kill(w1, SIGKILL);
    if (!WaitUntil("the killed worker to die", [&] { return !test::Alive(w1); })) {
      return "the killed worker did not die";
    }
    std::vector<PoolTask> tasks;
    for (uint64_t i = 0; i < 200; ++i) tasks.push_back(Task(100 + i, i));
    const Status map = pool->Map(tasks, &results);
    const Status join = pool->Join();
    report = "attempt " + std::to_string(attempt) +
             ": Map: " + (map.ok() ? std::string("ok") : map.ToString()) +
             "\nJoin: " + (join.ok() ? std::string("ok") : join.ToString());
    if (join.ok()) break;
  }
  return report;
}

TEST(ProcessPoolTest, WorkerKilledWhileWaitingForATask) {
  const ChildOutcome outcome = RunBounded(&MapAfterAnIdleWorkerDied, 30);
  EXPECT_TRUE(outcome.finished) << "the pool's owner hung or crashed: wait status "
                                << outcome.wait_status << " (SIGALRM is " << SIGALRM
                                << "), it said: " << outcome.report;
  EXPECT_NE(outcome.report.find("Join: pool worker 1"), std::string::npos) << outcome.report;
  EXPECT_NE(outcome.report.find("killed by signal 9"), std::string::npos) << outcome.report;
}

// A worker dies while running a task, with a full queue behind it and many of its results not
// read yet: Join must report the death promptly, however many results are still in the pipe.
std::string JoinAfterADeathWithResultsUnread() {
  Probe probe;
  std::unique_ptr<ProcessPool> pool;
  if (!ProcessPool::Start(Config(1, 4, &probe), &pool).ok()) return "Start failed";
  for (uint64_t i = 0; i < 1000; ++i) {  // 48 KB of results: they fit the pipe
    if (!pool->Submit(Task(i, i)).ok()) return "Submit failed";
  }
  if (!pool->Submit(Task(1000, 0, kAnnounce | kWait)).ok()) return "Submit failed";
  if (!probe.NextStarted(kHang)) return "task 1000 never started";
  for (uint64_t i = 1001; i <= 1004; ++i) {
    if (!pool->Submit(Task(i, 0, kWait)).ok()) return "Submit failed";
  }
  if (!pool->Full()) return "the queue is not full";
  kill(pool->worker_pid(0), SIGKILL);
  const auto t0 = Clock::now();
  const Status join = pool->Join();
  return "Join took " + std::to_string(MsSince(t0)) +
         " ms: " + (join.ok() ? std::string("ok") : join.ToString());
}

TEST(ProcessPoolTest, JoinAfterADeathWithResultsUnread) {
  const ChildOutcome outcome = RunBounded(&JoinAfterADeathWithResultsUnread, 30);
  EXPECT_TRUE(outcome.finished) << "the pool's owner hung or crashed: wait status "
                                << outcome.wait_status << " (SIGALRM is " << SIGALRM
                                << "), it said: " << outcome.report;
  EXPECT_NE(outcome.report.find("killed by signal 9 (Killed) while running task 1000"),
            std::string::npos)
      << outcome.report;
}

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
  EXPECT_TRUE(test::ChildrenOf(getpid()).empty());
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
}  // namespace pcopy
