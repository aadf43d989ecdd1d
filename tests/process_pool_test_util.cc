#include "process_pool_test_util.h"

#include <string>
#include <vector>

namespace pcopy::test {

using std::chrono::milliseconds;

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

PoolTask Task(uint64_t id, uint64_t x, uint64_t flags, uint64_t sleep_us, uint64_t error) {
  PoolTask t;
  t.id = id;
  t.arg[0] = x;
  t.arg[1] = flags;
  t.arg[2] = sleep_us;
  t.arg[3] = error;
  return t;
}

PoolConfig Config(unsigned workers, size_t capacity, Probe* probe) {
  PoolConfig c;
  c.workers = workers;
  c.queue_capacity = capacity;
  c.handler = &Work;
  c.context = probe;
  c.name = kPoolName;
  return c;
}

long long MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

bool Sleeping(pid_t pid) { return ProcessState(pid) == 'S'; }

std::vector<pid_t> Pids(const ProcessPool& pool) {
  std::vector<pid_t> pids;
  for (unsigned i = 0; i < pool.workers(); ++i) pids.push_back(pool.worker_pid(i));
  return pids;
}

std::vector<std::string> IpcNames(const std::string& part) {
  std::vector<std::string> found;
  for (const std::string dir : {"/dev/shm", "/dev/mqueue"}) {
    for (const std::string& name : ListDir(dir)) {
      if (name.find(part) != std::string::npos) found.push_back(dir + "/" + name);
    }
  }
  return found;
}

std::vector<std::string> LingeringIpcNames(const std::string& part) {
  return LingeringNames([&] { return IpcNames(part); });
}

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

}  // namespace pcopy::test
