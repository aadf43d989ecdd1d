#include "e2e_resume_util.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "base/size_parse.h"
#include "exec/resume_journal.h"
#include "os/file_identity.h"

namespace pcopy::test {

std::vector<std::string> ResumeArgs(const Copy& c, const std::vector<std::string>& extra,
                                    const std::string& bwlimit, const std::string& jobs) {
  std::vector<std::string> args = {"--resume", "-j", jobs};
  if (!bwlimit.empty()) args.insert(args.end(), {"--bwlimit", bwlimit});
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {c.src, c.dst});
  return args;
}

std::vector<std::string> WithVerbose(std::vector<std::string> args) {
  args.insert(args.begin(), "-v");
  return args;
}

std::vector<std::string> Tmps(const std::string& dir) {
  std::vector<std::string> found;
  for (const std::string& name : ListDir(dir)) {
    if (name.rfind(".pcopy-", 0) == 0 && EndsWith(name, ".tmp")) found.push_back(name);
  }
  return found;
}

std::vector<std::string> PcopyNames(const std::string& dir) {
  std::vector<std::string> found;
  for (const std::string& name : ListDir(dir)) {
    if (name.rfind(".pcopy-", 0) == 0) found.push_back(name);
  }
  return found;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

timespec Now() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

bool Later(const timespec& a, const timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
}

testing::AssertionResult WaitForOrphans() {
  return WaitUntil("the killed pcopy's workers to go", [] {
    for (pid_t k : ChildrenOf(getpid())) waitpid(k, nullptr, WNOHANG);
    return ChildrenOf(getpid()).empty();
  });
}

testing::AssertionResult WaitForRecord(const PcopyProcess& p, const Copy& c,
                                       const timespec& since) {
  return WaitUntil("a record in " + c.journal(), [&] {
    struct stat st {};
    return !p.Running() || (stat(c.journal().c_str(), &st) == 0 && Later(st.st_mtim, since));
  });
}

std::vector<RunResult> InterruptAll(const std::vector<std::vector<std::string>>& commands,
                                    const std::vector<Copy>& copies, int sig) {
  std::vector<std::unique_ptr<PcopyProcess>> runs;
  for (const auto& args : commands) runs.push_back(std::make_unique<PcopyProcess>(args));
  for (const auto& p : runs) EXPECT_TRUE(p->WaitForWorkers());
  const timespec workers_seen = Now();
  for (size_t i = 0; i < runs.size(); ++i)
    EXPECT_TRUE(WaitForRecord(*runs[i], copies[i], workers_seen));
  for (const auto& p : runs) {
    EXPECT_TRUE(p->Running()) << "pcopy finished before the signal: slow it down";
  }
  for (const auto& p : runs) kill(p->pid(), sig);
  std::vector<RunResult> results;
  for (const auto& p : runs) results.push_back(FinishWithin(*p));
  if (sig == SIGKILL) {
    EXPECT_TRUE(WaitForOrphans());
  }
  return results;
}

RunResult Interrupt(const std::vector<std::string>& args, const Copy& c, int sig) {
  return InterruptAll({args}, {c}, sig).front();
}

BlockBitmap Recorded(const Copy& c) {
  if (!Exists(c.journal())) {  // ResumeJournal::Open would create it
    ADD_FAILURE() << "no journal " << c.journal();
    return {};
  }
  struct stat src {};
  EXPECT_EQ(stat(c.src.c_str(), &src), 0) << c.src;
  ResumeJournal journal;
  ResumeJournal::Trouble trouble = ResumeJournal::Trouble::kNone;
  if (Status s = ResumeJournal::Open(c.journal(), c.dst, &journal, &trouble); !s.ok()) {
    ADD_FAILURE() << s.ToString();
    return {};
  }
  FileIdentity partial;
  BlockBitmap durable;
  const JournalVerdict verdict = journal.Load(KeyOf(src, c.name, kAutoLayout), &partial, &durable);
  EXPECT_EQ(verdict, JournalVerdict::kTrusted) << Describe(verdict);
  struct stat data {};
  EXPECT_EQ(stat(c.data().c_str(), &data), 0) << c.data();
  EXPECT_TRUE(IdentityOf(data) == partial) << "the journal names another partial copy";
  return durable;
}

std::vector<ByteRange> Needed(const Copy& c) {
  return c.data_ranges.empty() ? std::vector<ByteRange>{ByteRange{0, SizeOf(c.src)}}
                               : c.data_ranges;
}

uint64_t NeededBytes(const Copy& c) {
  uint64_t total = 0;
  for (const ByteRange& r : Needed(c)) total += r.length;
  return total;
}

uint64_t DurableBytes(const Copy& c, const BlockBitmap& durable) {
  return BytesInBlocks(Needed(c), GridFor(SizeOf(c.src)), durable);
}

std::string KeptNote(const Copy& c, uint64_t durable_bytes) {
  return "pcopy: kept " + FormatBytes(durable_bytes) + " of " + FormatBytes(NeededBytes(c)) +
         " durable for " + Quoted(c.dst) +
         ": the same command resumes, --discard-partial removes\n";
}

std::string RemovedNote(const Copy& c) {
  return "pcopy: removed the partial copy of " + Quoted(c.dst) + " that an interrupted run kept";
}

std::string BusyNote(const Copy& c) {
  return "pcopy: another pcopy is copying to " + Quoted(c.dst) + " (it holds the lock of " +
         Quoted(c.journal()) + ")\n";
}

std::string BusyDiscardNote(const Copy& c) {
  return "pcopy: cannot remove the partial copy of " + Quoted(c.dst) +
         ": another pcopy is copying to it\n";
}

std::string NotResumingNote(const Copy& c, const std::string& reason) {
  return "pcopy: not resuming the partial copy of " + Quoted(c.dst) + ": " + reason +
         "; starting afresh\n";
}

void ExpectRecordHolds(const Copy& c, const BlockBitmap& durable) {
  const std::string src = ReadFile(c.src), data = ReadFile(c.data());
  ASSERT_EQ(data.size(), src.size()) << "the partial copy is not sized as SOURCE";
  const BlockGrid grid = GridFor(src.size());
  ASSERT_EQ(durable.count(), grid.count());
  for (uint64_t i = 0; i < grid.count(); ++i) {
    if (!durable.Test(i)) continue;
    const ByteRange b = grid.Block(i);
    EXPECT_EQ(0, memcmp(src.data() + b.offset, data.data() + b.offset, b.length))
        << "block " << i << " is recorded durable but does not hold SOURCE's bytes";
  }
}

BlockBitmap ExpectKept(const RunResult& r, const Copy& c, int exit_code,
                       const std::string& first_line) {
  EXPECT_EQ(r.signal, 0) << "pcopy died of a signal";
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  if (c.old_dest.empty()) {
    EXPECT_FALSE(Exists(c.dst)) << "an interrupted copy published DEST";
  } else {
    EXPECT_EQ(ReadFile(c.dst), c.old_dest) << "an interrupted copy changed DEST";
  }
  EXPECT_TRUE(Exists(c.data())) << r.err;
  const BlockBitmap durable = Recorded(c);
  EXPECT_GT(DurableBytes(c, durable), 0u) << "nothing durable after a record";
  EXPECT_LT(DurableBytes(c, durable), NeededBytes(c))
      << "all durable: the copy was not interrupted";
  ExpectRecordHolds(c, durable);
  const std::string note = KeptNote(c, DurableBytes(c, durable));
  EXPECT_EQ(r.err.rfind(first_line, 0), 0u) << r.err;
  EXPECT_TRUE(EndsWith(r.err, "\n" + note)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  return durable;
}

BlockBitmap ExpectKeptAfterSignal(const RunResult& r, const Copy& c, int sig) {
  return ExpectKept(
      r, c, 128 + sig,
      std::string("pcopy: interrupted by SIG") + sigabbrev_np(sig) + "; DEST left untouched\n");
}

void ExpectDone(const RunResult& r, const Copy& c) {
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(c.src, c.dst)) << c.dst << " differs from " << c.src;
  // As any copy: SOURCE's permissions less the umask (the partial copy was made 0600).
  EXPECT_EQ(PermissionsOf(c.dst), PermissionsOf(c.src) & ~CurrentUmask()) << c.dst;
  EXPECT_FALSE(Exists(c.data())) << "left " << c.data();
  EXPECT_FALSE(Exists(c.journal())) << "left " << c.journal();
  EXPECT_EQ(Tmps(c.dir), std::vector<std::string>{});
}

void ExpectResumed(const RunResult& r, const Copy& c, const BlockBitmap& durable) {
  ExpectDone(r, c);
  EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
  const uint64_t durable_bytes = DurableBytes(c, durable), needed = NeededBytes(c);
  EXPECT_TRUE(Contains(r.err, "pcopy: resuming " + Quoted(c.src) + " -> " + Quoted(c.dst) + ": " +
                                  FormatBytes(durable_bytes) + " of " + FormatBytes(needed) +
                                  " already durable\n"))
      << r.err;
  std::string summary = "(";
  summary.append(FormatBytes(needed - durable_bytes)).append(" of data now, ");
  summary.append(FormatBytes(durable_bytes)).append(" resumed)");
  EXPECT_TRUE(Contains(r.err, summary)) << r.err;
}

void ExpectStartedAfresh(const RunResult& r, const Copy& c, const std::string& reason) {
  ExpectDone(r, c);
  // The note comes first, on stderr; -v's lines, if any, follow it there.
  EXPECT_EQ(r.err.rfind(NotResumingNote(c, reason), 0), 0u) << r.err;
  EXPECT_FALSE(Contains(r.err, "pcopy: resuming '")) << r.err;
}

void PunchUnrecorded(const std::string& path, const BlockGrid& grid, const BlockBitmap& durable) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
  for (uint64_t i = 0; i < grid.count(); ++i) {
    if (durable.Test(i)) continue;
    const ByteRange b = grid.Block(i);
    EXPECT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(b.offset), static_cast<off_t>(b.length)),
              0)
        << strerror(errno);
  }
  close(fd);
}

void Scribble(const std::string& path, uint64_t offset, size_t size) {
  const int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
  const std::string junk(size, '\x5a');
  EXPECT_EQ(pwrite(fd, junk.data(), junk.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(size));
  close(fd);
}

}  // namespace pcopy::test
