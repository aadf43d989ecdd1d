// e2e_resume_test.cc: resumable copies through the real pcopy binary, interrupted and resumed.
// A copy interrupted by a signal, by the death of a worker, or killed outright (SIGKILL: no
// cleanup at all) keeps its partial copy and journal beside DEST; the same command resumes it and
// DEST ends byte-identical with nothing left behind (e2e_resume_util.h says how the tests work).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <string>
#include <vector>

#include "base/size_parse.h"
#include "e2e_resume_util.h"
#include "exec/checkpoint.h"
#include "exec/resume_journal.h"

namespace pcopy {
namespace {

using namespace pcopy::test;

// ---------------------------------------------------------------------------------------------
// Interrupted, then resumed.

// The plain story: SIGTERM mid-copy keeps what was durable, the same command resumes it and
// copies only the rest (interrupted again, it keeps more, and resumes again). A copy resumed with
// another plan (-j, chunk size) reads the same journal: its grid is independent of the plan. An
// existing DEST stays as it was until the copy is complete.
TEST_F(E2eResume, SigtermKeepsPartialAndRerunResumesExactly) {
  const Copy same = NewCopy("src", "dst", 1);
  Copy other_plan = NewCopy("src", "dst-plan", 1);
  other_plan.old_dest = "the DEST an earlier copy made\n";  // replaced only once complete
  WriteFile(other_plan.dst, other_plan.old_dest);
  const std::vector<RunResult> r =
      InterruptAll({ResumeArgs(same), ResumeArgs(other_plan)}, {same, other_plan}, SIGTERM);
  const BlockBitmap kept_same = ExpectKeptAfterSignal(r[0], same, SIGTERM);
  const BlockBitmap kept_other = ExpectKeptAfterSignal(r[1], other_plan, SIGTERM);
  std::vector<std::string> expected = {
      same.names.data,          same.names.journal, other_plan.names.data,
      other_plan.names.journal, "dst-plan",         "src"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ListDir(dir_.path()), expected)
      << "the interrupted copies left more than their partial copies";

  // The resumed run, interrupted in turn, keeps what it adopted and what it added.
  const RunResult again = Interrupt(ResumeArgs(same), same, SIGTERM);
  const BlockBitmap kept_again = ExpectKeptAfterSignal(again, same, SIGTERM);
  BlockBitmap both = kept_again;
  both.Merge(kept_same);
  EXPECT_TRUE(both == kept_again) << "the resumed run's record lost blocks";
  EXPECT_GT(kept_again.Ones(), kept_same.Ones()) << "the resumed run recorded nothing new";
  ExpectResumed(RunPcopy(WithVerbose(ResumeArgs(same, {}, kFast))), same, kept_again);
  ExpectResumed(RunPcopy(WithVerbose(ResumeArgs(other_plan, {"--chunk-size", "256K"}, kFast, "3"))),
                other_plan, kept_other);
}

// The journal's blocks are independent of how the work was split and copied: a copy interrupted
// under one strategy, chunk size (one that does not divide the 1 MiB block, or far smaller) and
// method resumes under another, and its record is exact for each (workers' frontiers that end
// inside a block, blocks shared by several units).
TEST_F(E2eResume, EveryPlanResumesUnderAnother) {
  struct Plan {
    std::vector<std::string> first, then;
  };
  const std::vector<Plan> plans = {
      {{"--strategy", "contiguous", "--method", "copy_file_range"},
       {"--strategy", "dynamic", "-j", "3"}},
      {{"--strategy", "interleaved", "--chunk-size", "768K", "--method", "pread"},
       {"--strategy", "contiguous", "-j", "1"}},
      {{"--strategy", "guided", "--method", "mmap"},
       {"--strategy", "interleaved", "--chunk-size", "3M"}},
      {{"--strategy", "dynamic", "--chunk-size", "4K", "--method", "direct"},
       {"--strategy", "guided", "--method", "sendfile"}},
  };
  std::vector<Copy> copies;
  std::vector<std::vector<std::string>> commands;
  for (size_t i = 0; i < plans.size(); ++i) {
    copies.push_back(NewCopy("src", "dst-" + std::to_string(i), 22));
    commands.push_back(ResumeArgs(copies.back(), plans[i].first));
  }
  const std::vector<RunResult> r = InterruptAll(commands, copies, SIGTERM);
  for (size_t i = 0; i < plans.size(); ++i) {
    SCOPED_TRACE(testing::PrintToString(plans[i].first));
    const BlockBitmap kept = ExpectKeptAfterSignal(r[i], copies[i], SIGTERM);
    // Built here: `then` may give its own -j, which may be given only once.
    std::vector<std::string> args = {"-v", "--resume"};
    const bool has_jobs =
        std::find(plans[i].then.begin(), plans[i].then.end(), "-j") != plans[i].then.end();
    if (!has_jobs) args.insert(args.end(), {"-j", "2"});
    args.insert(args.end(), plans[i].then.begin(), plans[i].then.end());
    args.insert(args.end(), {copies[i].src, copies[i].dst});
    SCOPED_TRACE(testing::PrintToString(args));
    ExpectResumed(RunPcopy(args), copies[i], kept);
  }
}

// SIGKILL of pcopy itself, at arbitrary moments: no cleanup runs, the workers die with it, and
// the journal is as the last record left it. Each kill is followed by a rerun, itself killed
// again now and then, until one finishes. After every kill the journal must still be trusted,
// its record must only have grown and must hold; the run that finishes resumes exactly what the
// record says.
TEST_F(E2eResume, KilledParentResumesExactly) {
  const Copy c = NewCopy("src", "dst", 2);
  std::mt19937 random(7);  // kills early and late, and up to three in a row
  // From "pcopy has barely started" to "nearly done": a full copy at 64 MB/s takes about 1 s.
  std::uniform_int_distribution<int> delay_ms(50, 950);
  std::bernoulli_distribution kill_again(0.5);
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    BlockBitmap recorded(GridFor(kSize).count());
    bool finished = false;
    std::string trace = "killed after";
    for (int kills = 0; !finished && (kills == 0 || (kills < 3 && kill_again(random)));) {
      const int delay = delay_ms(random);
      SCOPED_TRACE("kill " + std::to_string(kills) + " after " + std::to_string(delay) + " ms");
      PcopyProcess p(ResumeArgs(c, {}, "64M"));
      ASSERT_TRUE(p.WaitForWorkers());
      if (p.WaitForExit(delay)) {  // a resumed run with little left can finish first
        ExpectDone(p.Finish(), c);
        finished = true;
        trace.append(" (then finished within ").append(std::to_string(delay)).append(" ms)");
        break;
      }
      trace.append(" ").append(std::to_string(delay)).append(" ms");
      ASSERT_EQ(kill(p.pid(), SIGKILL), 0);
      const RunResult r = FinishWithin(p);
      if (r.signal == 0) {  // it finished in the instant before the kill
        ExpectDone(r, c);
        finished = true;
        break;
      }
      EXPECT_EQ(r.signal, SIGKILL);
      ASSERT_TRUE(WaitForOrphans());
      if (Exists(c.dst) && PcopyNames(c.dir).empty()) {
        // Published, and its journal removed, in the instant before the kill: a finished copy.
        EXPECT_TRUE(SameBytes(c.src, c.dst));
        finished = true;
        trace.append(" (it had just finished)");
        break;
      }
      ++kills;
      EXPECT_FALSE(Exists(c.dst));
      EXPECT_EQ(PcopyNames(c.dir), (std::vector<std::string>{c.names.data, c.names.journal}));
      const BlockBitmap now = Recorded(c);
      BlockBitmap grown = now;
      grown.Merge(recorded);
      EXPECT_TRUE(grown == now) << "the record lost blocks it had";
      ExpectRecordHolds(c, now);
      recorded = now;
    }
    printf("[  resume  ] round %d: %s, %s recorded\n", round, trace.c_str(),
           FormatBytes(DurableBytes(c, recorded)).c_str());
    if (!finished) {
      ExpectResumed(RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast))), c, recorded);
    }
    ASSERT_EQ(unlink(c.dst.c_str()), 0);
  }
}

