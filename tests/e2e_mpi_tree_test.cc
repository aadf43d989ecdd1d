// e2e_mpi_tree_test.cc: pcopy-mpi copying trees under mpirun: rank 0 walks and publishes, every
// rank copies (mpi/mpi_tree.h). The tree appears whole and equal to SOURCE at every rank count,
// large files split across ranks included; a copy into an existing directory leaves no hidden
// temporary; an entry that cannot be copied is reported with its path and the rest is copied; a
// full file system, a Ctrl-C to mpirun and a rank killed outright leave no trace.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
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

// The "bytes" of each worker in a --progress json line.
std::vector<uint64_t> WorkerBytes(const std::string& line) {
  std::vector<uint64_t> bytes;
  const std::string key = "{\"bytes\":";
  for (size_t at = line.find("\"workers\":["); at != std::string::npos;) {
    at = line.find(key, at);
    if (at == std::string::npos) break;
    at += key.size();
    bytes.push_back(std::stoull(line.substr(at)));
  }
  return bytes;
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

// At every rank count, and with -j K (each rank's tasks on its K forked workers: worker w of the
// job is worker w % K of rank w / K), the tree is whole and equal, and every rank copied some.
TEST_F(E2eMpiTree, CopiesATreeWholeAtEveryRankCount) {
  MakeTree(src_);
  const struct {
    int ranks;
    int jobs;
    const char* with;
  } cases[] = {{1, 1, "1 rank"},
               {2, 1, "2 ranks"},
               {3, 1, "3 ranks"},
               {1, 2, "2 workers on 1 rank"},
               {2, 2, "4 workers on 2 ranks"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("with ") + c.with);
    const std::string dst = dst_ + std::to_string(c.ranks) + "x" + std::to_string(c.jobs);
    const RunResult r = Mpi(c.ranks, {"-a", "-v", "-j", std::to_string(c.jobs), "--progress",
                                      "json", "--chunk-size", "1M", src_, dst});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(TreeDifferences(src_, dst, TreeCompare{true, true, true}),
              std::vector<std::string>{});
    struct stat a, b;
    ASSERT_EQ(stat((dst + "/a/small").c_str(), &a), 0);
    ASSERT_EQ(stat((dst + "/a/b/hard").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino) << "-a keeps hard links";
    EXPECT_TRUE(Contains(r.out, Quoted(src_ + "/many/f7") + " -> " + Quoted(dst + "/many/f7")));
    EXPECT_TRUE(Contains(r.err, "pcopy-mpi: copied ")) << r.err;
    EXPECT_TRUE(Contains(r.err, " and 7 directories (")) << r.err;
    EXPECT_TRUE(Contains(r.err, std::string(" with ") + c.with + "\n")) << r.err;
    // Every rank copied some of it: the last progress line's bytes of each worker.
    const std::string err = r.err;
    const size_t last_json = err.rfind("\n{");  // -v's summary follows the progress lines
    ASSERT_NE(last_json, std::string::npos) << err;
    const std::vector<uint64_t> bytes = WorkerBytes(err.substr(last_json + 1));
    const auto jobs = static_cast<size_t>(c.jobs);
    ASSERT_EQ(bytes.size(), static_cast<size_t>(c.ranks) * jobs) << r.err;
    for (size_t k = 0; k < static_cast<size_t>(c.ranks); ++k) {
      uint64_t rank_bytes = 0;
      for (size_t w = k * jobs; w < (k + 1) * jobs; ++w) rank_bytes += bytes[w];
      EXPECT_GT(rank_bytes, 0u) << "rank " << k;
    }
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

// A full file system met by whichever rank writes the byte that does not fit: the copy stops
// with that rank's one-line error naming the file and the offset, and nothing is left on it.
TEST_F(E2eMpiTree, AFullFileSystemStopsTheCopyAndLeavesNothing) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const std::string small = dir_ / "small";
  ASSERT_EQ(mkdir(small.c_str(), 0755), 0);
  TmpfsMount mount(small, "size=8m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  mkdir(src_.c_str(), 0755);
  MakeRandomFile(src_ + "/big1", 6 * kMiB, 1);
  MakeRandomFile(src_ + "/big2", 6 * kMiB, 2);
  for (int i = 0; i < 40; ++i) MakeRandomFile(src_ + "/f" + std::to_string(i), 20000, i);
  const RunResult r = Mpi(3, {"-r", "--chunk-size", "1M", src_, small + "/dst"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pcopy-mpi: ", 0), 0u) << r.err;
  const std::string first = r.err.substr(0, r.err.find('\n'));
  EXPECT_TRUE(Contains(first, "'" + small + "/dst/") &&
              Contains(first, ": No space left on device"))
      << r.err;
  EXPECT_EQ(ListDir(small), std::vector<std::string>{});
  ExpectNothingLeft();
}

// A rank that does not see DEST's file system as rank 0 does (here rank 1, in its own mount
// namespace, has an empty tmpfs over DEST's directory, as a node-local /scratch would be): the
// copy is refused at the start, naming the rank and host, before anything is written.
TEST_F(E2eMpiTree, ARankThatDoesNotShareDestsFileSystemStopsTheStart) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to give one rank its own mount";
  MakeSampleTree(src_);
  const std::string out = dir_ / "out";
  ASSERT_EQ(mkdir(out.c_str(), 0755), 0);
  const std::string rank1 = "mount -t tmpfs none '" + out + "' && exec '" + MpiBinary() + "' -r '" +
                            src_ + "' '" + out + "/'";
  const RunResult r =
      RunCommand({MpiExec(), "--allow-run-as-root", "--oversubscribe", "-np", "1", MpiBinary(),
                  "-r", src_, out + "/", ":", "-np", "1", "unshare", "-m", "sh", "-c", rank1});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pcopy-mpi: rank 1 on " + Host() + ": cannot read '" + out + "/.pcopy-", 0),
            0u)
      << r.err;
  EXPECT_TRUE(Contains(r.err, "DEST is not on a file system this rank shares with rank 0\n"))
      << r.err;
  EXPECT_EQ(ListDir(out), std::vector<std::string>{});
  ExpectNothingLeft();
}

// A rank on another host than rank 0's (here rank 1 in its own UTS namespace, under another host
// name; root only) reopens what rank 0 hands it by path and inode alone (an NFS client numbers
// devices its own way), and with --fsync syncs each chunk it wrote before it answers.
TEST_F(E2eMpiTree, ARankOnAnotherHostCopiesItsShare) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to give one rank another host name";
  MakeTree(src_);
  const std::string rank1 = "hostname pcopy-other-host && exec '" + MpiBinary() +
                            "' -a --fsync --chunk-size 1M --progress json '" + src_ + "' '" + dst_ +
                            "'";
  const RunResult r = MpiJob(1, {"-a", "--fsync", "--chunk-size", "1M", "--progress", "json", src_,
                                 dst_, ":", "-np", "1", "unshare", "-u", "sh", "-c", rank1})
                          .Finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(TreeDifferences(src_, dst_, TreeCompare{true, true, true}), std::vector<std::string>{});
  const std::vector<uint64_t> bytes = WorkerBytes(LastLine(r.err));
  ASSERT_EQ(bytes.size(), 2u) << r.err;
  EXPECT_GT(bytes[1], 0u) << "rank 1 copied some of it";
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

// --resume across ranks: an interrupted copy keeps its partial tree (small files published in it,
// a large file's chunks in its journal once durable on the rank that wrote them), and the same
// command copies only the rest, with -j workers or without.
TEST_F(E2eMpiTree, AnInterruptedCopyResumesAcrossRanks) {
  env_.Set("OMPI_MCA_odls_base_sigkill_timeout", "1");
  MakeTree(src_);
  for (const char* jobs : {"1", "2"}) {
    SCOPED_TRACE(std::string("-j ") + jobs);
    const std::vector<std::string> args = {"-a",           "--resume", "-j", jobs,
                                           "--chunk-size", "256K",     src_, dst_};
    std::vector<std::string> slow = args;
    slow.insert(slow.begin(), {"--bwlimit", "4M"});
    MpiJob job(2, slow);  // 21 MiB at 2 x 4 MiB/s: over two seconds
    ASSERT_TRUE(WaitUntil("the ranks", [&] { return ChildrenOf(job.pid()).size() >= 2; }));
    ASSERT_TRUE(WaitForTemporary());
    usleep(1000 * 1000);
    kill(job.pid(), SIGINT);
    RunResult r = job.Finish();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(Exists(dst_));
    EXPECT_TRUE(Contains(r.err, "pcopy-mpi: kept the partial tree of " + Quoted(dst_) +
                                    ": the same command resumes"))
        << r.err;
    std::vector<std::string> verbose = args;
    verbose.insert(verbose.begin(), "-v");
    r = Mpi(2, verbose);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(Contains(r.err, "from the partial tree an earlier run kept")) << r.err;
    EXPECT_TRUE(Contains(r.err, "pcopy-mpi: resumed: ")) << r.err;
    EXPECT_EQ(TreeDifferences(src_, dst_, TreeCompare{true, true, true}),
              std::vector<std::string>{});
    ExpectNothingLeft(dst_);
    ASSERT_EQ(system(("rm -rf '" + dst_ + "'").c_str()), 0);
  }
}

// Ctrl-C to mpirun (every rank gets SIGTERM): rank 0 stops the copy, every rank says goodbye
// (its -j workers ended) before the hidden tree is removed, and nothing is left. A rank's -j
// worker killed outright fails that rank's copy, reported with its rank and host, and rank 0
// removes the hidden tree. A rank killed outright: mpirun ends the job, DEST never appears, and
// the next run removes the hidden tree the job left and copies.
TEST_F(E2eMpiTree, InterruptedOrKilledCopiesNeverPublish) {
  env_.Set("OMPI_MCA_odls_base_sigkill_timeout", "1");
  MakeTree(src_);
  enum class Blow { kSigint, kKillWorker, kKillRank };
  const struct {
    const char* what;
    int ranks;
    const char* jobs;
    Blow blow;
  } cases[] = {{"SIGINT to mpirun", 3, "1", Blow::kSigint},
               {"SIGINT to mpirun, -j 2", 2, "2", Blow::kSigint},
               {"a worker of rank 1 killed", 2, "2", Blow::kKillWorker},
               {"rank 1 killed", 3, "1", Blow::kKillRank}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    // 21 MiB at 2 or 3 x 4 MiB/s: about two seconds.
    MpiJob job(c.ranks,
               {"-a", "-j", c.jobs, "--bwlimit", "4M", "--chunk-size", "256K", src_, dst_});
    ASSERT_TRUE(WaitUntil("the ranks", [&] {
      return ChildrenOf(job.pid()).size() >= static_cast<size_t>(c.ranks) &&
             (c.blow != Blow::kKillWorker || job.WorkersOf(1) == 2);
    }));
    ASSERT_TRUE(WaitForTemporary());
    usleep(300 * 1000);
    if (c.blow == Blow::kKillRank) {
      EXPECT_TRUE(job.KillRank(1));
    } else if (c.blow == Blow::kKillWorker) {
      EXPECT_TRUE(job.KillWorker(1));
    } else {
      kill(job.pid(), SIGINT);
    }
    const RunResult r = job.Finish();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(Exists(dst_));
    if (c.blow == Blow::kKillRank) continue;  // the hidden tree stays, for the next run
    EXPECT_TRUE(
        Contains(r.err, c.blow == Blow::kKillWorker
                            ? "pcopy-mpi: rank 1 on " + Host() + ": worker "
                            : "pcopy-mpi: interrupted by SIGTERM; a new tree left no trace"))
        << r.err;
    ExpectNothingLeft();
  }
  const RunResult r = Mpi(2, {"-a", src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(TreeDifferences(src_, dst_), std::vector<std::string>{});
  ExpectNothingLeft(dst_);
}

}  // namespace
}  // namespace pcopy
