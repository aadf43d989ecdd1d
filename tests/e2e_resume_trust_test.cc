// e2e_resume_trust_test.cc: resumable copies through the real pcopy binary: what is never
// trusted, what removes a partial copy, the lock, and when a copy resumes. A partial copy that
// cannot be trusted (SOURCE changed, the journal damaged, truncated, moved from another copy, or
// naming another file) is never resumed: pcopy says why and copies everything. A run that does
// not resume removes it, --discard-partial removes it, and two runs of one copy never share it.
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
// Partial copies that must not be trusted.

// SOURCE changed between the runs (its content with its times put back, its mtime alone, its
// inode): the partial copy is of another SOURCE. DEST must be the new SOURCE.
TEST_F(E2eResume, ChangedSourceStartsAfresh) {
  const Copy rewritten = NewCopy("src-rewritten", "dst-rewritten", 7);
  const Copy touched = NewCopy("src-touched", "dst-touched", 8);
  const Copy replaced = NewCopy("src-replaced", "dst-replaced", 9);
  const std::vector<Copy> copies = {rewritten, touched, replaced};
  std::vector<std::vector<std::string>> commands;
  for (const Copy& c : copies) commands.push_back(ResumeArgs(c));
  const std::vector<RunResult> r = InterruptAll(commands, copies, SIGTERM);
  for (size_t i = 0; i < copies.size(); ++i) ExpectKeptAfterSignal(r[i], copies[i], SIGTERM);

  {  // A block rewritten in place, then its times put back: only its ctime tells.
    struct stat before {};
    ASSERT_EQ(stat(rewritten.src.c_str(), &before), 0);
    Scribble(rewritten.src, 3 * kMiB, 4096);
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, rewritten.src.c_str(), times, 0), 0);
  }
  {  // touch -d: the mtime alone.
    const timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, touched.src.c_str(), times, 0), 0);
  }
  {  // The same bytes in a new file put in its place.
    const std::string fresh = replaced.src + ".new";
    WriteFile(fresh, ReadFile(replaced.src));
    ASSERT_EQ(rename(fresh.c_str(), replaced.src.c_str()), 0);
  }
  for (const Copy& c : copies) {
    SCOPED_TRACE(c.src);
    ExpectStartedAfresh(RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast))), c,
                        "SOURCE changed since it was made");
  }
}

// A SOURCE that grew or shrank changed too, and pcopy says so as for any other change (README
// "Resuming": "a SOURCE that changed (another inode, size, mtime or ctime)"). Its size is also
// the journal's grid, but the journal is still this copy's: it is not "of another copy".
TEST_F(E2eResume, ResizedSourceStartsAfreshSayingSourceChanged) {
  const Copy grown = NewCopy("src-grown", "dst-grown", 6);
  const Copy shrunk = NewCopy("src-shrunk", "dst-shrunk", 23);
  const std::vector<RunResult> r =
      InterruptAll({ResumeArgs(grown), ResumeArgs(shrunk)}, {grown, shrunk}, SIGTERM);
  ExpectKeptAfterSignal(r[0], grown, SIGTERM);
  ExpectKeptAfterSignal(r[1], shrunk, SIGTERM);

  {  // One byte more.
    FILE* f = fopen(grown.src.c_str(), "a");
    ASSERT_NE(f, nullptr);
    fputc('!', f);
    fclose(f);
  }
  ASSERT_EQ(truncate(shrunk.src.c_str(), static_cast<off_t>(kSize - kMiB)), 0);
  for (const Copy& c : {grown, shrunk}) {
    SCOPED_TRACE(c.src);
    ExpectStartedAfresh(RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast))), c,
                        "SOURCE changed since it was made");
  }
}

