// e2e_resume_tree_test.cc: trees copied with --resume through the real pcopy binary, interrupted
// and resumed. An interrupted run keeps its hidden tree (".pcopy-partial-<hex>.tree" beside DEST)
// and the journal of each large file in flight; the same command skips the files already there
// (size and mtime with -a, bytes without), resumes the large file from its journal, removes what
// SOURCE no longer has, and publishes a tree equal to SOURCE with nothing left beside it.
//
// Each copy is slowed with --bwlimit so that it is still running when it is interrupted: the
// sample tree's small files take a fraction of a second, its 48 MiB file about 2 s at 24 MB/s.
// The test waits for the large file's journal and then for one checkpoint interval and a half,
// the only way to know from outside that a record has landed without taking the journal's lock.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "e2e_resume_util.h"
#include "exec/checkpoint.h"
#include "exec/resume_journal.h"
#include "os/temp_file.h"
#include "tree_test_util.h"

namespace pcopy {
namespace {

using namespace pcopy::test;

constexpr uint64_t kLarge = 48 * kMiB;

class E2eResumeTree : public E2eResume {
 protected:
  void SetUp() override {
    E2eResume::SetUp();
    MakeSampleTree(src_, kLarge);
    large_ = FindLarge();
  }

  // The sample tree's large file, relative to its root.
  std::string FindLarge() const {
    for (const std::string& p : TreeListing(src_)) {
      struct stat st {};
      if (lstat((src_ + "/" + p).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          static_cast<uint64_t>(st.st_size) == kLarge) {
        return p;
      }
    }
    ADD_FAILURE() << "the sample tree has no large file";
    return "";
  }

  std::vector<std::string> Args(const std::vector<std::string>& extra, bool slow) const {
    std::vector<std::string> args = {"--resume", "-j", "2"};
    if (slow) args.insert(args.end(), {"--bwlimit", "24M"});
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {src_, dst_});
    return args;
  }

  std::string Kept() const { return dir_ / PartialNamesFor("dst").tree; }
  std::string LargeJournal() const {
    const std::string parent = Kept() + "/" + DirName(large_);
    return parent + "/" + PartialNamesFor(BaseName(large_)).journal;
  }

  // The blocks the large file's journal records now, read from a copy of it (the run holds the
  // journal's lock, which Open takes); 0 when it records none, or cannot be read yet.
  uint64_t RecordedBlocks() const {
    struct stat st {};
    if (stat((src_ + "/" + large_).c_str(), &st) != 0 || !Exists(LargeJournal())) return 0;
    const std::string copy = dir_ / "journal-probe";
    WriteFile(copy, ReadFile(LargeJournal()));
    uint64_t ones = 0;
    {
      ResumeJournal journal;
      ResumeJournal::Trouble trouble;
      FileIdentity partial;
      BlockBitmap durable;
      if (ResumeJournal::Open(copy, large_, &journal, &trouble).ok() &&
          journal.Load(KeyOf(st, BaseName(large_), kAutoLayout), &partial, &durable) ==
              JournalVerdict::kTrusted) {
        ones = durable.Ones();
      }
    }
    unlink(copy.c_str());
    return ones;
  }

  // With -a: every regular file but the large one is complete in the kept tree (its size and
  // mtime are SOURCE's; the mtime is set last).
  bool SmallFilesDone() const {
    for (const std::string& p : TreeListing(src_)) {
      struct stat a {
      }, b{};
      if (lstat((src_ + "/" + p).c_str(), &a) != 0 || !S_ISREG(a.st_mode) || p == large_) continue;
      if (lstat((Kept() + "/" + p).c_str(), &b) != 0 || b.st_size != a.st_size ||
          b.st_mtim.tv_sec != a.st_mtim.tv_sec || b.st_mtim.tv_nsec != a.st_mtim.tv_nsec) {
        return false;
      }
    }
    return true;
  }

