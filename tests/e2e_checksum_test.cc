// e2e_checksum_test.cc: --checksum FILE... and --check LIST..., which read and never write, and
// --print-digest, which prints the digest of a copy. Lines, names and messages are compared
// exactly with what sha256sum prints, and the directories with what was there before.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr int kTimeoutMs = 60000;

std::string DigestOf(const RunResult& r) { return r.out.substr(0, r.out.find(' ')); }

// The names, sizes and modification times in a directory: what "nothing was written" means.
std::string Snapshot(const TempDir& t) {
  std::string s;
  for (const std::string& name : t.List()) {
    struct stat st {};
    lstat((t / name).c_str(), &st);
    s += name + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + "\n";
  }
  return s;
}

class E2eChecksum : public testing::Test {
 protected:
  void SetUp() override {
    a_ = t_ / "a";
    b_ = t_ / "b";
    MakeRandomFile(a_, 3 * kMiB + 77, 101);
    MakeRandomFile(b_, 4097, 102);
    const RunResult ra = RunPcopy({"--checksum", a_}), rb = RunPcopy({"--checksum", b_});
    ASSERT_EQ(ra.exit_code, 0) << ra.err;
    ASSERT_EQ(rb.exit_code, 0) << rb.err;
    digest_a_ = DigestOf(ra);
    digest_b_ = DigestOf(rb);
    ASSERT_EQ(digest_a_.size(), 32u) << ra.out;
    ASSERT_NE(digest_a_, digest_b_);
  }
  // Writes a list file of the given lines and returns its path.
  std::string List(const std::string& name, const std::string& content) {
    WriteFile(t_ / name, content);
    return t_ / name;
  }

  TempDir t_;
  std::string a_, b_, digest_a_, digest_b_;
};

