// process_pool_tasks_test.cc: a ProcessPool at work: Start's checks, Map's results in task
// order, Submit and NextResult, handler errors carried in the results, and a Submit that keeps
// the workers going while nobody reads their results.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "exec/process_pool.h"
#include "process_pool_test_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

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
  EXPECT_TRUE(ChildrenOf(getpid()).empty());

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

}  // namespace
}  // namespace pcopy::test