  // Starts the copy, waits until the large file's journal holds a record (and, if asked, the
  // small files are done), and sends sig.
  RunResult Interrupted(const std::vector<std::string>& extra, int sig, bool small_done = false) {
    PcopyProcess p(Args(extra, true));
    EXPECT_TRUE(p.WaitForWorkers());
    EXPECT_TRUE(WaitUntil("the large file's journal", [&] { return Exists(LargeJournal()); }));
    // A fixed wait alone saw no block recorded on a loaded machine.
    EXPECT_TRUE(WaitUntil("a block recorded in the large file's journal", [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return RecordedBlocks() > 0;
    }));
    if (small_done) {
      EXPECT_TRUE(WaitUntil("the small files", [&] { return SmallFilesDone(); }));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(1.5 * kCheckpointInterval));
    EXPECT_TRUE(p.Running()) << "the copy ended before it could be interrupted";
    kill(p.pid(), sig);
    RunResult r = FinishWithin(p);
    if (sig == SIGKILL) {
      EXPECT_TRUE(WaitForOrphans());
    }
    return r;
  }

  // The large file's journal, read as the rerun reads it: trusted, and each block it records
  // holds SOURCE's bytes in the kept copy. Returns the durable bytes; *recorded, the record.
  uint64_t ExpectLargeRecordHolds(BlockBitmap* recorded = nullptr) {
    struct stat st {};
    EXPECT_EQ(stat((src_ + "/" + large_).c_str(), &st), 0);
    ResumeJournal journal;
    ResumeJournal::Trouble trouble;
    Status s = ResumeJournal::Open(LargeJournal(), large_, &journal, &trouble);
    EXPECT_TRUE(s.ok()) << s.ToString();
    FileIdentity partial;
    BlockBitmap durable;
    const JournalKey key = KeyOf(st, BaseName(large_), kAutoLayout);
    EXPECT_EQ(journal.Load(key, &partial, &durable), JournalVerdict::kTrusted);
    const std::string kept = ReadFile(Kept() + "/" + large_);
    const std::string want = ReadFile(src_ + "/" + large_);
    uint64_t bytes = 0;
    for (uint64_t b = 0; b < durable.count(); ++b) {
      if (!durable.Test(b)) continue;
      const ByteRange r = key.grid.Block(b);
      bytes += r.length;
      EXPECT_EQ(kept.compare(r.offset, r.length, want, r.offset, r.length), 0)
          << "block " << b << " is recorded durable but does not hold SOURCE's bytes";
    }
    EXPECT_GT(bytes, 0u) << "no block of the large file was recorded";
    if (recorded != nullptr) *recorded = durable;
    return bytes;
  }

  void ExpectKeptNote(const RunResult& r, int exit_code) {
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_TRUE(Contains(r.err, "pcopy: kept the partial tree of " + Quoted(dst_) +
                                    ": the same command resumes, --discard-partial removes\n"))
        << r.err;
    EXPECT_FALSE(Exists(dst_)) << "an interrupted new tree appeared under DEST's name";
    EXPECT_TRUE(Exists(Kept()));
  }

  // DEST equal to SOURCE (bytes, types; modes and times where preserved), nothing of pcopy's
  // left beside it or in it.
  void ExpectDoneTree(const RunResult& r, const TreeCompare& compare) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(TreeDifferences(src_, dst_, compare), std::vector<std::string>{});
    EXPECT_FALSE(Exists(Kept()));
    for (const std::string& p : TreeListing(dst_)) {
      EXPECT_EQ(BaseName(p).rfind(".pcopy-", 0), std::string::npos) << "left in DEST: " << p;
    }
  }

