// e2e_signals_test.cc: SIGINT, SIGTERM and SIGHUP reach the real pcopy binary in every mode
// (--checksum, --compare, --verify, a plain copy, the demo) and at every stage of it, and stop it
// within 0.5 s: exit 128 + N, one line on stderr, no worker or pool process left, no temporary,
// no demo directory, nothing new in /dev/shm or /dev/mqueue.
//
// The test waits until pcopy is really at the stage (its workers exist, a file appeared, the copy
// workers are gone) by watching /proc and the file system, never by sleeping, then sends the
// signal after a delay drawn from a seeded generator, so each case strikes at its own moment and
// a rerun strikes at the same one. The big inputs are sparse files: they cost no disk space and
// read as fast as the page cache, so a few GiB keep pcopy busy for about a second (the copies
// with --sparse=never, which writes the holes out as zeros).
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace pcopy {
namespace {

using namespace pcopy::test;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr long long kLatencyLimitMs = 500;
constexpr int kStageTimeoutMs = 30000;

long long MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------
// Processes, from /proc.

struct Proc {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  char state = '?';
  std::string comm;
};

std::optional<Proc> ReadProc(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return std::nullopt;
  Proc p;
  p.pid = pid;
  p.comm = line.substr(open + 1, close - open - 1);
  if (sscanf(line.c_str() + close + 1, " %c %d %d", &p.state, &p.ppid, &p.pgid) != 3) {
    return std::nullopt;
  }
  return p;
}

std::vector<Proc> AllProcs() {
  std::vector<Proc> all;
  for (const std::string& name : ListDir("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (auto p = ReadProc(std::stoi(name))) all.push_back(*p);
  }
  return all;
}

std::vector<Proc> ChildProcs(pid_t parent) {
  std::vector<Proc> kids;
  for (pid_t k : ChildrenOf(parent)) {
    if (auto p = ReadProc(k)) kids.push_back(*p);
  }
  return kids;
}

bool Named(const std::vector<Proc>& procs, const std::string& prefix) {
  for (const Proc& p : procs) {
    if (p.comm.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// Entries of /dev/shm and /dev/mqueue that name pcopy's pid (a pool's queue is
// pcopy-verify-<pid>-<n>-<random>).
std::vector<std::string> IpcNamesOf(pid_t pid) {
  std::vector<std::string> found;
  std::string mark = "-";
  mark.append(std::to_string(pid)).append("-");
  for (const std::string dir : {"/dev/shm", "/dev/mqueue"}) {
    for (const std::string& name : ListDir(dir)) {
      if (name.find(mark) != std::string::npos) found.push_back(dir + "/" + name);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The cases.

enum class Mode { kChecksum, kCompare, kVerify, kCopy, kFsync, kDemo };

// Where pcopy must be when the delay before the signal starts.
enum class Stage {
  kPool,         // digest workers (pcopy-verify-*) exist
  kCopyWorkers,  // copy workers (pcopy-w*) exist
  kCopyDone,     // copy workers were seen and are gone: the demo's compare
  kDemoWriting,  // the demo's source file has bytes in it
};

struct Case {
  const char* name;
  Mode mode;
  Stage stage;
  int signal;
  int max_delay_ms;  // the delay after the stage is reached: uniform in [0, max]
  unsigned seed;
};

std::string CaseName(const testing::TestParamInfo<Case>& info) { return info.param.name; }
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Entries of dir that are demo directories (pcopy-demo-*).
std::vector<std::string> DemoDirs(const std::string& dir) {
  std::vector<std::string> found;
  for (const std::string& name : ListDir(dir)) {
    if (name.rfind("pcopy-demo-", 0) == 0) found.push_back(name);
  }
  return found;
}

// The files every case reads, made once: sparse, so they take no disk space.
class E2eSignals : public testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    MakeSparse(*dir_ / "big", 4 * kGiB);
    MakeSparse(*dir_ / "half-a", 2 * kGiB);
    MakeSparse(*dir_ / "half-b", 2 * kGiB);
    MakeSparse(*dir_ / "one", kGiB);
    // --verify's temporary is removed with its pages when the signal comes: 512 MiB keeps
    // that under a tenth of a second here while the copy (written back as it goes, so no
    // separate sync stage is left to strike) and digest stages still take long enough to be hit.
    MakeSparse(*dir_ / "verify", kGiB / 2);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static void MakeSparse(const std::string& path, uint64_t size) {
    WriteFile(path, "");
    ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(size)), 0) << path;
  }

  // A shell that started the test binary in the background may have left SIGINT ignored; pcopy
  // would inherit that (as nohup intends) and the test would prove nothing.
  void SetUp() override {
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], nullptr, &saved_[i]);
    for (int sig : kSignals) signal(sig, SIG_DFL);
  }
  void TearDown() override {
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &saved_[i], nullptr);
  }

  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction saved_[3]{};
  static TempDir* dir_;
};
TempDir* E2eSignals::dir_ = nullptr;

std::vector<std::string> Args(const Case& c, const std::string& in, const std::string& out) {
  switch (c.mode) {
    case Mode::kChecksum:
      return {"--checksum", "-j", "2", in + "/big"};
    case Mode::kCompare:
      return {"--compare", "-j", "2", in + "/half-a", in + "/half-b"};
    // --sparse=never: the copy writes every byte of the holes, so its workers live long enough
    // to be struck (a sparse copy of holes alone has none).
    case Mode::kVerify:
      return {"--verify",       "-j",           "2",         "--progress", "none",
              "--sparse=never", in + "/verify", out + "/dst"};
    case Mode::kCopy:
      return {"-j", "2", "--progress", "none", "--sparse=never", in + "/one", out + "/dst"};
    // The workers wait for their writeback (sync_file_range) as they go. --no-resume: a 1 GiB
    // --fsync copy would otherwise keep what it made durable (E2eResume covers that).
    case Mode::kFsync:
      return {"--fsync", "--no-resume",    "-j",        "2",         "--progress",
              "none",    "--sparse=never", in + "/one", out + "/dst"};
    case Mode::kDemo:
      return {"--demo", "--demo-size", "128M", "-j", "2"};
  }
  return {};
}

// The demo's source file (TMPDIR/pcopy-demo-*/source.bin) holds bytes.
bool DemoWriting(const std::string& tmpdir) {
  for (const std::string& name : DemoDirs(tmpdir)) {
    struct stat st;
    const std::string source = tmpdir + "/" + name + "/source.bin";
    if (stat(source.c_str(), &st) == 0 && st.st_size > 0) return true;
  }
  return false;
}

// Watches pcopy every millisecond until it reaches the case's stage; records every child seen.
// Returns false if pcopy exited or the stage never came.
bool WaitForStage(const PcopyProcess& p, const Case& c, const std::string& tmpdir,
                  std::set<pid_t>* seen) {
  bool saw_copy_workers = false;
  const auto t0 = Clock::now();
  while (MsSince(t0) < kStageTimeoutMs) {
    const std::vector<Proc> kids = ChildProcs(p.pid());
    for (const Proc& k : kids) seen->insert(k.pid);
    saw_copy_workers = saw_copy_workers || Named(kids, "pcopy-w");
    switch (c.stage) {
      case Stage::kPool:
        if (Named(kids, "pcopy-verify-")) return true;
        break;
      case Stage::kCopyWorkers:
        if (saw_copy_workers) return true;
        break;
      case Stage::kCopyDone:
        if (saw_copy_workers && kids.empty()) return true;
        break;
      case Stage::kDemoWriting:
        if (DemoWriting(tmpdir)) return true;
        break;
    }
    if (p.WaitForExit(0)) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return false;
}

// Sleeps for delay while still recording pcopy's children.
void DelayWatching(const PcopyProcess& p, int delay_ms, std::set<pid_t>* seen) {
  const auto t0 = Clock::now();
  while (MsSince(t0) < delay_ms) {
    for (pid_t k : ChildrenOf(p.pid())) seen->insert(k);
    std::this_thread::sleep_for(milliseconds(1));
  }
}

// Milliseconds from now until pcopy exits (not reaped), or -1 after limit_ms.
long long MsUntilExit(const PcopyProcess& p, int limit_ms) {
  const auto t0 = Clock::now();
  while (MsSince(t0) <= limit_ms) {
    if (p.WaitForExit(0)) return MsSince(t0);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return -1;
}

// No process pcopy started is left: every child seen is gone (not even a zombie), no process is
// in a group one of them led (the copy workers' group), and no process named like a worker
// hangs on to pcopy or to this test (the subreaper its orphans would come to).
void ExpectNoProcessLeft(pid_t pcopy, const std::set<pid_t>& seen) {
  for (pid_t k : seen) {
    const std::optional<Proc> p = ReadProc(k);
    EXPECT_FALSE(p.has_value()) << "child " << k << " (" << (p ? p->comm : "") << ", state "
                                << (p ? p->state : '?') << ") outlived pcopy";
  }
  for (const Proc& p : AllProcs()) {
    const bool ours = p.ppid == pcopy || p.ppid == getpid();
    const bool in_worker_group = seen.count(p.pgid) != 0;
    if ((ours && p.comm.rfind("pcopy-", 0) == 0) || in_worker_group) {
      ADD_FAILURE() << "process " << p.pid << " (" << p.comm << ", parent " << p.ppid << ", group "
                    << p.pgid << ") is left";
    }
  }
}

TEST_P(E2eSignals, StopsPromptlyAndLeavesNothing) {
  const Case& c = GetParam();
  struct statvfs fs;
  ASSERT_EQ(statvfs(dir_->path().c_str(), &fs), 0);
  if (static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < 3 * kGiB) {
    GTEST_SKIP() << "needs 3 GiB free in " << dir_->path();
  }
  std::mt19937 random(c.seed);
  const int delay_ms = std::uniform_int_distribution<int>(0, c.max_delay_ms)(random);
  TempDir out, tmpdir;
  // The demo makes its directory under $TMPDIR: here, a directory of the test's own.
  const char* old_tmpdir = getenv("TMPDIR");
  const std::string saved_tmpdir = old_tmpdir != nullptr ? old_tmpdir : "";
  if (c.mode == Mode::kDemo) setenv("TMPDIR", tmpdir.path().c_str(), 1);
  PcopyProcess p(Args(c, dir_->path(), out.path()));
  if (c.mode == Mode::kDemo) {
    if (old_tmpdir != nullptr) {
      setenv("TMPDIR", saved_tmpdir.c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  }

  const pid_t pid = p.pid();
  std::set<pid_t> seen;
  ASSERT_TRUE(WaitForStage(p, c, tmpdir.path(), &seen))
      << "pcopy never reached the stage (it exited, or took over " << kStageTimeoutMs << " ms)";
  DelayWatching(p, delay_ms, &seen);
  ASSERT_FALSE(p.WaitForExit(0)) << "pcopy finished within " << delay_ms
                                 << " ms of the stage, before the signal: give it more work";
  ASSERT_EQ(kill(pid, c.signal), 0);
  const long long latency = MsUntilExit(p, 10000);
  const RunResult r = FinishWithin(p, 1000);

  RecordProperty("latency_ms", std::to_string(latency));
  printf("[  latency ] %s: exited %lld ms after the signal (sent %d ms into the stage)\n", c.name,
         latency, delay_ms);
  EXPECT_GE(latency, 0) << "pcopy did not exit within 10 s of the signal";
  EXPECT_LE(latency, kLatencyLimitMs) << "pcopy took " << latency << " ms to exit";
  EXPECT_EQ(r.signal, 0) << "pcopy died of the signal instead of cleaning up";
  EXPECT_EQ(r.exit_code, 128 + c.signal) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  const std::string expected = std::string("pcopy: interrupted by SIG") + sigabbrev_np(c.signal);
  EXPECT_EQ(r.err.rfind(expected, 0), 0u) << r.err;
  if (c.mode == Mode::kChecksum || c.mode == Mode::kCompare) {
    EXPECT_EQ(r.out, "");
  }

  EXPECT_TRUE(out.List().empty()) << "left: " << testing::PrintToString(out.List());
  EXPECT_TRUE(DemoDirs(tmpdir.path()).empty())
      << "left: " << testing::PrintToString(DemoDirs(tmpdir.path()));
  EXPECT_TRUE(IpcNamesOf(pid).empty()) << IpcNamesOf(pid).front();
  ExpectNoProcessLeft(pid, seen);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, E2eSignals,
    testing::Values(Case{"Checksum_SIGINT", Mode::kChecksum, Stage::kPool, SIGINT, 300, 1},
                    Case{"Checksum_SIGTERM", Mode::kChecksum, Stage::kPool, SIGTERM, 300, 2},
                    Case{"Compare_SIGINT", Mode::kCompare, Stage::kPool, SIGINT, 300, 3},
                    Case{"Compare_SIGTERM", Mode::kCompare, Stage::kPool, SIGTERM, 300, 4},
                    Case{"VerifyCopy_SIGTERM", Mode::kVerify, Stage::kCopyWorkers, SIGTERM, 150, 5},
                    // The read-back of 512 MiB can end within 150 ms where DEST is still cached:
                    // the signal comes within 80 ms (it came at 134 ms once, after the end).
                    Case{"VerifyDigest_SIGINT", Mode::kVerify, Stage::kPool, SIGINT, 80, 6},
                    Case{"VerifyDigest_SIGTERM", Mode::kVerify, Stage::kPool, SIGTERM, 80, 7},
                    Case{"Copy_SIGINT", Mode::kCopy, Stage::kCopyWorkers, SIGINT, 200, 8},
                    Case{"Copy_SIGTERM", Mode::kCopy, Stage::kCopyWorkers, SIGTERM, 200, 9},
                    Case{"Copy_SIGHUP", Mode::kCopy, Stage::kCopyWorkers, SIGHUP, 200, 10},
                    Case{"Fsync_SIGINT", Mode::kFsync, Stage::kCopyWorkers, SIGINT, 200, 15},
                    Case{"DemoWrite_SIGTERM", Mode::kDemo, Stage::kDemoWriting, SIGTERM, 150, 11},
                    Case{"DemoCopy_SIGINT", Mode::kDemo, Stage::kCopyWorkers, SIGINT, 100, 12},
                    Case{"DemoCompare_SIGINT", Mode::kDemo, Stage::kCopyDone, SIGINT, 0, 13},
                    Case{"DemoCompare_SIGTERM", Mode::kDemo, Stage::kCopyDone, SIGTERM, 0, 14}),
    CaseName);

}  // namespace
}  // namespace pcopy
