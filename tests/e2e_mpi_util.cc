#include "e2e_mpi_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "tree_test_util.h"

namespace pcopy::test {
namespace {

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

}  // namespace

std::string MpiExec() { return kMpiExec; }
std::string MpiBinary() { return kMpiBinary; }

std::string Host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

MpiJob::MpiJob(int n, const std::vector<std::string>& args, const std::string& host) {
  std::vector<std::string> argv;
  if (!host.empty()) argv = {"unshare", "-u", "sh", "-c", "hostname \"$0\" && exec \"$@\"", host};
  argv.insert(argv.end(), {kMpiExec, "--allow-run-as-root", "--oversubscribe", "-np",
                           std::to_string(n), kMpiBinary});
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

bool MpiJob::KillRank(int rank) const {
  for (pid_t child : ChildrenOf(pid_)) {
    if (RankOf(child) == rank) return kill(child, SIGKILL) == 0;
  }
  return false;
}

size_t MpiJob::WorkersOf(int rank) const {
  for (pid_t child : ChildrenOf(pid_)) {
    if (RankOf(child) == rank) return ChildrenOf(child).size();
  }
  return 0;
}

bool MpiJob::KillWorker(int rank) const {
  for (pid_t child : ChildrenOf(pid_)) {
    if (RankOf(child) != rank) continue;
    const std::vector<pid_t> workers = ChildrenOf(child);
    return !workers.empty() && kill(workers.back(), SIGKILL) == 0;
  }
  return false;
}

MpiJob::~MpiJob() {
  if (pid_ > 0 && !reaped_) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

RunResult MpiJob::Finish() {
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

void MpiTest::SetUp() {
  if (std::string(kMpiExec).empty()) {
    GTEST_SKIP() << "MPI was not found when pcopy was built: pcopy-mpi and its tests are "
                    "left out (scripts/install-deps.sh installs Open MPI)";
  }
  const std::vector<std::string> names = ListDir("/dev/shm");
  shm_before_ = std::set<std::string>(names.begin(), names.end());
  // Containers lack the kernel's cross-memory attach that Open MPI's shared-memory transport
  // uses by default; the sanitizers' leak report would name Open MPI's own allocations.
  env_.Set("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
  env_.Set("ASAN_OPTIONS", "detect_leaks=0");
  env_.Set("OMPI_MCA_orte_tmpdir_base", "/dev/shm");
  // A job whose ranks exit non-zero ends at once instead of after mpirun's grace of 1 s
  // between its SIGTERM and SIGKILL to ranks that have already exited: 2 s of each failing
  // job. The signal tests restore the grace, which is what lets rank 0 clean up.
  env_.Set("OMPI_MCA_odls_base_sigkill_timeout", "0");
}

void MpiTest::ExpectNothingLeft(const std::string& under) {
  for (const std::string& name : ListDir(dir_.path())) {
    EXPECT_NE(name.rfind(".pcopy", 0), 0u) << "left behind: " << name;
  }
  if (!under.empty()) {
    for (const std::string& rel : TreeListing(under)) {
      EXPECT_EQ(rel.find(".pcopy"), std::string::npos) << "left behind: " << rel;
    }
  }
  for (const std::string& name : ListDir("/dev/shm")) {
    EXPECT_EQ(name.rfind("osc_sm.", 0) == 0 && shm_before_.count(name) == 0, false)
        << "left in /dev/shm: " << name;
  }
}

bool MpiTest::WaitForTemporary() {
  return WaitUntil("the temporary", [&] {
    for (const std::string& n : ListDir(dir_.path())) {
      if (n.rfind(".pcopy-", 0) == 0) return true;
    }
    return false;
  });
}

}  // namespace pcopy::test
