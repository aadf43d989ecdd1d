// e2e_faults_test.cc: the real pcopy binary under faults: a full file system, terminating signals,
// a worker or the parent killed, a worker stopped and continued. Whatever happens, DEST is either
// untouched or complete, no temporary is left (unless the parent itself was SIGKILLed) and no
// worker outlives the copy.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "os/child_process.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

// pcopy reaps every worker before it exits: once it has exited, none may be left, not even as a
// zombie re-parented to this process (the subreaper).
void ExpectAllReaped(const std::vector<pid_t>& workers) {
  for (pid_t w : workers) EXPECT_TRUE(Gone(w)) << "worker " << w << " outlived pcopy";
}

// Reaps the given processes, once re-parented here, as they end; returns their wait statuses.
// Fails the test if they are not all reaped before the deadline.
std::map<pid_t, int> ReapReparented(const std::vector<pid_t>& pids) {
  std::map<pid_t, int> statuses;
  EXPECT_TRUE(WaitUntil("the orphaned workers to end", [&] {
    for (pid_t pid : pids) {
      int status = 0;
      if (statuses.count(pid) == 0 && waitpid(pid, &status, WNOHANG) == pid) {
        statuses[pid] = status;
      }
    }
    return statuses.size() == pids.size();
  }));
  return statuses;
}

// ---------------------------------------------------------------------------------------------
// A full file system. pcopy checks DEST's free space before it creates anything, so these copies
// are refused up front; ENOSPC met by the workers themselves, on a real file system whose free
// space check is bypassed, is in preallocate_test.cc.

