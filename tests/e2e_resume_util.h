// e2e_resume_util.h: what the end-to-end tests of resumable copies share (e2e_resume_test.cc:
// interrupted and resumed; e2e_resume_trust_test.cc: what is not trusted, removal, the lock).
//
// Every copy is slowed with --bwlimit so that it is still running when it is interrupted: 64 MiB
// at 32 MB/s take about 2 s, and the first checkpoint (exec/checkpoint.h, kCheckpointInterval)
// records part of it well before the end. The tests wait for that record by watching the
// journal, never by sleeping, except the SIGKILL loop, whose point is to strike at arbitrary
// moments (drawn from a seeded generator, so a rerun strikes at the same ones). Copies that are
// interrupted the same way run side by side, so that a test with several cases pays for one
// interruption.
//
// What a journal records is read back with the library's own ResumeJournal (only between runs:
// it takes the journal's lock), so that the tests can check the claims exactly: each durable
// block of the partial copy holds SOURCE's bytes, the record only grows, and pcopy reports the
// same amounts.
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/byte_range.h"
#include "e2e_copy_util.h"
#include "os/data_extents.h"
#include "os/leftovers.h"
#include "plan/block_map.h"
#include "test_util.h"

namespace pcopy::test {

inline constexpr uint64_t kSize = 64 * kMiB;
// kSize at this rate takes about 2 s: the first record (kCheckpointInterval) lands mid-copy, and
// a signal sent just after it still finds the copy running.
inline constexpr const char* kSlow = "32M";
// No --bwlimit: a rerun that is left to finish.
inline constexpr const char* kFast = "";
// The journal's key for the default --sparse=auto (PartialSpec::layout is the mode's number).
inline constexpr uint32_t kAutoLayout = static_cast<uint32_t>(SparseMode::kAuto);

// One copy, SOURCE to DEST, and the names of the partial copy it keeps beside DEST.
struct Copy {
  Copy(std::string src_path, std::string dir_path, std::string dest_name)
      : src(std::move(src_path)),
        dir(std::move(dir_path)),
        name(std::move(dest_name)),
        dst(dir + "/" + name),
        names(PartialNamesFor(name)) {}
  std::string src, dir, name, dst;
  PartialNames names;
  std::vector<ByteRange> data_ranges;  // SOURCE's data, when it has holes; empty: all of it
  std::string old_dest;                // what DEST held before the copy; empty: no DEST
  std::string data() const { return dir + "/" + names.data; }
  std::string journal() const { return dir + "/" + names.journal; }
};

// pcopy --resume -j JOBS [extra] SOURCE DEST: forked workers (a copy made in pcopy's own process
// does not resume), slowed to bwlimit (none if empty: a rerun that is left to finish).
std::vector<std::string> ResumeArgs(const Copy& c, const std::vector<std::string>& extra = {},
                                    const std::string& bwlimit = kSlow,
                                    const std::string& jobs = "2");

std::vector<std::string> WithVerbose(std::vector<std::string> args);

// The names in dir of pcopy's temporaries (".pcopy-*.tmp"), which a resumable copy has none of.
std::vector<std::string> Tmps(const std::string& dir);

// The names in dir that pcopy made (temporaries, partial copies, journals).
std::vector<std::string> PcopyNames(const std::string& dir);

bool Contains(const std::string& text, const std::string& part);

timespec Now();

bool Later(const timespec& a, const timespec& b);

// Reaps the workers of a pcopy killed with SIGKILL: the test binary is the subreaper their
// orphans come to (test_main.cc), and they die of PR_SET_PDEATHSIG in the kernel's own time.
// Until they are gone they hold the journal's lock (inherited across fork), and a rerun would be
// refused. Only while no other pcopy of the test runs: it reaps any child that has exited.
testing::AssertionResult WaitForOrphans();

// Waits until c's checkpoint has recorded durable blocks since `since`, a moment taken once p's
// workers exist, or p has exited. The journal is written when a copy starts, before its workers
// are forked, and then only by a record: a modification time later than `since` is a record.
// (File times come from a coarse clock that never runs ahead of CLOCK_REALTIME, and the first
// record is kCheckpointInterval away.)
testing::AssertionResult WaitForRecord(const PcopyProcess& p, const Copy& c, const timespec& since);

// Runs every command at once (commands[i] copies copies[i]); once each has its workers and its
// checkpoint has recorded durable blocks, sends each the signal.
std::vector<RunResult> InterruptAll(const std::vector<std::vector<std::string>>& commands,
                                    const std::vector<Copy>& copies, int sig);

RunResult Interrupt(const std::vector<std::string>& args, const Copy& c, int sig);

// The journal's last record, read as a resuming pcopy reads it. Fails the test unless the
// journal is trusted for c and names c's partial copy. Between runs only: it takes the lock.
BlockBitmap Recorded(const Copy& c);

// The bytes the copy writes: SOURCE's data (--sparse=auto), as pcopy counts them.
std::vector<ByteRange> Needed(const Copy& c);
uint64_t NeededBytes(const Copy& c);

// The needed bytes in the blocks a record holds: what pcopy reports as durable.
uint64_t DurableBytes(const Copy& c, const BlockBitmap& durable);

// pcopy's lines about partial copies, in one place.
std::string KeptNote(const Copy& c, uint64_t durable_bytes);
std::string RemovedNote(const Copy& c);
std::string BusyNote(const Copy& c);
std::string BusyDiscardNote(const Copy& c);
std::string NotResumingNote(const Copy& c, const std::string& reason);

// What a journal claims must hold: every block it records as durable holds SOURCE's bytes in the
// partial copy (a claim of more than was written would resume into a corrupt DEST).
void ExpectRecordHolds(const Copy& c, const BlockBitmap& durable);

// What an interrupted run must leave: its exit status, the error line and then the note that the
// partial copy was kept (with the amount its journal records), the partial copy and its journal,
// and DEST as it was. Returns the journal's record.
BlockBitmap ExpectKept(const RunResult& r, const Copy& c, int exit_code,
                       const std::string& first_line);

BlockBitmap ExpectKeptAfterSignal(const RunResult& r, const Copy& c, int sig);

// A successful copy: exit 0, DEST holds SOURCE's bytes, and neither its partial copy nor its
// journal nor a temporary is left beside it. (Other copies' partial copies may share the
// directory; each test checks at its end that nothing at all is left.)
void ExpectDone(const RunResult& r, const Copy& c);

// A -v run that resumed the partial copy whose journal held `durable`: it says how much that
// was, copies only the rest, and ends as any copy does.
void ExpectResumed(const RunResult& r, const Copy& c, const BlockBitmap& durable);

// A run that found a partial copy it must not trust: it says why, then copies all of SOURCE.
void ExpectStartedAfresh(const RunResult& r, const Copy& c, const std::string& reason);

// A power cut, simulated: every block of path that durable does not record is punched to a hole
// (the file keeps its size).
void PunchUnrecorded(const std::string& path, const BlockGrid& grid, const BlockBitmap& durable);

// Overwrites size bytes at offset with garbage.
void Scribble(const std::string& path, uint64_t offset, size_t size);

// Each test's directory, its copies, and a check at its end that nothing of pcopy's is left.
class E2eResume : public testing::Test {
 protected:
  // A shell that started the test binary in the background may have left SIGINT ignored; pcopy
  // would inherit that. SIGTERM is reset too, as the signal tests do.
  void SetUp() override {
    for (int i = 0; i < 2; ++i) sigaction(kSignals[i], nullptr, &saved_[i]);
    for (int sig : kSignals) signal(sig, SIG_DFL);
  }
  void TearDown() override {
    for (int i = 0; i < 2; ++i) sigaction(kSignals[i], &saved_[i], nullptr);
    // Every test ends with its copies done or discarded: nothing of pcopy's may be left.
    EXPECT_EQ(PcopyNames(dir_.path()), std::vector<std::string>{});
  }

  // A copy of a fresh random SOURCE (named src_name, kSize bytes) to dest_name, both in dir_.
  Copy NewCopy(const std::string& src_name, const std::string& dest_name, uint64_t seed) {
    Copy c(dir_ / src_name, dir_.path(), dest_name);
    if (!Exists(c.src)) {
      MakeRandomFile(c.src, kSize, seed);
      EXPECT_EQ(chmod(c.src.c_str(), 0754), 0);
    }
    return c;
  }

  static constexpr int kSignals[2] = {SIGINT, SIGTERM};
  struct sigaction saved_[2]{};
  TempDir dir_;
};

}  // namespace pcopy::test
