// Unit tests of exec/task_pool.h's prestarted workers (pcopy-mpi's -j, forked before MPI_Init):
// the config they are sent survives its encoding, they copy the chunks they are given once it has
// arrived, one that dies is not replaced, and a pool never configured ends without a trace.
#include "exec/task_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "exec/tree_config.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TreeWorkerConfig SampleConfig() {
  TreeWorkerConfig c;
  c.sys = &RealSysCalls();
  c.method = Method::kPread;
  c.buffer_size = 64 << 10;
  c.bwlimit = 12345;
  c.fsync = true;
  c.no_clobber = true;
  c.resume = ResumeCheck::kContent;
  c.compare_dev = false;
  return c;
}

TEST(TreeConfig, SurvivesItsEncodingAndAnotherLengthIsRefused) {
  const TreeWorkerConfig c = SampleConfig();
  std::vector<char> bytes = EncodeTreeConfig(c);
  TreeWorkerConfig back;
  ASSERT_TRUE(DecodeTreeConfig(bytes, &back));
  EXPECT_EQ(back.method, Method::kPread);
  EXPECT_EQ(back.buffer_size, 64u << 10);
  EXPECT_EQ(back.bwlimit, 12345u);
  EXPECT_TRUE(back.fsync);
  EXPECT_TRUE(back.no_clobber);
  EXPECT_FALSE(back.update);
  EXPECT_EQ(back.resume, ResumeCheck::kContent);
  EXPECT_FALSE(back.compare_dev);
  EXPECT_EQ(back.sys, &RealSysCalls());
  bytes.pop_back();
  EXPECT_FALSE(DecodeTreeConfig(bytes, &back));
  bytes.push_back(0);
  bytes.push_back(0);
  EXPECT_FALSE(DecodeTreeConfig(bytes, &back));
}

class PrestartedPool : public testing::Test {
 protected:
  Task Chunk(uint64_t id, uint64_t offset, uint64_t length) {
    Task t;
    t.id = id;
    t.kind = TaskKind::kChunk;
    t.src_display = src_;
    t.dst_display = dst_;
    t.offset = offset;
    t.length = length;
    t.fds.emplace_back(open(src_.c_str(), O_RDONLY | O_CLOEXEC));
    t.fds.emplace_back(open(dst_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    return t;
  }

  // Waits until every task is answered or a worker is lost; the answers in *done.
  Status WaitAll(TaskPool& pool, std::vector<TaskCompletion>* done) {
    Status failure;
    for (int i = 0; i < 500 && failure.ok() && pool.total_in_flight() > 0; ++i) {
      EXPECT_EQ(pool.Wait(signals_, std::chrono::milliseconds(20), done, &failure), 0);
    }
    return failure;
  }

  SignalGuard signals_;
  TempDir dir_;
  std::string src_ = dir_ / "src";
  std::string dst_ = dir_ / "dst";
};

TEST_F(PrestartedPool, WorkersCopyChunksOnceTheirConfigArrives) {
  TaskPool pool(3);
  ASSERT_TRUE(pool.Prestart(2).ok());
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(ChildrenOf(getpid()).size(), 2u) << "forked at Prestart, not at Start";
  MakeRandomFile(src_, 3 * kMiB + 17, 11);
  TreeWorkerConfig config = SampleConfig();
  config.bwlimit = 0;
  ASSERT_TRUE(pool.Start(config, 8).ok());
  EXPECT_EQ(pool.size(), 2u) << "Start forks no other worker";
  ASSERT_TRUE(pool.Send(0, Chunk(1, 0, 2 * kMiB)).ok());
  ASSERT_TRUE(pool.Send(1, Chunk(2, 2 * kMiB, kMiB + 17)).ok());
  std::vector<TaskCompletion> done;
  ASSERT_TRUE(WaitAll(pool, &done).ok());
  ASSERT_EQ(done.size(), 2u);
  for (const TaskCompletion& c : done) {
    ASSERT_EQ(c.result.states.size(), 1u);
    EXPECT_EQ(c.result.states[0], ItemState::kCopied);
  }
  EXPECT_EQ(pool.WorkerBytes()[0] + pool.WorkerBytes()[1], 3 * kMiB + 17);
  EXPECT_TRUE(SameBytes(src_, dst_));
  pool.Finish();
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
}

TEST_F(PrestartedPool, AWorkerThatDiesIsNotReplaced) {
  TaskPool pool(3);  // retries asked for, and not used: a replacement would fork
  ASSERT_TRUE(pool.Prestart(1).ok());
  MakeRandomFile(src_, kMiB, 12);
  ASSERT_TRUE(pool.Start(SampleConfig(), 1).ok());
  const std::vector<pid_t> workers = ChildrenOf(getpid());
  ASSERT_EQ(workers.size(), 1u);
  ASSERT_EQ(kill(workers[0], SIGKILL), 0);
  ASSERT_TRUE(pool.Send(0, Chunk(1, 0, kMiB)).ok());
  std::vector<TaskCompletion> done;
  const Status failure = WaitAll(pool, &done);
  EXPECT_EQ(failure.ToString(), "worker 0 (pid " + std::to_string(workers[0]) +
                                    ") was killed by signal 9 (Killed) while copying " +
                                    Quoted(src_));
  EXPECT_TRUE(done.empty());
  EXPECT_TRUE(pool.retried().empty());
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
}

TEST_F(PrestartedPool, APoolNeverConfiguredEndsItsWorkers) {
  TaskPool pool(0);
  ASSERT_TRUE(pool.Prestart(3).ok());
  EXPECT_EQ(ChildrenOf(getpid()).size(), 3u);
  pool.Finish();
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
}

}  // namespace
}  // namespace pcopy::test