// The journal damaged: truncated, its header overwritten, both its records overwritten; or the
// partial copy cut short under a sound journal. None is trusted. A single record overwritten (a
// write torn by a crash) leaves the other, older one: that copy still resumes, from the older
// record. The untouched control copy shows that the others would have resumed.
TEST_F(E2eResume, DamagedJournalStartsAfresh) {
  const Copy control = NewCopy("src", "dst-control", 10);
  const Copy truncated = NewCopy("src", "dst-truncated", 10);
  const Copy header = NewCopy("src", "dst-header", 10);
  const Copy records = NewCopy("src", "dst-records", 10);
  const Copy torn = NewCopy("src", "dst-torn", 10);
  const Copy short_data = NewCopy("src", "dst-short-data", 10);
  const std::vector<Copy> copies = {control, truncated, header, records, torn, short_data};
  std::vector<std::vector<std::string>> commands;
  for (const Copy& c : copies) commands.push_back(ResumeArgs(c));
  const std::vector<RunResult> r = InterruptAll(commands, copies, SIGTERM);
  std::vector<BlockBitmap> kept;
  for (size_t i = 0; i < copies.size(); ++i) {
    kept.push_back(ExpectKeptAfterSignal(r[i], copies[i], SIGTERM));
  }

  ASSERT_EQ(truncate(truncated.journal().c_str(), 100), 0);
  Scribble(header.journal(), 40, 16);  // in the middle of the header's key
  // The journal's layout (exec/resume_journal.cc): a 4 KiB header, then two slots of equal size
  // that take the records in turn, each led by its sequence number, count and checksum.
  const uint64_t slot = (SizeOf(records.journal()) - 4096) / 2;
  ASSERT_GT(slot, 0u);
  Scribble(records.journal(), 4096, 24);
  Scribble(records.journal(), 4096 + slot, 24);
  Scribble(torn.journal(), 4096 + 8, 8);  // the count of one record: its checksum fails
  // A sound journal whose partial copy lost its tail: not the file the journal was written for.
  ASSERT_EQ(truncate(short_data.data().c_str(), kSize / 2), 0);

  ExpectResumed(RunPcopy(WithVerbose(ResumeArgs(control, {}, kFast))), control, kept[0]);
  for (const Copy& c : {truncated, header, records}) {
    SCOPED_TRACE(c.dst);
    ExpectStartedAfresh(RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast))), c,
                        "its journal is damaged");
  }
  const RunResult resumed_torn = RunPcopy(WithVerbose(ResumeArgs(torn, {}, kFast)));
  ExpectDone(resumed_torn, torn);
  EXPECT_TRUE(OnlyCopiedLines(resumed_torn.out)) << resumed_torn.err;
  EXPECT_TRUE(Contains(resumed_torn.err, "pcopy: resuming ")) << resumed_torn.err;
  const RunResult short_run = RunPcopy(WithVerbose(ResumeArgs(short_data, {}, kFast)));
  ExpectDone(short_run, short_data);
  EXPECT_TRUE(Contains(short_run.err, "; starting afresh\n")) << short_run.err;
  EXPECT_EQ(short_run.err.rfind(
                "pcopy: not resuming the partial copy of " + Quoted(short_data.dst) + ": ", 0),
            0u)
      << short_run.err;
  EXPECT_FALSE(Contains(short_run.err, "pcopy: resuming '")) << short_run.err;
}