TEST(E2eFaults, NoSpaceLeavesNothing) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir t;
  const std::string src = t / "src", small = t / "small";
  MakeRandomFile(src, 4 * kMiB, 41);
  ASSERT_EQ(mkdir(small.c_str(), 0755), 0);
  TmpfsMount mount(small, "size=1m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();

  const std::vector<std::vector<std::string>> variants = {
      {"-j", "1"},
      {"-j", "4"},
      {"-j", "4", "--method", "pread"},
      {"-j", "3", "--chunk-size", "4K", "--method", "auto", "--buffer-size", "4K"},
      {"-j", "2", "--fsync"}};
  for (const auto& options : variants) {
    SCOPED_TRACE(testing::PrintToString(options));
    const std::string dst = small + "/dst";
    std::vector<std::string> args = options;
    args.push_back(src);
    args.push_back(dst);
    const RunResult r = RunPcopy(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
    EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
    EXPECT_NE(r.err.find("not enough space for "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(Quoted(dst)), std::string::npos) << r.err;
    EXPECT_TRUE(ListDir(small).empty())
        << "left behind: " << testing::PrintToString(ListDir(small));
  }
}

TEST(E2eFaults, NoSpaceKeepsExistingDest) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir t;
  const std::string src = t / "src", small = t / "small";
  MakeRandomFile(src, 4 * kMiB, 42);
  ASSERT_EQ(mkdir(small.c_str(), 0755), 0);
  TmpfsMount mount(small, "size=1m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  const std::string dst = small + "/dst";
  MakeRandomFile(dst, 100 * 1024, 43);
  const std::string old = ReadFile(dst);

  const RunResult r = RunPcopy({"-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("not enough space for "), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dst), old) << "DEST changed";
  EXPECT_EQ(ListDir(small), std::vector<std::string>{"dst"});
}

// sendfile, mmap + pwrite and O_DIRECT: whatever the method, the free space check refuses up
// front, in one line, leaving nothing (preallocate_test.cc lets each method meet the full disk).
TEST(E2eFaults, NoSpaceWithEachMethod) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir t;
  const std::string src = t / "src", small = t / "small";
  MakeRandomFile(src, 4 * kMiB + 5, 48);
  ASSERT_EQ(mkdir(small.c_str(), 0755), 0);
  TmpfsMount mount(small, "size=1m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();

  for (const char* method : {"sendfile", "mmap", "direct"}) {
    for (const std::vector<std::string>& options :
         {std::vector<std::string>{"-j", "1"},
          std::vector<std::string>{"-j", "3", "--chunk-size", "4K", "--strategy", "contiguous"},
          std::vector<std::string>{"-j", "4", "--strategy", "dynamic", "--buffer-size", "5000"}}) {
      SCOPED_TRACE(std::string(method) + " " + testing::PrintToString(options));
      const std::string dst = small + "/dst";
      std::vector<std::string> args = options;
      args.insert(args.end(), {"--method", method, src, dst});
      const RunResult r = RunPcopy(args);
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_EQ(r.signal, 0);
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
      EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
      const bool direct_refused = std::string(method) == "direct" &&
                                  r.err.find("O_DIRECT") != std::string::npos &&
                                  r.err.find("Invalid argument") != std::string::npos;
      if (!direct_refused) {
        EXPECT_NE(r.err.find("not enough space for "), std::string::npos) << r.err;
      }
      EXPECT_NE(r.err.find(Quoted(dst)), std::string::npos) << r.err;
      EXPECT_TRUE(ListDir(small).empty())
          << "left behind: " << testing::PrintToString(ListDir(small));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Signals and killed processes, on a throttled copy of a 64 MiB source (--bwlimit 20M takes
// over 3 s). The test strikes once the copy is seen under way: its workers exist and the first
// bytes have landed in the temporary.

constexpr uint64_t kSignalSourceSize = 64 * kMiB;

class SignalFixture : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    source_ = new std::string(*dir_ / "src64");
    MakeRandomFile(*source_, kSignalSourceSize, 44);
  }
  static void TearDownTestSuite() {
    delete source_;
    delete dir_;
    source_ = nullptr;
    dir_ = nullptr;
  }
  static std::vector<std::string> ThrottledArgs(const std::string& dst,
                                                std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--bwlimit", "20M", "-j", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(*source_);
    args.push_back(dst);
    return args;
  }

  static TempDir* dir_;
  static std::string* source_;
};
TempDir* SignalFixture::dir_ = nullptr;
std::string* SignalFixture::source_ = nullptr;

struct SignalCase {
  int signal;
  int exit_code;
  bool dest_exists;
};

void PrintTo(const SignalCase& c, std::ostream* os) {
  *os << "SIG" << sigabbrev_np(c.signal) << ", exit " << c.exit_code
      << (c.dest_exists ? ", DEST exists" : ", no DEST");
}

std::string SignalName(const testing::TestParamInfo<SignalCase>& info) {
  return std::string("SIG") + sigabbrev_np(info.param.signal) +
         (info.param.dest_exists ? "_DestExists" : "_NoDest");
}

class E2eFaultsSignal : public SignalFixture, public testing::WithParamInterface<SignalCase> {};

TEST_P(E2eFaultsSignal, InterruptLeavesDestUntouched) {
  const SignalCase& c = GetParam();
  TempDir t;
  const std::string dst = t / "dst";
  std::string old;
  if (c.dest_exists) {
    MakeRandomFile(dst, 3 * kMiB + 5, 45);
    old = ReadFile(dst);
  }
  PcopyProcess p(ThrottledArgs(dst));
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u) << "pcopy did not start 2 workers";
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  ASSERT_EQ(kill(p.pid(), c.signal), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.signal, 0) << "pcopy died of the signal instead of cleaning up";
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  if (c.dest_exists) {
    EXPECT_EQ(ReadFile(dst), old) << "DEST changed";
    EXPECT_EQ(t.List(), std::vector<std::string>{"dst"});
  } else {
    EXPECT_FALSE(Exists(dst));
    EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());
  }
  EXPECT_TRUE(Temporaries(t.path()).empty());
  ExpectAllReaped(workers);
}

INSTANTIATE_TEST_SUITE_P(
    E2eFaults, E2eFaultsSignal,
    testing::Values(SignalCase{SIGINT, 130, false}, SignalCase{SIGINT, 130, true},
                    SignalCase{SIGTERM, 143, false}, SignalCase{SIGTERM, 143, true},
                    SignalCase{SIGHUP, 129, false}, SignalCase{SIGHUP, 129, true}),
    SignalName);

class E2eFaultsKill : public SignalFixture {};

// The interruption message names the signal as users know it ("SIGINT", not "INT").
TEST_F(E2eFaultsKill, InterruptMessageNamesSignal) {
  TempDir t;
  PcopyProcess p(ThrottledArgs(t / "dst"));
  ASSERT_EQ(WaitForNWorkers(p, 2).size(), 2u);
  ASSERT_EQ(kill(p.pid(), SIGINT), 0);
  const RunResult r = FinishWithin(p);
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_NE(r.err.find("interrupted by SIGINT"), std::string::npos) << r.err;
}

// With --retries 0 a dead worker fails the copy cleanly.
TEST_F(E2eFaultsKill, WorkerKilled) {
  TempDir t;
  const std::string dst = t / "dst";
  PcopyProcess p(ThrottledArgs(dst, {"--retries", "0"}));
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  ASSERT_EQ(kill(workers[0], SIGKILL), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  EXPECT_NE(r.err.find("worker"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dst));
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());
  ExpectAllReaped(workers);
}

TEST_F(E2eFaultsKill, WorkerKilledKeepsExistingDest) {
  TempDir t;
  const std::string dst = t / "dst";
  WriteFile(dst, "old content");
  PcopyProcess p(ThrottledArgs(dst, {"--retries", "0"}));
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_EQ(kill(workers[1], SIGKILL), 0);
  const RunResult r = FinishWithin(p);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dst), "old content");
  EXPECT_EQ(t.List(), std::vector<std::string>{"dst"});
}

// A worker killed mid-copy is replaced by one that resumes its unfinished ranges, whatever the
// strategy, and the copy completes byte-exact; stderr says what was retried.
class E2eFaultsRetry : public SignalFixture, public testing::WithParamInterface<const char*> {};

TEST_P(E2eFaultsRetry, KilledWorkerIsReplaced) {
  TempDir t;
  const std::string dst = t / "dst";
  PcopyProcess p(ThrottledArgs(dst, {"--strategy", GetParam(), "-v"}));
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u);
  // Well under way: the worker to be killed has done real work that its replacement must keep.
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), 4 * kMiB));
  ASSERT_EQ(kill(workers[0], SIGKILL), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(*source_, dst));
  EXPECT_TRUE(Temporaries(t.path()).empty());
  // -v's lines on stderr, and the one retried line among them.
  const size_t retried = r.err.find("pcopy: retried: worker ");
  ASSERT_NE(retried, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pcopy: retried: ", retried + 1), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("took over its unfinished work (retry 1 of 3)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(", 1 worker replaced"), std::string::npos) << r.err;
}