// A worker killed outright fails the copy (--retries 0: no retry); what the workers made durable
// is kept, and resumed exactly.
TEST_F(E2eResume, KilledWorkerKeepsPartialAndRerunResumes) {
  const Copy c = NewCopy("src", "dst", 3);
  PcopyProcess p(ResumeArgs(c, {"--retries", "0"}));
  const std::vector<pid_t> workers = WaitForNWorkers(p, 2);
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_TRUE(WaitForRecord(p, c, Now()));
  ASSERT_TRUE(p.Running()) << "pcopy finished before the worker was killed";
  ASSERT_EQ(kill(workers[0], SIGKILL), 0);
  const RunResult r = FinishWithin(p);
  const BlockBitmap kept = ExpectKept(r, c, 1, "pcopy: ");
  EXPECT_TRUE(Contains(r.err.substr(0, r.err.find('\n')), "killed by signal 9")) << r.err;
  ExpectResumed(RunPcopy(WithVerbose(ResumeArgs(c, {"--retries", "0"}, kFast))), c, kept);
}

// A power cut loses whatever was not on stable storage. The test cannot cut the power, but it
// can do what a cut may do to the partial copy: every block the journal does not record as
// durable loses its bytes (a hole reads as zeros). The rerun must recopy all of those, whatever
// they hold, and trust only what was recorded.
TEST_F(E2eResume, UnrecordedBlocksAreRecopiedWhateverTheyHold) {
  const Copy c = NewCopy("src", "dst", 4);
  const RunResult r = Interrupt(ResumeArgs(c), c, SIGKILL);
  EXPECT_EQ(r.signal, SIGKILL);
  const BlockBitmap durable = Recorded(c);
  ExpectRecordHolds(c, durable);
  const BlockGrid grid = GridFor(kSize);
  ASSERT_GT(durable.Ones(), 0u) << "killed after a record, yet none is trusted";
  ASSERT_LT(durable.Ones(), grid.count()) << "all durable: the test proves nothing";

  PunchUnrecorded(c.data(), grid, durable);
  struct stat st {};
  ASSERT_EQ(stat(c.data().c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kSize);
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, DurableBytes(c, durable) + kMiB)
      << "the holes were not punched";

  ExpectResumed(RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast))), c, durable);
}