// The old meaning replaced the second operand with a copy of the first.
TEST_F(E2eChecksum, EveryOperandIsDigestedAndNothingIsWritten) {
  const std::string before = Snapshot(t_);
  const std::string bytes_b = ReadFile(b_);
  const RunResult r = RunPcopy({"--checksum", a_, b_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, digest_a_ + "  " + a_ + "\n" + digest_b_ + "  " + b_ + "\n");
  EXPECT_TRUE(ReadFile(b_) == bytes_b) << "the second operand was written";
  EXPECT_EQ(Snapshot(t_), before);
}

TEST_F(E2eChecksum, DigestDoesNotDependOnJobs) {
  for (const char* jobs : {"1", "3", "8"}) {
    const RunResult r = RunPcopy({"-j", jobs, "--checksum", a_});
    EXPECT_EQ(r.out, digest_a_ + "  " + a_ + "\n") << "-j " << jobs;
  }
}

TEST_F(E2eChecksum, UnreadableFilesAreReportedAndTheOthersStillDigested) {
  const std::string missing = t_ / "missing", dir = t_ / "dir";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const RunResult r = RunPcopy({"--checksum", a_, missing, dir, b_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, digest_a_ + "  " + a_ + "\n" + digest_b_ + "  " + b_ + "\n");
  EXPECT_EQ(r.err, "pcopy: cannot open " + Quoted(missing) +
                       " for reading: No such file or directory\n"
                       "pcopy: cannot read " +
                       Quoted(dir) +
                       ": it is a directory; digests are made of regular files, block devices "
                       "and '-'\n");
  EXPECT_FALSE(Exists(missing));
}

// A directory where a mode wants a file: each mode says what it reads, in its own words.
TEST_F(E2eChecksum, EachModeNamesItselfWhenGivenADirectory) {
  const std::string dir = t_ / "dir";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  RunResult r = RunPcopy({"--compare", dir, a_});
  EXPECT_EQ(r.exit_code, 2);  // cmp's trouble
  EXPECT_EQ(r.err, "pcopy: cannot read " + Quoted(dir) +
                       ": it is a directory; --compare compares regular files and block devices\n");
  r = RunPcopy({"--check", dir});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: cannot read " + Quoted(dir) +
                       ": it is a directory; --check reads lists of digests\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(E2eChecksum, ChecksumWithCopyOrCheckOptionsIsAUsageError) {
  const std::string before = Snapshot(t_);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--checksum", "--verify", a_, b_},
        std::vector<std::string>{"--checksum", "--compare", a_, b_},
        std::vector<std::string>{"--checksum", "--print-digest", a_, b_},
        std::vector<std::string>{"--checksum", "--check", a_}}) {
    SCOPED_TRACE(testing::PrintToString(args));
    const RunResult r = RunPcopy(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err,
              "pcopy: --checksum goes with none of --verify, --compare, --print-digest, --check "
              "(try 'pcopy --help')\n");
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--check", "--verify", a_},
        std::vector<std::string>{"--check", "--print-digest", a_}}) {
    const RunResult r = RunPcopy(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "pcopy: --check goes with none of --verify, --compare, --print-digest (try 'pcopy "
              "--help')\n");
  }
  // Each names itself, and what it needs.
  RunResult r = RunPcopy({"--checksum"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "pcopy: --checksum needs a FILE to digest ('-': standard input) (try 'pcopy "
            "--help')\n");
  r = RunPcopy({"--check"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "pcopy: --check needs a LIST of digests ('-': standard input) (try 'pcopy --help')\n");
  EXPECT_EQ(Snapshot(t_), before);
}

TEST_F(E2eChecksum, PrintDigestPrintsTheCopysDigest) {
  const std::string dst = t_ / "dst", dir = t_ / "out";
  RunResult r = RunPcopy({"-j", "2", "--print-digest", a_, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, digest_a_ + "  " + dst + "\n");
  EXPECT_TRUE(SameBytes(a_, dst));
  r = RunPcopy({"-j", "2", "--verify", "--print-digest", b_, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, digest_b_ + "  " + dst + "\n") << "the digest --verify computed";
  EXPECT_TRUE(SameBytes(b_, dst));
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  r = RunPcopy({"--print-digest", a_, dir});
  EXPECT_EQ(r.out, digest_a_ + "  " + dir + "/a\n");
  r = RunPcopy({"-n", "--print-digest", b_, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "-n copied nothing, so there is no digest to print";
  EXPECT_EQ(Temporaries(t_.path()), std::vector<std::string>{});
}

// The same lines sha256sum writes, but for the digest: the leading backslash and the escapes.
TEST_F(E2eChecksum, NamesAreEscapedAsSha256sumEscapesThem) {
  struct Case {
    std::string name;
    std::string shown;  // in the line, after the directory
  };
  const std::vector<Case> cases = {
      {"plain", "plain"}, {"a\nb", "a\\nb"}, {"c\\d", "c\\\\d"}, {"e\rf", "e\\rf"}};
  for (const Case& c : cases) WriteFile(t_ / c.name, "x");
  const std::string digest = DigestOf(RunPcopy({"--checksum", t_ / "plain"}));
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.name));
    const RunResult ours = RunPcopy({"--checksum", t_ / c.name});
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    const std::string lead = c.name == "plain" ? "" : "\\";
    EXPECT_EQ(ours.out, lead + digest + "  " + t_.path() + "/" + c.shown + "\n");
    const RunResult theirs = RunCommand({"sha256sum", t_ / c.name}, kTimeoutMs);
    if (theirs.exit_code != 0) continue;  // no sha256sum here: the line above is the spec
    EXPECT_EQ(theirs.out.substr(0, lead.size()), lead);
    EXPECT_EQ(ours.out.substr(ours.out.find("  ")), theirs.out.substr(theirs.out.find("  ")));
  }
}

TEST_F(E2eChecksum, CheckSaysOkFailedAndFailedOpenOrRead) {
  const std::string bad = t_ / "bad", missing = t_ / "missing";
  WriteFile(bad, "changed since the list was made");
  const std::string list =
      List("list", "# a comment\n" + digest_a_ + "  " + a_ + "\n\n" + digest_b_ + "  " + bad +
                       "\n" + "not a digest line\n" + digest_b_ + "  " + missing + "\n");
  const std::string before = Snapshot(t_);
  const RunResult r = RunPcopy({"--check", list});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, a_ + ": OK\n" + bad + ": FAILED\n" + missing + ": FAILED open or read\n");
  EXPECT_EQ(r.err, "pcopy: cannot open " + Quoted(missing) +
                       " for reading: No such file or directory\n"
                       "pcopy: WARNING: 1 line is improperly formatted\n"
                       "pcopy: WARNING: 1 listed file could not be read\n"
                       "pcopy: WARNING: 1 computed checksum did NOT match\n");
  EXPECT_EQ(Snapshot(t_), before) << "--check wrote something";

  const RunResult quiet = RunPcopy({"--check", "-q", list});
  EXPECT_EQ(quiet.exit_code, 1);
  EXPECT_EQ(quiet.out, bad + ": FAILED\n" + missing + ": FAILED open or read\n");
  EXPECT_EQ(quiet.err, r.err);
}

TEST_F(E2eChecksum, CheckPassesOnlyWhenEveryLineMatches) {
  const RunResult sums = RunPcopy({"--checksum", a_, b_});
  ASSERT_EQ(sums.exit_code, 0);
  const std::string list = List("sums", sums.out);
  RunResult r = RunPcopy({"--check", "-j", "3", list});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, a_ + ": OK\n" + b_ + ": OK\n");
  EXPECT_EQ(r.err, "");
  r = RunPcopy({"--check", "--quiet", list});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");

  // One improperly formatted line is enough to fail, as sha256sum --strict.
  const std::string junk = List("junk", sums.out + "junk\n");
  r = RunPcopy({"--check", junk});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, a_ + ": OK\n" + b_ + ": OK\n");
  EXPECT_EQ(r.err, "pcopy: WARNING: 1 line is improperly formatted\n");

  const std::string both_wrong =
      List("wrong", digest_b_ + "  " + a_ + "\n" + digest_a_ + "  " + b_ + "\nx\ny\n");
  r = RunPcopy({"--check", both_wrong});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "pcopy: WARNING: 2 lines are improperly formatted\n"
            "pcopy: WARNING: 2 computed checksums did NOT match\n");
}