std::string StrategyName(const testing::TestParamInfo<const char*>& info) {
  return ParamName(info.param);
}

INSTANTIATE_TEST_SUITE_P(E2eFaults, E2eFaultsRetry,
                         testing::Values("contiguous", "interleaved", "dynamic", "guided"),
                         StrategyName);

// Workers that keep dying exhaust --retries: then the copy fails cleanly, saying so.
TEST_F(E2eFaultsKill, RetriesRunOut) {
  TempDir t;
  const std::string dst = t / "dst";
  PcopyProcess p({"--bwlimit", "20M", "-j", "1", "--retries", "1", *source_, dst});
  const std::vector<pid_t> first = WaitForNWorkers(p, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(kill(first[0], SIGKILL), 0);
  std::vector<pid_t> second;
  ASSERT_TRUE(WaitUntil("a replacement worker", [&] {
    second = p.Workers();
    return !second.empty() && second[0] != first[0];
  }));
  ASSERT_EQ(kill(second[0], SIGKILL), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("killed by signal 9 (Killed) after 1 retry while copying"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(Exists(dst));
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());
}

// A worker that makes no progress for --stall-timeout seconds (here: stopped) is replaced.
TEST_F(E2eFaultsKill, StalledWorkerIsReplaced) {
  TempDir t;
  const std::string dst = t / "dst";
  PcopyProcess p(ThrottledArgs(dst, {"--stall-timeout", "0.5"}));
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), 2 * kMiB));
  ASSERT_EQ(kill(workers[1], SIGSTOP), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(*source_, dst));
  EXPECT_NE(r.err.find("copied nothing for 0 s and was killed"), std::string::npos) << r.err;
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