  std::string src_ = dir_ / "src";
  std::string dst_ = dir_ / "dst";
  std::string large_;
};

// -a: the rerun skips by size and mtime, resumes the large file from its journal, and copies
// only the rest; the published tree has SOURCE's bytes, modes and times.
TEST_F(E2eResumeTree, SigtermKeepsTheTreeAndTheRerunCopiesOnlyTheRest) {
  const RunResult first = Interrupted({"-a"}, SIGTERM, true);
  ExpectKeptNote(first, 128 + SIGTERM);
  EXPECT_TRUE(Contains(first.err, "pcopy: interrupted by SIGTERM")) << first.err;
  const uint64_t durable = ExpectLargeRecordHolds();

  const RunResult r = RunPcopy(Args({"-a", "-v"}, false));
  ExpectDoneTree(r, TreeCompare{true, true, false});
  EXPECT_TRUE(Contains(r.err, "pcopy: resuming " + Quoted(src_) + " -> " + Quoted(dst_) +
                                  " from the partial tree an earlier run kept\n"))
      << r.err;
  EXPECT_TRUE(Contains(r.err, "pcopy: resumed: ")) << r.err;
  // The small files were complete when the first run was interrupted: none is copied again.
  for (const std::string& p : TreeListing(src_)) {
    struct stat st {};
    ASSERT_EQ(lstat((src_ + "/" + p).c_str(), &st), 0);
    if (!S_ISREG(st.st_mode) || p == large_) continue;
    EXPECT_FALSE(Contains(r.out, Quoted(src_ + "/" + p) + " -> ")) << p << " was copied again";
  }
  EXPECT_TRUE(Contains(r.out, Quoted(src_ + "/" + large_) + " -> ")) << r.out;
  EXPECT_GT(durable, 0u);
}

// Without -p the check is by content. Between the runs SOURCE changes: a file removed, one
// rewritten in place at the same size, a file replaced by a directory; and something foreign is
// put into the kept tree. The rerun's tree is SOURCE's, exactly.
TEST_F(E2eResumeTree, TheRerunCopiesSourceAsItIsNowAndRemovesWhatItNoLongerHas) {
  ExpectKeptNote(Interrupted({"-r"}, SIGINT), 128 + SIGINT);
  std::vector<std::string> files;
  for (const std::string& p : TreeListing(src_)) {
    struct stat st {};
    ASSERT_EQ(lstat((src_ + "/" + p).c_str(), &st), 0);
    if (S_ISREG(st.st_mode) && st.st_size > 0 && p != large_) files.push_back(p);
  }
  ASSERT_GE(files.size(), 3u);
  ASSERT_TRUE(Exists(Kept() + "/" + files[0]) && Exists(Kept() + "/" + files[1]));
  ASSERT_EQ(unlink((src_ + "/" + files[0]).c_str()), 0);
  const std::string rewritten = src_ + "/" + files[1];
  std::string bytes = ReadFile(rewritten);
  bytes[0] = static_cast<char>(bytes[0] ^ 0x5a);
  WriteFile(rewritten, bytes);
  const std::string replaced = src_ + "/" + files[2];
  ASSERT_EQ(unlink(replaced.c_str()), 0);
  ASSERT_EQ(mkdir(replaced.c_str(), 0755), 0);
  WriteFile(replaced + "/inside", "now a directory\n");
  WriteFile(Kept() + "/foreign", "not SOURCE's\n");
  ASSERT_EQ(mkdir((Kept() + "/foreign-dir").c_str(), 0700), 0);
  WriteFile(Kept() + "/foreign-dir/x", "nor this\n");

  ExpectDoneTree(RunPcopy(Args({"-r"}, false)), TreeCompare{});
}

// SIGKILL: no cleanup at all, and the rerun still resumes. While a run holds the kept tree, a
// second run of the same copy and --discard-partial are refused; a run without --resume removes
// what was kept, as --discard-partial does.
TEST_F(E2eResumeTree, KilledRunsLockAndDiscard) {
  Interrupted({"-a"}, SIGKILL);
  ASSERT_TRUE(Exists(Kept()));
  ExpectLargeRecordHolds();

  PcopyProcess running(Args({"-a"}, true));
  ASSERT_TRUE(running.WaitForWorkers());
  RunResult busy = RunPcopy(Args({"-a"}, false));
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_EQ(busy.err,
            "pcopy: cannot copy to " + Quoted(dst_) + ": another pcopy is copying to it\n");
  busy = RunPcopy({"--discard-partial", src_, dst_});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_EQ(busy.err, "pcopy: cannot remove the partial tree of " + Quoted(dst_) +
                          ": another pcopy is copying to it\n");
  kill(running.pid(), SIGTERM);
  ExpectKeptNote(FinishWithin(running), 128 + SIGTERM);

  RunResult r = RunPcopy({"--discard-partial", src_, dst_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "pcopy: removed the partial tree of " + Quoted(dst_) +
                       " that an interrupted run kept\n");
  EXPECT_EQ(ListDir(dir_.path()), (std::vector<std::string>{"src"}));

  ExpectKeptNote(Interrupted({"-a"}, SIGTERM), 128 + SIGTERM);
  r = RunPcopy({"-a", src_, dst_});
  EXPECT_TRUE(Contains(r.err, "pcopy: removed the partial tree of " + Quoted(dst_) +
                                  " that an interrupted run kept\n"))
      << r.err;
  ExpectDoneTree(r, TreeCompare{true, true, false});
}

// A power cut, simulated after a SIGKILL: whatever the journal does not record of the large file
// is punched to holes, and every small file not yet complete (its mtime is set last, after its
// data was made durable) is overwritten with garbage. The rerun publishes SOURCE exactly.
TEST_F(E2eResumeTree, WhatWasNotDurableIsCopiedAgainWhateverItHolds) {
  Interrupted({"-a"}, SIGKILL);
  BlockBitmap durable;
  ExpectLargeRecordHolds(&durable);
  const BlockGrid grid = GridFor(kLarge);
  ASSERT_LT(durable.Ones(), grid.count()) << "all durable: the test proves nothing";
  PunchUnrecorded(Kept() + "/" + large_, grid, durable);
  for (const std::string& p : TreeListing(src_)) {
    struct stat a {
    }, b{};
    ASSERT_EQ(lstat((src_ + "/" + p).c_str(), &a), 0);
    if (!S_ISREG(a.st_mode) || p == large_ || lstat((Kept() + "/" + p).c_str(), &b) != 0) continue;
    if (b.st_mtim.tv_sec == a.st_mtim.tv_sec && b.st_mtim.tv_nsec == a.st_mtim.tv_nsec) continue;
    Scribble(Kept() + "/" + p, 0, static_cast<size_t>(std::max<off_t>(a.st_size, 1)));
  }
  ExpectDoneTree(RunPcopy(Args({"-a"}, false)), TreeCompare{true, true, false});
}

// A kept tree left alone is removed by a later copy into its directory once it is old, unless a
// run holds it.
TEST_F(E2eResumeTree, AnOldKeptTreeIsRemoved) {
  ExpectKeptNote(Interrupted({"-r"}, SIGTERM), 128 + SIGTERM);
  SetTimes(Kept(), time(nullptr) - kPartialLifetime + 3600, 0);
  EXPECT_EQ(RemoveLeftovers(dir_.path()), std::vector<std::string>{});
  SetTimes(Kept(), time(nullptr) - kPartialLifetime - 1, 0);
  EXPECT_EQ(RemoveLeftovers(dir_.path()), std::vector<std::string>{PartialNamesFor("dst").tree});
  EXPECT_EQ(ListDir(dir_.path()), (std::vector<std::string>{"src"}));
}

// A file system without flock: --resume of a tree cannot lock its kept tree, says so, and leaves
// nothing (not even the directory it made to lock).
TEST_F(E2eResumeTree, WithoutLocksATreeIsRefusedAndLeavesNothing) {
  std::string err;
  const CopyOutcome outcome =
      CopyCommandInProcess({"--resume", "-r", "-q", src_, dst_}, NoFlockSysCalls(), &err);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(err, "pcopy: cannot lock " + Quoted(Kept()) + ": No locks available\n");
  EXPECT_FALSE(Exists(dst_));
  EXPECT_FALSE(Exists(Kept()));
}

TEST_F(E2eResumeTree, UsageErrors) {
  RunResult r = RunPcopy({"--resume-by-content", "--no-resume", "-r", src_, dst_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(Contains(r.err, "--resume and --no-resume cannot be used together")) << r.err;
  EXPECT_FALSE(Exists(dst_));
}

}  // namespace
}  // namespace pcopy
