// in_process_executor_test.cc: the executor that runs the worker body in the calling process
// (exec/in_process_executor.h): any work list (static or shared, several workers' turns) is
// copied byte-exact with the progress a ForkExecutor reports, and a terminating signal stops it,
// whether it comes before a unit or during a --bwlimit sleep.
//
// Every test that builds a SignalGuard runs in a forked child (InChild), so this process's own
// handlers and mask are never touched.
#include "exec/in_process_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "app/options.h"
#include "os/child_process.h"
#include "os/file_identity.h"
#include "plan/plan.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::SameBytes;
using test::TempDir;

constexpr uint64_t kSize = 256 * 1024 + 5;

// What the observer was told.
class Recorder final : public ProgressObserver {
 public:
  void OnProgress(const ProgressSnapshot&) override { ++progress_; }
  void OnFinish(const ProgressSnapshot& s, bool ok) override {
    ++finished_;
    ok_ = ok;
    done_ = s.done_total();
    workers_ = s.done.size();
    outcome_ = s.outcome != nullptr ? s.outcome : "";
  }
  int progress_ = 0;
  int finished_ = 0;
  bool ok_ = false;
  uint64_t done_ = 0;
  size_t workers_ = 0;
  std::string outcome_;
};

FileIdentity IdentityOfPath(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return IdentityOf(st);
}

// SOURCE of kSize random bytes and a DEST of that size, as the copy job leaves its temporary.
struct Files {
  explicit Files(const TempDir& t) : src(t / "src"), dst(t / "dst") {
    test::MakeRandomFile(src, kSize, 17);
    test::WriteFile(dst, "");
    truncate(dst.c_str(), kSize);
    config.sys = &RealSysCalls();
    config.files.push_back(ExecFile{src, dst, src, dst, IdentityOfPath(src), IdentityOfPath(dst)});
    config.method = Method::kPread;
    config.buffer_size = 16 << 10;
  }
  std::string src, dst;
  ExecConfig config;
};

// Runs body in a forked child; fails the test unless it exited 0 with nothing to say.
void InChild(std::string (*body)()) {
  const test::ChildReport r = test::InChild(body);
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 0) << r.said;
  EXPECT_EQ(r.said, "");
}

std::string CopiesEveryPlan() {
  for (const Strategy strategy :
       {Strategy::kContiguous, Strategy::kInterleaved, Strategy::kDynamic, Strategy::kGuided}) {
    TempDir t;
    Files f(t);
    const WorkList work = MakeWorkList(MakePlan(kSize, 3, 4096, strategy));
    if (work.workers != 3) return "the plan does not have 3 workers";
    SignalGuard signals;
    Recorder seen;
    const ExecResult r = InProcessExecutor().Run(work, f.config, signals, &seen);
    const std::string name = StrategyName(strategy);
    if (!r.status.ok() || r.signal != 0) return name + ": " + r.status.ToString();
    if (!SameBytes(f.src, f.dst)) return name + ": the copy differs";
    if ((r.used_methods & MethodBit(Method::kPread)) == 0) return name + ": no method recorded";
    if (seen.finished_ != 1 || !seen.ok_ || seen.outcome_ != "copied" || seen.done_ != kSize ||
        seen.workers_ != 3) {
      return name + ": the finish was reported as " + seen.outcome_;
    }
  }
  return "";
}

TEST(InProcessExecutorTest, CopiesEveryPlanByteExact) { InChild(&CopiesEveryPlan); }

std::string PendingSignalStopsBeforeTheFirstUnit() {
  TempDir t;
  Files f(t);
  SignalGuard signals;
  raise(SIGINT);  // blocked by the guard: pending until the executor polls
  Recorder seen;
  const ExecResult r = InProcessExecutor().Run(
      MakeWorkList(MakePlan(kSize, 1, 4096, Strategy::kDynamic)), f.config, signals, &seen);
  if (r.signal != SIGINT) return "signal " + std::to_string(r.signal) + ", not SIGINT";
  if (seen.outcome_ != "interrupted" || seen.done_ != 0) return "reported as " + seen.outcome_;
  return "";
}

TEST(InProcessExecutorTest, PendingSignalStopsBeforeTheFirstUnit) {
  InChild(&PendingSignalStopsBeforeTheFirstUnit);
}

int TerminateParentSoon(void*) noexcept {
  usleep(200 * 1000);
  kill(getppid(), SIGTERM);
  return 0;
}

// --bwlimit 1000: the first 4 KiB piece is followed by a 4 s sleep, which SIGTERM cuts short.
std::string SignalCutsAPacingSleepShort() {
  TempDir t;
  Files f(t);
  f.config.bwlimit = 1000;
  SignalGuard signals;
  ChildProcess sender;
  if (Status s = ChildProcess::Spawn(&TerminateParentSoon, nullptr, 0, "sender", &sender);
      !s.ok()) {
    return s.ToString();
  }
  const auto t0 = std::chrono::steady_clock::now();
  const ExecResult r = InProcessExecutor().Run(
      MakeWorkList(MakePlan(kSize, 1, 4096, Strategy::kDynamic)), f.config, signals, nullptr);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sender.Wait();
  if (r.signal != SIGTERM) return "signal " + std::to_string(r.signal) + ", not SIGTERM";
  if (took > 2.0) return "the sleep was not cut short: " + std::to_string(took) + " s";
  return "";
}

TEST(InProcessExecutorTest, SignalCutsAPacingSleepShort) { InChild(&SignalCutsAPacingSleepShort); }

}  // namespace
}  // namespace pcopy
