// e2e_mpi_test.cc: pcopy-mpi copying one file under mpirun on this machine (`mpirun
// --oversubscribe -np N`, N = 1, 2, 3, 5), as a user of a cluster runs it: byte-exact copies of odd
// sizes with every strategy, errors reported by rank 0 with the failing rank and its host, and the
// failures a job meets (a SIGINT to mpirun, a rank killed outright) never publishing DEST nor
// leaving a temporary that the next run does not remove. Skipped where MPI was not found at build
// time.
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
#include "e2e_mpi_util.h"
#include "os/leftovers.h"
#include "test_util.h"

namespace pcopy {
namespace {

using namespace pcopy::test;

using E2eMpi = MpiTest;

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
    // cp -v's line alone on stdout; -v's diagnostics on stderr.
    EXPECT_EQ(r.out, Quoted(src_) + " -> " + Quoted(dst_) + "\n");
    EXPECT_EQ(r.err.rfind("pcopy-mpi: method auto: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.err.find("pcopy-mpi: copied ") != std::string::npos) << r.err;
    EXPECT_TRUE(r.err.find(" with " + std::to_string(c.ranks) + " rank") != std::string::npos)
        << r.err;
    ExpectNothingLeft();
  }
}

// --verify and --print-digest: every rank checks its share of the leaves, and the digest rank 0
// prints is pcopy's own (`pcopy --checksum DEST`), whatever the number of ranks, including ranks
// with no leaf to check and an empty file.
TEST_F(E2eMpi, VerifiedCopiesPrintPcopysDigestAtEveryRankCount) {
  const struct {
    int ranks;
    uint64_t size;
    bool verify;
  } cases[] = {{1, 3 * kMiB + 5, true},
               {3, 5 * kMiB + 1, true},
               {5, 2 * kMiB, true},
               {2, 0, true},
               {3, 4 * kMiB + 9, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.ranks) + " ranks, " + std::to_string(c.size) + " bytes" +
                 (c.verify ? ", --verify" : ""));
    MakeRandomFile(src_, c.size, c.size + 7);
    unlink(dst_.c_str());
    std::vector<std::string> args = {"--print-digest", "-v", src_, dst_};
    if (c.verify) args.insert(args.begin(), "--verify");
    const RunResult r = Mpi(c.ranks, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(SameBytes(src_, dst_));
    const RunResult sum = RunPcopy({"--checksum", dst_});
    ASSERT_EQ(sum.exit_code, 0) << sum.err;
    EXPECT_TRUE(r.out.find(sum.out) != std::string::npos) << r.out << "pcopy: " << sum.out;
    const std::string verified = "pcopy-mpi: verified against " + Quoted(src_) +
                                 ": XXH3-128 by 1 MiB, DEST read back from storage by " +
                                 std::to_string(c.ranks) + " rank";
    EXPECT_EQ(r.err.find(verified) != std::string::npos, c.verify) << r.err;
    ExpectNothingLeft();
  }
}

// -j K: each rank's units go to its K forked workers (started before MPI_Init) as chunk tasks:
// every strategy at several rank counts, the digest --verify checks equal to pcopy's, and no
// worker left once the job ends (Finish waits for every process of the job).
TEST_F(E2eMpi, WorkersOnEachRankCopyEveryStrategy) {
  const struct {
    int ranks;
    const char* strategy;
    uint64_t size;
  } cases[] = {{1, "contiguous", 5 * kMiB + 3},
               {2, "dynamic", 7 * kMiB + 1},
               {3, "interleaved", 6 * kMiB + 7},
               {2, "guided", 9 * kMiB + 11}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.strategy) + ", " + std::to_string(c.ranks) + " ranks");
    MakeRandomFile(src_, c.size, c.size + 3);
    unlink(dst_.c_str());
    const RunResult r = Mpi(c.ranks, {"-j", "2", "--strategy", c.strategy, "--chunk-size", "256K",
                                      "-v", "--verify", "--print-digest", src_, dst_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(SameBytes(src_, dst_));
    const RunResult sum = RunPcopy({"--checksum", dst_});
    EXPECT_TRUE(r.out.find(sum.out) != std::string::npos) << r.out << "pcopy: " << sum.out;
    const std::string workers = " with " + std::to_string(2 * c.ranks) + " workers on " +
                                std::to_string(c.ranks) + (c.ranks == 1 ? " rank\n" : " ranks\n");
    EXPECT_TRUE(r.err.find(workers) != std::string::npos) << r.err;
    ExpectNothingLeft();
  }
}

// A rank's worker killed outright: the rank reports it (with its rank and host), every rank
// stops, and nothing is published or left.
TEST_F(E2eMpi, AWorkerKilledStopsTheJobAndPublishesNothing) {
  MakeRandomFile(src_, 24 * kMiB, 5);
  // 24 MiB at 2 x 8 MiB/s: a second and a half.
  MpiJob job(2, {"-j", "2", "--bwlimit", "8M", "--chunk-size", "256K", src_, dst_});
  ASSERT_TRUE(WaitUntil("rank 1's workers", [&] { return job.WorkersOf(1) == 2; }));
  ASSERT_TRUE(WaitForTemporary());
  usleep(200 * 1000);
  EXPECT_TRUE(job.KillWorker(1));
  const RunResult r = job.Finish();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("pcopy-mpi: rank 1 on " + Host() + ": worker ", 0), 0u) << r.err;
  EXPECT_TRUE(r.err.find("was killed by signal 9 (Killed) while copying " + Quoted(src_)) !=
              std::string::npos)
      << r.err;
  EXPECT_FALSE(Exists(dst_));
  ExpectNothingLeft();
}

// --checksum FILE...: the lines pcopy prints, large files digested by every rank's share, small
// ones and failures by rank 0 as pcopy does; a file that cannot be read is reported between the
// lines and the exit code is 1.
TEST_F(E2eMpi, ChecksumPrintsPcopysLinesWithEveryRankReading) {
  MakeRandomFile(src_, 5 * kMiB + 3, 8);
  MakeRandomFile(dst_, 100, 9);
  const std::string empty = dir_ / "empty", missing = dir_ / "missing";
  WriteFile(empty, "");
  const std::vector<std::string> files = {src_, missing, dst_, empty};
  std::vector<std::string> args = {"--checksum"};
  args.insert(args.end(), files.begin(), files.end());
  const RunResult alone = RunPcopy(args);
  EXPECT_EQ(alone.exit_code, 1);
  for (int ranks : {1, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const RunResult r = Mpi(ranks, args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, alone.out);
    EXPECT_EQ(r.err.rfind("pcopy-mpi: cannot open " + Quoted(missing) +
                              " for reading: No such file or directory\n",
                          0),
              0u)
        << r.err;
  }
  args.erase(args.begin() + 2);  // every file readable: exit 0
  const RunResult r = Mpi(2, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, RunPcopy(args).out);
}

// pcopy-mpi started without mpirun (a singleton) writes to stdout itself: as pcopy, its digest
// lines go through a stream whose waits for a reader take signals, so a SIGTERM ends it (143)
// while nobody reads the FIFO it writes to, and a reader that goes away stops it.
TEST_F(E2eMpi, ASingletonTakesASignalOrItsReadersGoingAway) {
  MakeRandomFile(src_, 100, 3);
  std::string names;
  for (int i = 0; i < 3000; ++i) names += " \"$2\"";  // 3000 lines: more than a pipe holds
  // Its first line read: MPI is started and the lines are being written; the pipe fills again.
  const RunResult r = RunCommand(
      {"sh", "-c",
       "mkfifo \"$1\" && exec 3<>\"$1\" && { \"$0\" --checksum" + names +
           " >&3 & p=$!; read -r line <&3; sleep 0.5; kill -TERM $p; wait $p; echo \"exit $?\"; }",
       MpiBinary(), dir_ / "fifo", src_},
      60000);
  EXPECT_EQ(r.out, "exit 143\n") << r.err;
  EXPECT_EQ(r.err, "pcopy-mpi: interrupted by SIGTERM; the remaining files were not digested\n");
  // A reader that goes away stops the digests quietly (141): the missing file is never reached.
  const RunResult gone = RunCommand(
      {"sh", "-c",
       "{ \"$0\" --checksum" + names + " \"$1\"; echo \"exit $?\" >&2; } | head -n 1 >/dev/null",
       MpiBinary(), dir_ / "missing", src_},
      60000);
  EXPECT_EQ(gone.err, "exit 141\n");
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
  r = Mpi(2, {"--check", src_});
  EXPECT_EQ(r.exit_code, 2);
  // '-' is pcopy's (standard input or output): refused, and no file named '-' is made.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{src_, "-"}, {"-", dst_}}) {
    r = Mpi(2, args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_TRUE(r.err.rfind("pcopy-mpi: '-' (standard input or output) is pcopy's", 0) == 0)
        << r.err;
  }
  EXPECT_FALSE(Exists("-"));
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
  EXPECT_TRUE(r.err.find("pcopy-mpi: not replacing " + Quoted(dst_)) != std::string::npos) << r.err;
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
  ASSERT_TRUE(WaitForTemporary());
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

// --resume across ranks: a Ctrl-C keeps the partial copy with what every rank made durable, and
// the same command, at another rank count or with -j workers, copies only the rest. A rank killed
// outright: the next run resumes what the journal holds, or starts afresh, and finishes.
TEST_F(E2eMpi, AnInterruptedCopyResumesAtAnyRankCount) {
  env_.Set("OMPI_MCA_odls_base_sigkill_timeout", "1");
  MakeRandomFile(src_, 24 * kMiB, 6);
  const struct {
    const char* what;
    int ranks;
    const char* jobs;
    const char* strategy;
    int rerun_ranks;
    bool kill_rank;
  } cases[] = {{"SIGINT at 2 ranks, contiguous, rerun at 3", 2, "1", "contiguous", 3, false},
               {"SIGINT at 2 ranks of 2 workers, rerun at 1", 2, "2", "dynamic", 1, false},
               {"rank 1 killed", 2, "1", "guided", 2, true}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    // 24 MiB at 2 x 4 MiB/s: three seconds.
    MpiJob job(c.ranks, {"--resume", "-j", c.jobs, "--strategy", c.strategy, "--bwlimit", "4M",
                         "--chunk-size", "1M", src_, dst_});
    ASSERT_TRUE(WaitUntil("the ranks", [&] { return ChildrenOf(job.pid()).size() >= 2; }));
    ASSERT_TRUE(WaitForTemporary());
    usleep(1200 * 1000);
    if (c.kill_rank) {
      EXPECT_TRUE(job.KillRank(1));
    } else {
      kill(job.pid(), SIGINT);
    }
    RunResult r = job.Finish();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(Exists(dst_));
    if (!c.kill_rank) {
      EXPECT_NE(r.err.find("pcopy-mpi: kept "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(" durable for " + Quoted(dst_) + ": the same command resumes"),
                std::string::npos)
          << r.err;
    }
    r = Mpi(c.rerun_ranks, {"--resume", "-v", src_, dst_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(SameBytes(src_, dst_));
    if (!c.kill_rank) {
      EXPECT_NE(r.err.find("pcopy-mpi: resuming " + Quoted(src_) + " -> " + Quoted(dst_) + ": "),
                std::string::npos)
          << r.err;
      EXPECT_NE(r.err.find(" resumed) in "), std::string::npos) << r.err;
    }
    ExpectNothingLeft();
    unlink(dst_.c_str());
  }
}

// A rank on another host than rank 0's (here rank 1 in its own UTS namespace, under another host
// name; root only) makes the units it copied durable itself before it marks them (rank 0's sync
// covers only its own host's page cache): an interrupted copy keeps them, and the next run, with
// rank 1 on the other host again, resumes and finishes.
TEST_F(E2eMpi, ARankOnAnotherHostResumesItsOwnDurableUnits) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to give one rank another host name";
  env_.Set("OMPI_MCA_odls_base_sigkill_timeout", "1");
  MakeRandomFile(src_, 24 * kMiB, 7);
  const auto job_args = [&](const std::vector<std::string>& options) {
    std::string rank1 = "hostname pcopy-other-host && exec '" + MpiBinary() + "'";
    for (const std::string& o : options) rank1 += " '" + o + "'";
    rank1 += " '" + src_ + "' '" + dst_ + "'";
    std::vector<std::string> args = options;
    args.insert(args.end(), {src_, dst_, ":", "-np", "1", "unshare", "-u", "sh", "-c", rank1});
    return args;
  };
  MpiJob job(1, job_args({"--resume", "--bwlimit", "4M", "--chunk-size", "1M"}));
  ASSERT_TRUE(WaitUntil("the ranks", [&] { return ChildrenOf(job.pid()).size() >= 2; }));
  ASSERT_TRUE(WaitForTemporary());
  usleep(1500 * 1000);
  kill(job.pid(), SIGINT);
  RunResult r = job.Finish();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("pcopy-mpi: kept "), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(dst_));
  r = MpiJob(1, job_args({"--resume", "-v"})).Finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(" resumed) in "), std::string::npos) << r.err;
  EXPECT_TRUE(SameBytes(src_, dst_));
  ExpectNothingLeft();
}

// Ctrl-C to mpirun: it passes the signal on as SIGTERM; every rank stops and rank 0 removes the
// temporary. Rank 0 killed outright (SIGKILL): mpirun ends the job, DEST never appears, the
// temporary stays (no process is left to remove it), and the next run removes it and copies.
TEST_F(E2eMpi, InterruptedOrKilledJobsNeverPublish) {
  env_.Set("OMPI_MCA_odls_base_sigkill_timeout", "1");
  MakeRandomFile(src_, 24 * kMiB, 3);
  for (const bool kill_a_rank : {false, true}) {
    SCOPED_TRACE(kill_a_rank ? "a rank killed" : "SIGINT to mpirun");
    // 24 MiB at 3 x 2 MiB/s: four seconds, far longer than the wait for the temporary.
    MpiJob job(3, {"--bwlimit", "2M", src_, dst_});
    ASSERT_TRUE(WaitUntil("the ranks", [&] { return ChildrenOf(job.pid()).size() >= 3; }));
    ASSERT_TRUE(WaitForTemporary());
    if (kill_a_rank) {
      EXPECT_TRUE(job.KillRank(0));
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

// A job killed outright leaves its temporary, named for rank 0's host. The next run from another
// node (here mpirun and its ranks under another host name; root only) cannot ask whether that
// pid lives: it leaves the temporary while it is young and removes it once it has been idle
// (ctime) for PCOPY_IDLE_LIFETIME, an hour unless set, its lock free (leftovers.h).
TEST_F(E2eMpi, AnotherNodesRunRemovesADeadJobsTemporaryOnceIdle) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to run the next job under another host name";
  env_.Set("OMPI_MCA_odls_base_sigkill_timeout", "1");
  MakeRandomFile(src_, 24 * kMiB, 5);
  {
    MpiJob job(2, {"--bwlimit", "2M", src_, dst_});
    ASSERT_TRUE(WaitUntil("the ranks", [&] { return ChildrenOf(job.pid()).size() >= 2; }));
    ASSERT_TRUE(WaitForTemporary());
    EXPECT_TRUE(job.KillRank(0));
    EXPECT_NE(job.Finish().exit_code, 0);
  }
  std::vector<std::string> left;
  for (const std::string& n : ListDir(dir_.path())) {
    if (n.rfind(".pcopy-", 0) == 0) left.push_back(n);
  }
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].rfind(".pcopy-" + HostForNames() + "-", 0), 0u) << left[0];
  const std::string other = "pcopy-other-node";
  constexpr int kLifetime = 8;  // seconds: far longer than the kill and the next job's start
  env_.Set("PCOPY_IDLE_LIFETIME", std::to_string(kLifetime));
  RunResult r = MpiJob(2, {"-v", src_, dst_}, other).Finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src_, dst_));
  EXPECT_TRUE(Exists(dir_ / left[0])) << "removed while young";
  EXPECT_EQ(r.err.find("removed"), std::string::npos) << r.err;

  struct stat st;
  ASSERT_EQ(lstat((dir_ / left[0]).c_str(), &st), 0);
  while (time(nullptr) - st.st_ctime <= kLifetime) usleep(100 * 1000);
  r = MpiJob(2, {"-v", src_, dst_}, other).Finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pcopy-mpi: removed '" + left[0] + "', left by a pcopy that no longer runs"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(SameBytes(src_, dst_));
  ExpectNothingLeft();
}

}  // namespace
}  // namespace pcopy
