// e2e_mpi_tree_test.cc: pcopy-mpi copying trees under mpirun: rank 0 walks and publishes, every
// rank copies (mpi/mpi_tree.h). The tree appears whole and equal to SOURCE at every rank count,
// large files split across ranks included; a copy into an existing directory leaves no hidden
// temporary; an entry that cannot be copied is reported with its path and the rest is copied; a
// Ctrl-C to mpirun leaves no trace.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "e2e_mpi_util.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy {
namespace {

using namespace pcopy::test;

using E2eMpiTree = MpiTest;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The sample tree with a file large enough to be split into chunks (4 x --chunk-size and 16 MiB
// at least), a hard link, a FIFO and many small files in one directory (several batches).
void MakeTree(const std::string& root) {
  MakeSampleTree(root, 20 * kMiB + 5);
  ASSERT_EQ(link((root + "/a/small").c_str(), (root + "/a/b/hard").c_str()), 0);
  ASSERT_EQ(mkfifo((root + "/a/fifo").c_str(), 0600), 0);
  mkdir((root + "/many").c_str(), 0755);
  for (int i = 0; i < 300; ++i) {
    MakeRandomFile(root + "/many/f" + std::to_string(i), static_cast<uint64_t>(i * 37), i);
  }
}

TEST_F(E2eMpiTree, CopiesATreeWholeAtEveryRankCount) {
  MakeTree(src_);
  for (int ranks : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string dst = dst_ + std::to_string(ranks);
    const RunResult r = Mpi(ranks, {"-a", "-v", "--chunk-size", "1M", src_, dst});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(TreeDifferences(src_, dst, TreeCompare{true, true, true}),
              std::vector<std::string>{});
    struct stat a, b;
    ASSERT_EQ(stat((dst + "/a/small").c_str(), &a), 0);
    ASSERT_EQ(stat((dst + "/a/b/hard").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino) << "-a keeps hard links";
    EXPECT_TRUE(Contains(r.out, Quoted(src_ + "/many/f7") + " -> " + Quoted(dst + "/many/f7")));
    EXPECT_TRUE(Contains(r.out, "pcopy-mpi: copied ")) << r.out;
    EXPECT_TRUE(Contains(r.out, " and 7 directories (")) << r.out;
    EXPECT_TRUE(Contains(r.out, " with " + std::to_string(ranks) + " worker")) << r.out;
    ExpectNothingLeft(dst);
  }
}

// Into an existing directory (-T): each file appears through a hidden temporary, a large file's
// under a name every rank can open; none is left, and what was there is replaced.
TEST_F(E2eMpiTree, CopiesIntoAnExistingDirectoryThroughNamedTemporaries) {
  MakeTree(src_);
  mkdir(dst_.c_str(), 0755);
  mkdir((dst_ + "/a").c_str(), 0755);
  WriteFile(dst_ + "/a/large", "an older copy\n");
  WriteFile(dst_ + "/extra", "stays\n");
  const RunResult r = Mpi(3, {"-rT", "--chunk-size", "1M", src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src_ + "/a/large", dst_ + "/a/large"));
  EXPECT_TRUE(SameBytes(src_ + "/many/f299", dst_ + "/many/f299"));
  EXPECT_EQ(ReadFile(dst_ + "/extra"), "stays\n");
  ExpectNothingLeft(dst_);
}

// An entry in the way (a directory where SOURCE has a file) is reported, as cp reports it, by
// the rank that met it; every other entry is copied and the exit code is 1.
TEST_F(E2eMpiTree, AnEntryThatCannotBeCopiedIsReportedAndTheRestCopied) {
  MakeTree(src_);
  mkdir(dst_.c_str(), 0755);
  mkdir((dst_ + "/many").c_str(), 0755);
  mkdir((dst_ + "/many/f9").c_str(), 0755);
  mkdir((dst_ + "/many/f9/x").c_str(), 0755);
  const RunResult r = Mpi(3, {"-rT", src_, dst_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pcopy-mpi: cannot overwrite directory " + Quoted(dst_ + "/many/f9") +
                            " with non-directory\n",
                        0),
            0u)
      << r.err;
  EXPECT_TRUE(SameBytes(src_ + "/many/f8", dst_ + "/many/f8"));
  EXPECT_TRUE(SameBytes(src_ + "/a/large", dst_ + "/a/large"));
  ExpectNothingLeft(dst_);
}

// What pcopy-mpi does not do with trees is refused in one line, before anything is created.
TEST_F(E2eMpiTree, VerifyOfATreeIsRefused) {
  MakeSampleTree(src_);
  const RunResult r = Mpi(2, {"-r", "--verify", src_, dst_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pcopy-mpi: --verify and --print-digest copy one regular file; " +
                            Quoted(src_) + " is not one\n",
                        0),
            0u)
      << r.err;
  EXPECT_FALSE(Exists(dst_));
}

// Ctrl-C to mpirun (every rank gets SIGTERM): rank 0 stops the copy, every rank says goodbye
// before the hidden tree is removed, and nothing is left. A rank killed outright: mpirun ends the
// job, DEST never appears, and the next run removes the hidden tree the job left and copies.
TEST_F(E2eMpiTree, InterruptedOrKilledCopiesNeverPublish) {
  setenv("OMPI_MCA_odls_base_sigkill_timeout", "1", 1);
  MakeTree(src_);
  for (const bool kill_a_rank : {false, true}) {
    SCOPED_TRACE(kill_a_rank ? "rank 1 killed" : "SIGINT to mpirun");
    // 21 MiB at 3 x 4 MiB/s: nearly two seconds.
    MpiJob job(3, {"-a", "--bwlimit", "4M", "--chunk-size", "256K", src_, dst_});
    ASSERT_TRUE(WaitUntil("the ranks", [&] { return ChildrenOf(job.pid()).size() >= 3; }));
    ASSERT_TRUE(WaitForTemporary());
    usleep(300 * 1000);
    if (kill_a_rank) {
      EXPECT_TRUE(job.KillRank(1));
    } else {
      kill(job.pid(), SIGINT);
    }
    const RunResult r = job.Finish();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(Exists(dst_));
    if (!kill_a_rank) {
      EXPECT_TRUE(Contains(r.err, "pcopy-mpi: interrupted by SIGTERM; a new tree left no trace"))
          << r.err;
      ExpectNothingLeft();
    }
  }
  const RunResult r = Mpi(2, {"-a", src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(TreeDifferences(src_, dst_), std::vector<std::string>{});
  ExpectNothingLeft(dst_);
}

}  // namespace
}  // namespace pcopy