// A full disk fails the copy with its one-line error (an I/O error is never retried), and what
// the workers wrote before it is made durable and kept: the rerun, once there is room, resumes it.
// The disk fills at 40 MiB, through the SysCalls seam that the forked workers inherit.
TEST_F(E2eResume, AFullDiskKeepsWhatWasDurable) {
  const Copy c = NewCopy("src", "dst", 31);
  class FullAt40MiB final : public SysCalls {
   public:
    ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const override {
      if (static_cast<uint64_t>(offset) + count > 40 * kMiB) {
        errno = ENOSPC;
        return -1;
      }
      return SysCalls::pwrite(fd, buf, count, offset);
    }
  } full;
  Options o;
  o.source = c.src;
  o.dest = c.dst;
  o.sources = {c.src};
  o.jobs = 2;
  o.jobs_given = true;
  o.method = Method::kPread;  // the seam's pwrite, whatever TMPDIR's file system
  o.resume = ResumeMode::kAlways;
  o.fsync = true;
  const CopyOutcome out = CopyInProcess(o, full);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_TRUE(Contains(out.status.ToString(), "No space left on device")) << out.status.ToString();
  EXPECT_FALSE(Exists(c.dst));
  const BlockBitmap durable = Recorded(c);
  EXPECT_GT(DurableBytes(c, durable), 0u);
  EXPECT_LE(DurableBytes(c, durable), 40 * kMiB);
  ExpectRecordHolds(c, durable);
  ASSERT_EQ(out.report.notes.size(), 1u);
  EXPECT_EQ("pcopy: " + out.report.notes[0] + "\n", KeptNote(c, DurableBytes(c, durable)));
  ExpectResumed(RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast))), c, durable);
}

// --resume --verify: the resumed DEST is read back and compared with all of SOURCE.
TEST_F(E2eResume, ResumedCopyVerifies) {
  const Copy c = NewCopy("src", "dst", 5);
  const BlockBitmap kept =
      ExpectKeptAfterSignal(Interrupt(ResumeArgs(c, {"--verify"}), c, SIGTERM), c, SIGTERM);
  const RunResult r = RunPcopy(WithVerbose(ResumeArgs(c, {"--verify"}, kFast)));
  ExpectResumed(r, c, kept);
  EXPECT_TRUE(Contains(r.err, "verified")) << r.err;
}

// A sparse SOURCE (--sparse=auto): only its data is copied and counted, its holes need nothing
// (durable from the start), and the resumed DEST keeps them.
TEST_F(E2eResume, SparseSourceResumesWithItsHoles) {
  Copy c(dir_ / "sparse", dir_.path(), "dst");
  // 8 MiB of data at 0, 24 and 48 MiB of a 64 MiB file; holes elsewhere.
  MakeRandomFile(dir_ / "piece", 8 * kMiB, 19);
  const std::string piece = ReadFile(dir_ / "piece");
  ASSERT_EQ(unlink((dir_ / "piece").c_str()), 0);
  const int fd = open(c.src.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  for (const uint64_t at : {uint64_t{0}, 24 * kMiB, 48 * kMiB}) {
    ASSERT_EQ(pwrite(fd, piece.data(), piece.size(), static_cast<off_t>(at)),
              static_cast<ssize_t>(piece.size()));
    c.data_ranges.push_back(ByteRange{at, piece.size()});
  }
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(kSize)), 0);
  ASSERT_EQ(fsync(fd), 0);
  close(fd);

  // 24 MiB of data: slowed further, to take as long as the others.
  const BlockBitmap kept =
      ExpectKeptAfterSignal(Interrupt(ResumeArgs(c, {}, "12M"), c, SIGTERM), c, SIGTERM);
  const RunResult r = RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast)));
  ExpectResumed(r, c, kept);
  struct stat st {};
  ASSERT_EQ(stat(c.dst.c_str(), &st), 0);
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, 24 * kMiB + kMiB)
      << "the resumed DEST lost SOURCE's holes";
}

}  // namespace
}  // namespace pcopy
