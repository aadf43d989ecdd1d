// e2e_mpi_test.cc: pcopy-mpi under mpirun on this machine (`mpirun --oversubscribe -np N`, N =
// 1, 2, 3, 5), as a user of a cluster runs it: byte-exact copies of odd sizes with every
// strategy, errors reported by rank 0 with the failing rank and its host, and the failures a job
// meets (a SIGINT to mpirun, a rank killed outright) never publishing DEST nor leaving a
// temporary that the next run does not remove. Skipped where MPI was not found at build time.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "base/size_parse.h"
#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy {
namespace {

using namespace pcopy::test;

#ifdef PCOPY_MPI_BINARY
constexpr const char* kMpiBinary = PCOPY_MPI_BINARY;
constexpr const char* kMpiExec = PCOPY_MPIEXEC;
#else
constexpr const char* kMpiBinary = "";
constexpr const char* kMpiExec = "";
#endif

// The rank of a process mpirun started, from its environment; -1 if it cannot be read.
int RankOf(pid_t pid) {
  const std::string env = ReadFile("/proc/" + std::to_string(pid) + "/environ");
  const std::string key = std::string("OMPI_COMM_WORLD_RANK=");
  for (size_t at = 0; at < env.size(); at = env.find('\0', at) + 1) {
    if (env.compare(at, key.size(), key) == 0) return std::atoi(env.c_str() + at + key.size());
    if (env.find('\0', at) == std::string::npos) break;
  }
  return -1;
}

std::string Host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// mpirun -np n pcopy-mpi args, started in the background in its own process group, its output
// in files.
class MpiJob {
 public:
  MpiJob(int n, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kMpiExec, "--allow-run-as-root", "--oversubscribe",
                                     "-np",    std::to_string(n),     kMpiBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      const int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> raw;
      for (std::string& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execvp(raw[0], raw.data());
      _exit(127);
    }
    EXPECT_GT(pid_, 0);
  }
  ~MpiJob() {
    if (pid_ > 0 && !reaped_) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

  RunResult Finish() {
    int status = 0;
    EXPECT_TRUE(WaitUntil(
        "mpirun to exit",
        [&] {
          if (reaped_) return true;
          reaped_ = waitpid(pid_, &status, WNOHANG) == pid_;
          return reaped_;
        },
        60000));
    // The ranks mpirun did not reap come to this process (test_main.cc makes it the subreaper):
    // reaped here, so that a dead rank's pid is gone for the next run's leftover check.
    EXPECT_TRUE(WaitUntil("mpirun's ranks to be reaped", [] {
      while (waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      return ChildrenOf(getpid()).empty();
    }));
    RunResult r;
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = ReadFile(out_path_);
    r.err = ReadFile(err_path_);
    return r;
  }

 private:
  TempDir io_;
  std::string out_path_ = io_ / "out";
  std::string err_path_ = io_ / "err";
  pid_t pid_ = -1;
  bool reaped_ = false;
};

class E2eMpi : public testing::Test {
 protected:
  void SetUp() override {
    if (std::string(kMpiExec).empty()) {
      GTEST_SKIP() << "MPI was not found when pcopy was built: pcopy-mpi and its tests are "
                      "left out (scripts/install-deps.sh installs Open MPI)";
    }
    // Containers lack the kernel's cross-memory attach that Open MPI's shared-memory transport
    // uses by default; the sanitizers' leak report would name Open MPI's own allocations.
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    setenv("OMPI_MCA_orte_tmpdir_base", "/dev/shm", 1);
  }

  RunResult Mpi(int n, const std::vector<std::string>& args) { return MpiJob(n, args).Finish(); }

  // Nothing of pcopy's in the test's directory (no temporary, no partial copy), and no shared
  // memory of its jobs' windows in /dev/shm.
  void ExpectNothingLeft() {
    for (const std::string& name : ListDir(dir_.path())) {
      EXPECT_NE(name.rfind(".pcopy", 0), 0u) << "left behind: " << name;
    }
    for (const std::string& name : ListDir("/dev/shm")) {
      EXPECT_EQ(name.rfind("osc_sm.", 0) == 0 && shm_before_.count(name) == 0, false)
          << "left in /dev/shm: " << name;
    }
  }

  // Open MPI's window segments already there (other jobs'), not this test's to answer for.
  std::set<std::string> shm_before_ = [] {
    const std::vector<std::string> names = ListDir("/dev/shm");
    return std::set<std::string>(names.begin(), names.end());
  }();

  TempDir dir_;
  std::string src_ = dir_ / "src";
  std::string dst_ = dir_ / "dst";
};

// Every strategy at several rank counts, on sizes that do not divide evenly: the ranks' units
// together are the whole file, and DEST appears once, complete, with SOURCE's mode.
TEST_F(E2eMpi, CopiesOddSizesByteExactWithEveryStrategy) {
  struct Case {
    int ranks;
    const char* strategy;
    uint64_t size;
  };
  const Case cases[] = {{1, "contiguous", kMiB + 3},
                        {2, "interleaved", 5 * kMiB + 1},
                        {3, "dynamic", 7 * kMiB + 4093},
                        {5, "guided", 9 * kMiB + 11},
                        {5, "dynamic", 1},
                        {2, "contiguous", 0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.strategy) + ", " + std::to_string(c.ranks) + " ranks, " +
                 std::to_string(c.size) + " bytes");
    MakeRandomFile(src_, c.size, c.size + 1);
    ASSERT_EQ(chmod(src_.c_str(), 0640), 0);
    unlink(dst_.c_str());
    const RunResult r =
        Mpi(c.ranks, {"--strategy", c.strategy, "--chunk-size", "256K", "-v", src_, dst_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(SameBytes(src_, dst_));
    struct stat st {};
    ASSERT_EQ(stat(dst_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_TRUE(r.out.find("pcopy-mpi: copied ") != std::string::npos) << r.out;
    EXPECT_TRUE(r.out.find(" with " + std::to_string(c.ranks) + " rank") != std::string::npos)
        << r.out;
    ExpectNothingLeft();
  }
}

// Refused on rank 0 before any rank copies: one line on stderr, exit 1, nothing created.
TEST_F(E2eMpi, RankZerosRefusalsAreOneLineAndCreateNothing) {
  RunResult r = Mpi(2, {dir_ / "missing", dst_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.rfind("pcopy-mpi: cannot open " + Quoted(dir_ / "missing") +
                              " for reading: No such file or directory\n",
                          0) == 0)
      << r.err;
  MakeRandomFile(src_, 4096, 1);
  r = Mpi(2, {src_, src_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      r.err.rfind("pcopy-mpi: " + Quoted(src_) + " and " + Quoted(src_) + " are the same file\n",
                  0) == 0)
      << r.err;
  r = Mpi(2, {"--checksum", src_});
  EXPECT_EQ(r.exit_code, 2);
  r = Mpi(2, {"--verify", src_, dst_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.rfind("pcopy-mpi: --verify: not supported yet", 0) == 0) << r.err;
  r = Mpi(2, {"-j", "4", src_, dst_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.rfind("pcopy-mpi: -j 4: local workers per rank are not supported yet", 0) == 0)
      << r.err;
  EXPECT_FALSE(Exists(dst_));
  ExpectNothingLeft();
}

// -n keeps an existing DEST, as cp -n does, without copying; -u keeps one as new as SOURCE.
TEST_F(E2eMpi, AnExistingDestKeptByNoClobberIsNotCopied) {
  MakeRandomFile(src_, 3 * kMiB, 4);
  WriteFile(dst_, "already here\n");
  RunResult r = Mpi(2, {"-n", "-v", src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dst_), "already here\n");
  EXPECT_TRUE(r.out.find("pcopy-mpi: not replacing " + Quoted(dst_)) != std::string::npos) << r.out;
  r = Mpi(2, {"-u", src_, dst_});  // DEST is newer than SOURCE
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dst_), "already here\n");
  ExpectNothingLeft();
}

// A rank's error (SOURCE cut short under the ranks' feet: mid-copy, "unexpected end of file"; or,
// when the cut comes before a rank has opened it, "sees another file"): rank 0 reports it with the
// rank and host, every rank stops, DEST never appears and the temporary is removed.
TEST_F(E2eMpi, ARanksErrorNamesTheRankAndHostAndPublishesNothing) {
  MakeRandomFile(src_, 16 * kMiB, 2);
  MpiJob job(2, {"--bwlimit", "8M", "--strategy", "contiguous", src_, dst_});
  ASSERT_TRUE(WaitUntil("the temporary", [&] {
    for (const std::string& n : ListDir(dir_.path())) {
      if (n.rfind(".pcopy-", 0) == 0) return true;
    }
    return false;
  }));
  // Most often after the ranks have opened SOURCE and begun: 16 MiB at 2 x 8 MiB/s take 1 s.
  usleep(300 * 1000);
  ASSERT_EQ(truncate(src_.c_str(), static_cast<off_t>(kMiB)), 0);
  const RunResult r = job.Finish();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const bool named = r.err.rfind("pcopy-mpi: rank 0 on " + Host() + ": ", 0) == 0 ||
                     r.err.rfind("pcopy-mpi: rank 1 on " + Host() + ": ", 0) == 0;
  EXPECT_TRUE(named) << r.err;
  const std::string first = r.err.substr(0, r.err.find('\n'));
  const bool mid_copy = first.find(": read " + Quoted(src_) + " at offset ") != std::string::npos &&
                        first.find("unexpected end of file (the source changed during the copy)") !=
                            std::string::npos;
  const bool before = first.find(": cannot copy " + Quoted(src_) +
                                 ": this rank sees another file than rank 0") != std::string::npos;
  EXPECT_TRUE(mid_copy || before) << r.err;
  EXPECT_FALSE(Exists(dst_));
  ExpectNothingLeft();
}

// Ctrl-C to mpirun: it passes the signal on as SIGTERM; every rank stops and rank 0 removes the
// temporary. Rank 0 killed outright (SIGKILL): mpirun ends the job, DEST never appears, the
// temporary stays (no process is left to remove it), and the next run removes it and copies.
TEST_F(E2eMpi, InterruptedOrKilledJobsNeverPublish) {
  MakeRandomFile(src_, 24 * kMiB, 3);
  for (const bool kill_a_rank : {false, true}) {
    SCOPED_TRACE(kill_a_rank ? "a rank killed" : "SIGINT to mpirun");
    // 24 MiB at 3 x 2 MiB/s: four seconds, far longer than the wait for the temporary.
    MpiJob job(3, {"--bwlimit", "2M", src_, dst_});
    ASSERT_TRUE(WaitUntil("the ranks", [&] { return ChildrenOf(job.pid()).size() >= 3; }));
    ASSERT_TRUE(WaitUntil("the temporary", [&] {
      for (const std::string& n : ListDir(dir_.path())) {
        if (n.rfind(".pcopy-", 0) == 0) return true;
      }
      return false;
    }));
    if (kill_a_rank) {
      bool killed = false;
      for (pid_t rank : ChildrenOf(job.pid())) {
        if (RankOf(rank) == 0) killed = kill(rank, SIGKILL) == 0;
      }
      EXPECT_TRUE(killed) << "rank 0 was not found among mpirun's children";
    } else {
      kill(job.pid(), SIGINT);
    }
    const RunResult r = job.Finish();
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_FALSE(Exists(dst_));
    if (!kill_a_rank) ExpectNothingLeft();
  }
  const RunResult r = Mpi(2, {src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src_, dst_));
  ExpectNothingLeft();
}

}  // namespace
}  // namespace pcopy