// The parent cannot clean up after SIGKILL, but its workers must not outlive it: they die of
// PR_SET_PDEATHSIG (SIGKILL) and, this process being a subreaper, are re-parented here to be
// reaped. Their wait status tells that signal from the end of their work.
TEST_F(E2eFaultsKill, ParentKilledTakesWorkersWithIt) {
  TempDir t;
  const std::string dst = t / "dst";
  PcopyProcess p(ThrottledArgs(dst));
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  const pid_t parent = p.pid();
  ASSERT_EQ(kill(parent, SIGKILL), 0);
  const RunResult r = p.Finish();
  EXPECT_EQ(r.signal, SIGKILL);

  // A worker dies with its parent: killed by the kernel (PR_SET_PDEATHSIG), or, if it had not
  // yet asked for that when the parent died, by its own check of getppid() (kChildOrphaned).
  for (const auto& [worker, status] : ReapReparented(workers)) {
    EXPECT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
                (WIFEXITED(status) && WEXITSTATUS(status) == kChildOrphaned))
        << "worker " << worker << " did not die with its parent: wait status " << status;
  }
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
  EXPECT_FALSE(Exists(dst)) << "an incomplete DEST was published";

  // The temporary it left names its pid; the next pcopy into the directory removes it.
  const std::vector<std::string> left = Temporaries(t.path());
  ASSERT_EQ(left.size(), 1u) << testing::PrintToString(t.List());
  std::string pid_part = "-";  // built by append: g++ 12 warns falsely on "-" + ... (PR105329)
  pid_part.append(std::to_string(parent)).append("-");
  EXPECT_NE(left[0].find(pid_part), std::string::npos) << left[0];
  const RunResult again = RunPcopy({"-v", *source_, dst});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  std::string removed = "removed '";
  removed.append(left[0]).append("'");
  EXPECT_NE(again.err.find(removed), std::string::npos) << again.err;
  EXPECT_EQ(t.List(), std::vector<std::string>{"dst"});
  EXPECT_TRUE(SameBytes(*source_, dst));
}

// The source shrinks under the workers: the copy fails with "source changed" instead of
// publishing a DEST with a hole or stale bytes.
TEST(E2eFaults, SourceTruncatedDuringCopy) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 16 * kMiB, 47);
  PcopyProcess p({"--bwlimit", "20M", "-j", "2", src, dst});
  ASSERT_EQ(WaitForNWorkers(p, 2).size(), 2u);
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  ASSERT_EQ(truncate(src.c_str(), static_cast<off_t>(kMiB)), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  EXPECT_NE(r.err.find(Quoted(src)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the source changed"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dst));
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

// Under the default dynamic strategy (1 MiB chunks) the running worker takes every chunk but the
// one the stopped worker holds; once it has copied them, all the parent can do is wait.
TEST(E2eFaults, WorkerStoppedAndContinuedStillCopies) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  constexpr uint64_t kSize = 16 * kMiB + 4095;
  MakeRandomFile(src, kSize, 46);
  PcopyProcess p({"--bwlimit", "20M", "-j", "2", src, dst});
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_TRUE(WaitUntilCopied(p, t.path(), kMiB));
  ASSERT_EQ(kill(workers[0], SIGSTOP), 0);
  EXPECT_TRUE(WaitUntilCopied(p, t.path(), kSize - kMiB)) << "all but the stopped worker's chunk";
  EXPECT_FALSE(Exists(dst)) << "DEST published while a worker was stopped";
  ASSERT_EQ(kill(workers[0], SIGCONT), 0);
  const RunResult r = FinishWithin(p);

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(SameBytes(src, dst));
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

}  // namespace
}  // namespace pcopy::test