TEST_F(E2eChecksum, CheckReadsEscapedNamesAndStandardInput) {
  const std::string odd = t_ / "new\nline\\back";
  WriteFile(odd, "odd");
  const RunResult sums = RunPcopy({"--checksum", odd, a_});
  ASSERT_EQ(sums.exit_code, 0) << sums.err;
  const std::string list = List("sums", sums.out);
  const RunResult r =
      RunCommand({"sh", "-c", "exec \"$0\" --check - < \"$1\"", PCOPY_BINARY, list}, kTimeoutMs);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "\\" + t_.path() + "/new\\nline\\\\back: OK\n" + a_ + ": OK\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(E2eChecksum, CheckWithoutAnyDigestLineOrWithoutTheList) {
  const std::string list = List("list", "hello\n\n# nothing here\n");
  RunResult r = RunPcopy({"--check", list});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pcopy: " + Quoted(list) + ": no properly formatted checksum lines found\n");
  r = RunCommand({"sh", "-c", "exec \"$0\" --check - < /dev/null", PCOPY_BINARY}, kTimeoutMs);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: 'standard input': no properly formatted checksum lines found\n");
  r = RunPcopy({"--check", t_ / "nolist"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: cannot open " + Quoted(t_ / "nolist") +
                       " for reading: No such file or directory\n");
}

// Standard tools check the digests: xxhsum from Debian's xxhash package.
bool HaveXxhsum() { return RunCommand({"sh", "-c", "command -v xxhsum"}).exit_code == 0; }
constexpr const char* kNoXxhsum =
    "xxhsum is not installed (scripts/install-deps.sh installs Debian's xxhash package)";

// --checksum=xxh128 is the standard whole-file digest: the line xxhsum -H2 prints, for a file, an
// empty file and standard input ('-', named as sha256sum names it), and --check=xxh128 reads
// xxhsum's list.
TEST_F(E2eChecksum, Xxh128IsWhatXxhsumPrints) {
  if (!HaveXxhsum()) GTEST_SKIP() << kNoXxhsum;
  const std::string empty = t_ / "empty";
  WriteFile(empty, "");
  const RunResult theirs = RunCommand({"xxhsum", "-H2", a_, b_, empty});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  RunResult r = RunPcopy({"--checksum=xxh128", a_, b_, empty});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, theirs.out);
  EXPECT_NE(DigestOf(r), digest_a_);  // not the tree digest
  r = RunCommand({"sh", "-c", "exec \"$0\" --checksum=xxh128 - < \"$1\"", PCOPY_BINARY, a_},
                 kTimeoutMs);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, theirs.out.substr(0, 32) + "  -\n");
  r = RunPcopy({"--check=xxh128", List("xxh", theirs.out)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, a_ + ": OK\n" + b_ + ": OK\n" + empty + ": OK\n");
  r = RunPcopy({"--check", List("xxh", theirs.out)});  // the tree digests differ
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.find(a_ + ": FAILED\n"), 0u) << r.out;
}

