// process_pool_queue_test.cc: a ProcessPool's bounded queue: Size, Full and Empty, SubmitFor's
// timeout, Submit and Close waiting for room while the workers are held, and Close letting the
// workers drain what is queued.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exec/process_pool.h"
#include "process_pool_test_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

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

}  // namespace
}  // namespace pcopy::test
