// e2e_mpi_util.h: what the pcopy-mpi tests share: an mpirun job started in the background (its
// ranks found, its output in files), the fixture that skips where MPI was not built and sets the
// environment Open MPI needs in a container, and the check that nothing was left behind.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {

std::string Host();
// mpirun and pcopy-mpi as the build found and made them ("" without MPI).
std::string MpiExec();
std::string MpiBinary();

// mpirun -np n pcopy-mpi args, started in the background in its own process group, its output
// in files. Given a host, mpirun and every rank run under that host name, in a UTS namespace of
// their own (root only): a job on another node.
class MpiJob {
 public:
  MpiJob(int n, const std::vector<std::string>& args, const std::string& host = "");
  ~MpiJob();
  MpiJob(const MpiJob&) = delete;
  MpiJob& operator=(const MpiJob&) = delete;
  pid_t pid() const { return pid_; }
  // SIGKILL to the rank, found among mpirun's children; false if it is not there.
  bool KillRank(int rank) const;
  // SIGKILL to one of the rank's -j workers; false if it has none.
  bool KillWorker(int rank) const;
  // The rank's -j workers (its children).
  size_t WorkersOf(int rank) const;
  // Waits for mpirun and reaps the ranks it left.
  RunResult Finish();

 private:
  TempDir io_;
  std::string out_path_ = io_ / "out";
  std::string err_path_ = io_ / "err";
  pid_t pid_ = -1;
  bool reaped_ = false;
};

class MpiTest : public testing::Test {
 protected:
  void SetUp() override;

  RunResult Mpi(int n, const std::vector<std::string>& args) { return MpiJob(n, args).Finish(); }

  // Nothing of pcopy's in the test's directory (no temporary, no partial copy, at any depth
  // under `under` if given), and no shared memory of its jobs' windows in /dev/shm.
  void ExpectNothingLeft(const std::string& under = "");

  // Waits until an entry of pcopy's (a temporary, a hidden tree) appears in the test's directory.
  bool WaitForTemporary();

  // The variables SetUp sets, and those a test sets (env_.Set), are put back after the test.
  ScopedEnv env_;
  // Open MPI's window segments already there (other jobs'), not this test's to answer for.
  std::set<std::string> shm_before_;
  TempDir dir_;
  std::string src_ = dir_ / "src";
  std::string dst_ = dir_ / "dst";
};

}  // namespace pcopy::test