// The tree digest is reproduced by the README's pipeline of standard tools, at the sizes where a
// leaf boundary could be got wrong, and standard input gives the same digest as the file.
TEST_F(E2eChecksum, TheTreeDigestIsWhatTheReadmePipelineComputes) {
  if (!HaveXxhsum()) GTEST_SKIP() << kNoXxhsum;
  const std::string pipeline =
      "split -b 1M --filter='xxhsum -H2 | cut -c1-32' \"$0\" | tr -d '\\n' | tr a-f A-F | "
      "basenc --base16 -d | xxhsum -H2 | cut -c1-32";
  for (const uint64_t size : {uint64_t{0}, uint64_t{1}, kMiB, 2 * kMiB + kMiB / 2 + 3}) {
    const std::string f = t_ / ("f" + std::to_string(size));
    MakeRandomFile(f, size, size + 7);
    const RunResult theirs = RunCommand({"sh", "-c", pipeline, f}, kTimeoutMs);
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    const RunResult ours = RunPcopy({"--checksum", f});
    EXPECT_EQ(ours.exit_code, 0) << ours.err;
    EXPECT_EQ(DigestOf(ours) + "\n", theirs.out) << size << " bytes";
    const RunResult piped =
        RunCommand({"sh", "-c", "exec \"$0\" --checksum - < \"$1\"", PCOPY_BINARY, f}, kTimeoutMs);
    EXPECT_EQ(piped.out, DigestOf(ours) + "  -\n") << piped.err;
  }
}

TEST_F(E2eChecksum, AnUnknownAlgorithmIsAUsageError) {
  for (const char* option : {"--checksum=md5", "--check=sha1", "--checksum=XXH128"}) {
    const RunResult r = RunPcopy({option, a_});
    EXPECT_EQ(r.exit_code, 2) << option;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("pcopy: invalid digest algorithm: '", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("(expected tree or xxh128)"), std::string::npos) << r.err;
  }
}

// Waiting on standard input that sends nothing (a terminal, a stalled pipe), a terminating signal
// still ends the job at once: the read waits in the signal guard's wait. The FIFO is held open for
// writing by the shell, so without the signal the read would wait for ever (the run's timeout).
// SIGTERM, because a shell starts a background job with SIGINT ignored.
TEST_F(E2eChecksum, ASignalEndsAWaitForStandardInput) {
  for (const char* algo : {"--checksum=xxh128", "--checksum"}) {
    const RunResult r =
        RunCommand({"sh", "-c",
                    "mkfifo \"$1\" && exec 3<>\"$1\" && { \"$0\" \"$2\" - <&3 & p=$!; sleep 0.3; "
                    "kill -TERM $p; wait $p; echo \"exit $?\"; }",
                    PCOPY_BINARY, t_ / (std::string("fifo") + algo), algo},
                   kTimeoutMs);
    EXPECT_EQ(r.out, "exit 143\n") << algo << ": " << r.err;
    EXPECT_EQ(r.err, "pcopy: interrupted by SIGTERM; the remaining files were not digested\n")
        << algo;
  }
}