// A journal in the place of another copy's: of another DEST (its name is in the key); of the
// same SOURCE and DEST name in another directory (its key matches, but it names another partial
// copy); and a partial copy replaced by another's under a journal that matches. None is trusted.
// A partial copy left without its journal starts afresh too.
TEST_F(E2eResume, JournalOfAnotherCopyIsNotTrusted) {
  const std::string dir_a = dir_ / "a", dir_b = dir_ / "b";
  ASSERT_EQ(mkdir(dir_a.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(dir_b.c_str(), 0700), 0);
  const Copy from_a = NewCopy("src-a", "dst-a", 11);
  const Copy from_b = NewCopy("src-b", "dst-b", 12);
  const Copy here(dir_ / "src-a", dir_a, "dst");  // the same copy, in two directories
  const Copy there(dir_ / "src-a", dir_b, "dst");
  const Copy data_donor = NewCopy("src-b", "dst-donor", 12);
  const Copy data_taker = NewCopy("src-b", "dst-taker", 12);
  const std::vector<Copy> copies = {from_a, from_b, here, there, data_donor, data_taker};
  std::vector<std::vector<std::string>> commands;
  for (const Copy& c : copies) commands.push_back(ResumeArgs(c));
  const std::vector<RunResult> r = InterruptAll(commands, copies, SIGTERM);
  for (size_t i = 0; i < copies.size(); ++i) ExpectKeptAfterSignal(r[i], copies[i], SIGTERM);

  ASSERT_EQ(rename(from_a.journal().c_str(), from_b.journal().c_str()), 0);
  ASSERT_EQ(rename(here.journal().c_str(), there.journal().c_str()), 0);
  ASSERT_EQ(rename(data_donor.data().c_str(), data_taker.data().c_str()), 0);

  const RunResult b = RunPcopy(WithVerbose(ResumeArgs(from_b, {}, kFast)));
  ExpectStartedAfresh(b, from_b, "its journal is of another copy");
  const RunResult elsewhere = RunPcopy(WithVerbose(ResumeArgs(there, {}, kFast)));
  ExpectStartedAfresh(elsewhere, there, "its journal is damaged");
  const RunResult taker = RunPcopy(WithVerbose(ResumeArgs(data_taker, {}, kFast)));
  ExpectStartedAfresh(taker, data_taker, "its journal is damaged");
  // The partial copies whose journals were taken.
  for (const Copy& c : {from_a, here}) {
    SCOPED_TRACE(c.dst);
    ExpectStartedAfresh(RunPcopy(WithVerbose(ResumeArgs(c, {}, kFast))), c, "it has no journal");
  }
  // And the donor's journal, without its partial copy: left by a copy that finished, as far as
  // pcopy can tell, so it is removed without a word.
  const RunResult donor = RunPcopy(WithVerbose(ResumeArgs(data_donor, {}, kFast)));
  ExpectDone(donor, data_donor);
  EXPECT_TRUE(OnlyCopiedLines(donor.out)) << donor.err;
  EXPECT_FALSE(Contains(donor.err, "pcopy: resuming '")) << donor.err;
  EXPECT_EQ(PcopyNames(dir_a), std::vector<std::string>{});
  EXPECT_EQ(PcopyNames(dir_b), std::vector<std::string>{});
}

// Another --sparse mode lays the bytes out otherwise: not resumed.
TEST_F(E2eResume, AnotherSparseModeStartsAfresh) {
  const Copy c = NewCopy("src", "dst", 13);
  ExpectKeptAfterSignal(Interrupt(ResumeArgs(c), c, SIGTERM), c, SIGTERM);
  ExpectStartedAfresh(RunPcopy(WithVerbose(ResumeArgs(c, {"--sparse=never"}, kFast))), c,
                      "it was made with another --sparse mode");
}

// ---------------------------------------------------------------------------------------------
// Runs that do not resume, and removal.

// A copy that does not resume (no --fsync; --no-resume; -q) removes a kept partial copy of its
// DEST, says so unless -q, and copies everything. A copy to another DEST leaves it alone.
TEST_F(E2eResume, NonResumingRunRemovesPartial) {
  const Copy plain = NewCopy("src", "dst-plain", 14);
  const Copy no_resume = NewCopy("src", "dst-no-resume", 14);
  const Copy quiet = NewCopy("src", "dst-quiet", 14);
  const std::vector<Copy> copies = {plain, no_resume, quiet};
  std::vector<std::vector<std::string>> commands;
  for (const Copy& c : copies) commands.push_back(ResumeArgs(c));
  const std::vector<RunResult> r = InterruptAll(commands, copies, SIGINT);
  for (size_t i = 0; i < copies.size(); ++i) ExpectKeptAfterSignal(r[i], copies[i], SIGINT);

  const Copy other("src", dir_.path(), "other");
  const RunResult to_other = RunPcopy({"-j", "2", plain.src, dir_ / "other"});
  EXPECT_EQ(to_other.exit_code, 0) << to_other.err;
  EXPECT_EQ(to_other.err, "");
  for (const Copy& c : copies) {
    EXPECT_TRUE(Exists(c.data()) && Exists(c.journal()))
        << "a copy to another DEST removed " << c.data();
  }

  auto removed = [](const Copy& c) {
    return RemovedNote(c) + ": this copy does not resume (see --resume)\n";
  };
  RunResult p = RunPcopy({"-j", "2", plain.src, plain.dst});
  ExpectDone(p, plain);
  EXPECT_EQ(p.err, removed(plain));
  p = RunPcopy({"--fsync", "--no-resume", "-j", "2", no_resume.src, no_resume.dst});
  ExpectDone(p, no_resume);
  EXPECT_EQ(p.err, removed(no_resume));
  p = RunPcopy({"-q", "-j", "2", quiet.src, quiet.dst});
  ExpectDone(p, quiet);
  EXPECT_EQ(p.err, "");
}

// --discard-partial removes what an interrupted copy kept, copies nothing and says so; with
// nothing to remove it says that, and succeeds.
TEST_F(E2eResume, DiscardPartialRemovesItAndCopiesNothing) {
  // Also with DEST named by its directory, as a copy into a directory is: the same partial copy.
  const std::string into = dir_ / "into";
  ASSERT_EQ(mkdir(into.c_str(), 0700), 0);
  const Copy c = NewCopy("src", "dst", 15);
  const Copy in_dir(c.src, into, "src");
  const std::vector<RunResult> r0 =
      InterruptAll({ResumeArgs(c), {"--resume", "-j", "2", "--bwlimit", kSlow, c.src, into + "/"}},
                   {c, in_dir}, SIGTERM);
  ExpectKeptAfterSignal(r0[0], c, SIGTERM);
  ExpectKeptAfterSignal(r0[1], in_dir, SIGTERM);

  RunResult r = RunPcopy({"--discard-partial", c.src, c.dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, RemovedNote(c) + "\n");
  EXPECT_EQ(ListDir(c.dir), (std::vector<std::string>{"into", "src"}))
      << "DEST made, or something left";
  r = RunPcopy({"--discard-partial", c.src, into + "/"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, RemovedNote(in_dir) + "\n");
  EXPECT_EQ(ListDir(into), std::vector<std::string>{});

  r = RunPcopy({"--discard-partial", c.src, c.dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pcopy: no partial copy of " + Quoted(c.dst) + " to remove\n");
  EXPECT_EQ(ListDir(c.dir), (std::vector<std::string>{"into", "src"}));
}

// Partial copies are removed by any pcopy copying into their directory once their journal is a
// week old (kPartialLifetime; each record touches it) and unlocked; younger ones are left alone.
TEST_F(E2eResume, WeekOldPartialCopiesAreRemoved) {
  const Copy stale = NewCopy("src", "dst-stale", 20);
  const Copy recent = NewCopy("src", "dst-recent", 20);
  const std::vector<RunResult> r =
      InterruptAll({ResumeArgs(stale), ResumeArgs(recent)}, {stale, recent}, SIGTERM);
  ExpectKeptAfterSignal(r[0], stale, SIGTERM);
  ExpectKeptAfterSignal(r[1], recent, SIGTERM);
  const auto age = [](const Copy& c, long seconds) {
    const timespec times[2] = {{0, UTIME_OMIT}, {time(nullptr) - seconds, 0}};
    EXPECT_EQ(utimensat(AT_FDCWD, c.journal().c_str(), times, 0), 0);
  };
  age(stale, kPartialLifetime + 3600);
  age(recent, kPartialLifetime - 3600);

  const Copy other(stale.src, dir_.path(), "other");
  const RunResult o = RunPcopy({"-j", "2", other.src, other.dst});
  ExpectDone(o, other);
  EXPECT_EQ(o.err, "");
  EXPECT_FALSE(Exists(stale.data()) || Exists(stale.journal())) << "a week-old partial copy left";
  EXPECT_TRUE(Exists(recent.data()) && Exists(recent.journal())) << "a younger one removed";
  EXPECT_EQ(RunPcopy({"--discard-partial", recent.src, recent.dst}).exit_code, 0);
}

// The partial copy's names are pcopy's, but anyone who may write DEST's directory may put
// something there: a symbolic link in the journal's place is refused, not followed; one in the
// partial copy's place is removed, not written through.
TEST_F(E2eResume, LinksInThePartialCopysPlaceAreNotFollowed) {
  const Copy c = NewCopy("src", "dst", 21);
  const std::string victim = dir_ / "victim";
  WriteFile(victim, "not to be written\n");

  ASSERT_EQ(symlink("victim", c.journal().c_str()), 0);
  RunResult r = RunPcopy(ResumeArgs(c, {}, kFast));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << r.err;
  EXPECT_EQ(ReadFile(victim), "not to be written\n");
  EXPECT_FALSE(Exists(c.dst));
  EXPECT_FALSE(Exists(c.data()));
  ASSERT_EQ(unlink(c.journal().c_str()), 0);

  ASSERT_EQ(symlink("victim", c.data().c_str()), 0);
  r = RunPcopy(ResumeArgs(c, {}, kFast));
  ExpectStartedAfresh(r, c, "it has no journal");
  EXPECT_EQ(ReadFile(victim), "not to be written\n");
  ASSERT_EQ(unlink(victim.c_str()), 0);
}

// ---------------------------------------------------------------------------------------------
// Two runs at once.

// The journal is the copy's lock: a second run of the same copy, or --discard-partial, while the
// first runs, is refused and touches nothing; the first ends as if alone.
TEST_F(E2eResume, SecondRunOfTheSameCopyIsRefused) {
  const Copy c = NewCopy("src", "dst", 16);
  PcopyProcess first(ResumeArgs(c, {}, "64M"));  // about 1 s
  ASSERT_TRUE(first.WaitForWorkers());           // the lock is taken before the workers are forked
  const RunResult second = RunPcopy(ResumeArgs(c));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(second.err, BusyNote(c));
  const RunResult discard = RunPcopy({"--discard-partial", c.src, c.dst});
  EXPECT_EQ(discard.exit_code, 1);
  EXPECT_EQ(discard.err, BusyDiscardNote(c));
  ASSERT_TRUE(first.Running()) << "the first run ended before the second was tried";
  EXPECT_TRUE(Exists(c.data()) && Exists(c.journal())) << "the refused runs removed them";
  EXPECT_FALSE(Exists(c.dst));
  ExpectDone(FinishWithin(first), c);
}

// ---------------------------------------------------------------------------------------------
// When a copy resumes.

// By default a copy resumes when it pays for durability (--fsync) and has at least 1 GiB of data
// to copy; with less, or --no-resume, an interrupted --fsync copy keeps nothing. The 1 GiB SOURCE
// is sparse: --sparse=never makes all of it data without storing any of it.
TEST_F(E2eResume, FsyncResumesLargeCopiesByDefault) {
  const std::string big = dir_ / "big";
  WriteFile(big, "");
  ASSERT_EQ(truncate(big.c_str(), 1 << 30), 0);
  const Copy large(big, dir_.path(), "dst-large");
  const Copy refused(big, dir_.path(), "dst-no-resume");
  auto fsync_args = [](const Copy& c, bool no_resume) {
    std::vector<std::string> args = {"--fsync",   "--sparse=never", "-j",  "2",
                                     "--bwlimit", "256M",           c.src, c.dst};
    if (no_resume) args.insert(args.begin(), "--no-resume");
    return args;
  };
  PcopyProcess no_resume(fsync_args(refused, true));
  const RunResult r = Interrupt(fsync_args(large, false), large, SIGTERM);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_TRUE(Contains(r.err, "durable for " + Quoted(large.dst))) << r.err;
  EXPECT_TRUE(Exists(large.data()) && Exists(large.journal()));
  ASSERT_TRUE(no_resume.Running());
  kill(no_resume.pid(), SIGTERM);
  const RunResult nr = FinishWithin(no_resume);
  EXPECT_EQ(nr.exit_code, 128 + SIGTERM) << nr.err;
  EXPECT_EQ(nr.err, "pcopy: interrupted by SIGTERM; DEST left untouched\n");
  EXPECT_FALSE(Exists(refused.data()) || Exists(refused.journal()));

  // Less than 1 GiB of data: 16 MiB in a 1 GiB file, its holes kept (--sparse=auto).
  const std::string small = dir_ / "small";
  MakeRandomFile(small, 16 * kMiB, 17);
  ASSERT_EQ(truncate(small.c_str(), 1 << 30), 0);
  const Copy small_copy(small, dir_.path(), "dst-small");
  PcopyProcess p({"--fsync", "-j", "2", "--bwlimit", "8M", small, small_copy.dst});
  ASSERT_TRUE(p.WaitForWorkers());
  // Nothing to watch: a record, had there been a journal, would have come by now.
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int>(kCheckpointInterval * 1000) + 200));
  ASSERT_TRUE(p.Running());
  kill(p.pid(), SIGTERM);
  const RunResult sr = FinishWithin(p);
  EXPECT_EQ(sr.exit_code, 128 + SIGTERM) << sr.err;
  EXPECT_EQ(sr.err, "pcopy: interrupted by SIGTERM; DEST left untouched\n");
  EXPECT_FALSE(Exists(small_copy.data()) || Exists(small_copy.journal()));

  const RunResult d = RunPcopy({"--discard-partial", large.src, large.dst});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(PcopyNames(dir_.path()), std::vector<std::string>{});
}

// ---------------------------------------------------------------------------------------------
// Usage.

TEST_F(E2eResume, ResumeUsageErrors) {
  const Copy c = NewCopy("src", "dst", 18);
  RunResult r = RunPcopy({"--resume", "--no-resume", c.src, c.dst});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(Contains(r.err, "--resume and --no-resume cannot be used together")) << r.err;
  r = RunPcopy({"--discard-partial", "--resume", c.src, c.dst});
  EXPECT_EQ(r.exit_code, 2) << r.err;

  r = RunPcopy({"--discard-partial", "--resume-by-content", c.src, c.dst});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(ListDir(dir_.path()), (std::vector<std::string>{"src"}));
}

}  // namespace
}  // namespace pcopy