// Digest lines for a reader that never reads: once the pipe is full, pcopy waits for room in the
// guard's wait (os/console_stream.h), so SIGTERM still ends it, with its one line on stderr.
TEST_F(E2eChecksum, ASignalEndsAWaitForAReaderOfStandardOutput) {
  std::string names;
  for (int i = 0; i < 3000; ++i) names += " \"$2\"";  // 3000 lines: more than a pipe holds
  const RunResult r =
      RunCommand({"sh", "-c",
                  "mkfifo \"$1\" && exec 3<>\"$1\" && { \"$0\" --checksum" + names +
                      " >&3 & p=$!; sleep 0.5; kill -TERM $p; wait $p; echo \"exit $?\"; }",
                  PCOPY_BINARY, t_ / "fifo", b_},  // 4 KiB: the pipe is full within milliseconds
                 kTimeoutMs);
  EXPECT_EQ(r.out, "exit 143\n") << r.err;
  EXPECT_EQ(r.err, "pcopy: interrupted by SIGTERM; the remaining files were not digested\n");
}

// The same when every file is digested and only the last lines wait in stdio's buffer: the signal
// cuts the final flush short, and is said as a signal (exit 143), not as a write error.
TEST_F(E2eChecksum, ASignalDuringTheLastFlushIsStillASignal) {
  std::string name = t_.path();
  while (name.size() < 96) name += "/.";
  name += "/b";
  std::string names;  // 500 lines of ~135 bytes: the pipe's 64 KiB, and the rest in the buffer
  for (int i = 0; i < 500; ++i) names += " '" + name + "'";
  const RunResult r =
      RunCommand({"sh", "-c",
                  "mkfifo \"$1\" && exec 3<>\"$1\" && { \"$0\" --checksum" + names +
                      " >&3 & p=$!; sleep 1; kill -TERM $p; wait $p; echo \"exit $?\"; }",
                  PCOPY_BINARY, t_ / "fifo"},
                 kTimeoutMs);
  EXPECT_EQ(r.out, "exit 143\n") << r.err;
  // "interrupted by SIGTERM" alone once all was digested (a slow machine may still be digesting).
  EXPECT_EQ(r.err.rfind("pcopy: interrupted by SIGTERM", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("write error"), std::string::npos) << r.err;
}

// Lines nobody can take stop the digests, as SIGPIPE stops sha256sum | head: a reader that went
// away is a quiet 141, a full disk one write error (exit 1). The missing file after 3000 lines
// (more than a pipe holds) is never reached, so it is never reported.
TEST_F(E2eChecksum, OutputThatCannotBeWrittenStopsTheDigests) {
  std::string names;
  for (int i = 0; i < 3000; ++i) names += " \"$1\"";
  names += " \"$2\"";
  const std::string missing = t_ / "missing";
  RunResult r = RunCommand(
      {"sh", "-c",
       "{ \"$0\" --checksum" + names + "; echo \"exit $?\" >&2; } | head -n 1 >/dev/null",
       PCOPY_BINARY, b_, missing},
      kTimeoutMs);
  EXPECT_EQ(r.err, "exit 141\n");
  r = RunCommand(
      {"sh", "-c", "\"$0\" --checksum" + names + " >/dev/full", PCOPY_BINARY, b_, missing},
      kTimeoutMs);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: write error on standard output: No space left on device\n");
  // --check, whose OK lines go the same way.
  std::string list;
  for (int i = 0; i < 3000; ++i) list += digest_b_ + "  " + b_ + "\n";
  list += digest_b_ + "  " + missing + "\n";
  r = RunCommand({"sh", "-c", "\"$0\" --check \"$1\" >/dev/full", PCOPY_BINARY, List("sums", list)},
                 kTimeoutMs);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: write error on standard output: No space left on device\n");
}

}  // namespace
}  // namespace pcopy::test
