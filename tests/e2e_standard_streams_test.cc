// e2e_standard_streams_test.cc: '-' as SOURCE (standard input, read once from where it stands)
// and as DEST (standard output, written in order, no temporary), through the real binary in a
// shell, as users pipe it: the bytes that arrive, the exit codes (141 for a reader that went away,
// 128 + N for a signal), the refusals of what needs real files, and what is left on disk.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr int kTimeoutMs = 60000;

class E2eStandardStreams : public testing::Test {
 protected:
  void SetUp() override {
    src_ = t_ / "src";
    dst_ = t_ / "dst";
    MakeRandomFile(src_, 3 * kMiB + 5, 11);
  }

  // sh -c script with $0 = pcopy, $1 = src_, $2 = dst_, $3... = more.
  RunResult Shell(const std::string& script, const std::vector<std::string>& more = {}) const {
    std::vector<std::string> argv = {"sh", "-c", script, PCOPY_BINARY, src_, dst_};
    argv.insert(argv.end(), more.begin(), more.end());
    return RunCommand(argv, kTimeoutMs);
  }

  TempDir t_;
  std::string src_, dst_;
};

// A redirection and a pipe give the same copy: SOURCE's bytes, made as a shell's redirection
// makes a file (0666 less the umask), published whole, no temporary left.
TEST_F(E2eStandardStreams, StandardInputIsCopiedToAFile) {
  for (const uint64_t size : {uint64_t{0}, uint64_t{1}, 3 * kMiB + 5}) {
    MakeRandomFile(src_, size, size + 3);
    for (const char* script : {"exec \"$0\" - \"$2\" < \"$1\"", "cat \"$1\" | \"$0\" - \"$2\""}) {
      const RunResult r = Shell(script);
      EXPECT_EQ(r.exit_code, 0) << script << ": " << r.err;
      EXPECT_EQ(r.out + r.err, "") << script;
      EXPECT_TRUE(SameBytes(src_, dst_)) << script << ", " << size << " bytes";
      EXPECT_EQ(PermissionsOf(dst_), 0666 & ~CurrentUmask());
      EXPECT_EQ(Temporaries(t_.path()), std::vector<std::string>{});
      unlink(dst_.c_str());
    }
  }
}

// Standard input is read from where it stands, as cat reads it: the 1000 bytes a command before
// pcopy took are not in the copy (a clone or a read from offset 0 would put them back).
TEST_F(E2eStandardStreams, StandardInputIsReadFromWhereItStands) {
  const RunResult r =
      Shell("{ dd bs=1000 count=1 of=/dev/null 2>/dev/null && exec \"$0\" -v - \"$2\"; } < \"$1\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "'-' -> " + Quoted(dst_) + "\n");
  EXPECT_NE(r.err.find("pcopy: standard input: reading to the end\n"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dst_), ReadFile(src_).substr(1000));
}

// --verify compares the copy with what was read, once: standard input cannot be read again.
TEST_F(E2eStandardStreams, VerifyChecksTheBytesReadOnce) {
  const RunResult r = Shell("cat \"$1\" | \"$0\" -v --verify --print-digest - \"$2\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src_, dst_));
  EXPECT_NE(r.err.find("verified against the bytes read from '-' (read once: standard input)"),
            std::string::npos)
      << r.err;
  const RunResult digest = RunPcopy({"--checksum", src_});
  ASSERT_EQ(digest.exit_code, 0) << digest.err;
  EXPECT_NE(r.out.find(digest.out.substr(0, 32) + "  " + dst_ + "\n"), std::string::npos) << r.out;
}

// To a file, to a pipe, appended after what the file held, and from standard input too: the
// bytes arrive in order, and -v's lines, the arrow included, go to stderr, never into the data.
TEST_F(E2eStandardStreams, AFileIsWrittenToStandardOutput) {
  for (const char* script :
       {"exec \"$0\" -v \"$1\" - > \"$2\"", "\"$0\" -v \"$1\" - | cat > \"$2\"",
        "cat \"$1\" | \"$0\" -v - - | cat > \"$2\""}) {
    const RunResult r = Shell(script);
    EXPECT_EQ(r.exit_code, 0) << script << ": " << r.err;
    EXPECT_EQ(r.out, "") << script;
    EXPECT_TRUE(SameBytes(src_, dst_)) << script;
    EXPECT_NE(r.err.find(" -> '-'\n"), std::string::npos) << script << ": " << r.err;
    EXPECT_NE(r.err.find("method read/write to standard output"), std::string::npos) << r.err;
  }
  WriteFile(dst_, "header\n");
  const RunResult r = Shell("exec \"$0\" \"$1\" - >> \"$2\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dst_), "header\n" + ReadFile(src_));
}

// Standard input's progress: its size is known at its end only, so the lines while it streams
// have no total, and the last has the whole.
TEST_F(E2eStandardStreams, StandardInputsProgressEndsWithItsSize) {
  const RunResult r = Shell("cat \"$1\" | \"$0\" --progress json - \"$2\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src_, dst_));
  const std::string size = std::to_string(3 * kMiB + 5);
  EXPECT_NE(r.err.find("{\"type\":\"end\","), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"bytes_done\":" + size + ",\"bytes_total\":" + size + ","),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("\"outcome\":\"copied\"}\n"), std::string::npos) << r.err;
}

// A stall is shown as a stall: while standard input sends nothing, the progress lines go on
// (about once a second), with the time running and the rate falling to nothing; and the summary
// ends what was shown.
TEST_F(E2eStandardStreams, AStallingInputKeepsItsProgressGoing) {
  const RunResult r =
      Shell("{ head -c 1048576 \"$1\"; sleep 3.5; } | \"$0\" --progress plain - \"$2\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pcopy: 1.00 MiB so far, 0.00 B/s, 0:0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\npcopy: copied 1.00 MiB in "), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dst_), ReadFile(src_).substr(0, kMiB));
}

// A reader that goes away (head) ends the copy as SIGPIPE ends cat: exit 141, not a word.
TEST_F(E2eStandardStreams, AReaderThatGoesAwayEndsItQuietly) {
  MakeRandomFile(src_, 16 * kMiB, 5);
  const RunResult r = Shell(
      "{ \"$0\" \"$1\" -; echo \"exit $?\" >&2; } | head -c 10 > /dev/null; cat \"$1\" "
      "> /dev/null");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "exit 141\n");
}

// What standard output or input cannot be (full, closed, SOURCE itself) is one line and exit 1.
TEST_F(E2eStandardStreams, AnUnwritableStandardOutputIsOneLine) {
  RunResult r = Shell("exec \"$0\" \"$1\" - > /dev/full");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: write '-' at offset 0: No space left on device\n");
  r = Shell("exec \"$0\" \"$1\" - >&-");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: write '-' at offset 0: Bad file descriptor\n");
  // A closed standard output or input is held by /dev/null, so no file pcopy opens takes its
  // number: the copy's -v line fails as cp's would, and DEST holds SOURCE's bytes and nothing else.
  r = Shell("exec \"$0\" -v \"$1\" \"$2\" >&-");
  EXPECT_EQ(r.exit_code, 1);
  const std::string last = "pcopy: write error on standard output: Bad file descriptor\n";
  ASSERT_GE(r.err.size(), last.size()) << r.err;
  EXPECT_EQ(r.err.substr(r.err.size() - last.size()), last);  // after -v's diagnostics
  EXPECT_TRUE(SameBytes(src_, dst_));
  unlink(dst_.c_str());
  r = Shell("exec \"$0\" - \"$2\" <&-");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: read '-' at offset 0: Bad file descriptor\n");
  EXPECT_FALSE(Exists(dst_));
  // A pipe's end the wrong way round fails at once, as cat fails, rather than waiting forever.
  r = Shell("{ \"$0\" - \"$2\" 0>&1; echo \"exit $?\" >&2; } | cat");
  EXPECT_EQ(r.err, "pcopy: read '-' at offset 0: Bad file descriptor\nexit 1\n");
  r = Shell(": | { \"$0\" \"$1\" - 1<&0; echo \"exit $?\" >&2; }");
  EXPECT_EQ(r.err, "pcopy: write '-' at offset 0: Bad file descriptor\nexit 1\n");
  const std::string before = ReadFile(src_);
  r = Shell("exec \"$0\" \"$1\" - >> \"$1\"");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: " + Quoted(src_) + " and standard output are the same file\n");
  EXPECT_EQ(ReadFile(src_), before);
  r = Shell("exec \"$0\" - \"$1\" < \"$1\"");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: '-' and " + Quoted(src_) + " are the same file\n");
  EXPECT_EQ(ReadFile(src_), before);
}

// A SIGTERM ends the copy while the other end of the pipe is silent: a writer that never writes
// (DEST left untouched), and a reader that never reads (exit 143 all the same).
TEST_F(E2eStandardStreams, ASignalEndsItWhateverTheOtherEndDoes) {
  const std::string wait_then_kill = "p=$!; sleep 0.3; kill -TERM $p; wait $p; echo \"exit $?\"";
  RunResult r =
      Shell("mkfifo \"$3\" && exec 3<>\"$3\" && { \"$0\" - \"$2\" <&3 & " + wait_then_kill + "; }",
            {t_ / "in"});
  EXPECT_EQ(r.out, "exit 143\n") << r.err;
  EXPECT_EQ(r.err, "pcopy: interrupted by SIGTERM; DEST left untouched\n");
  EXPECT_FALSE(Exists(dst_));
  EXPECT_EQ(Temporaries(t_.path()), std::vector<std::string>{});
  r = Shell("mkfifo \"$3\" && exec 3<>\"$3\" && { \"$0\" \"$1\" - >&3 & " + wait_then_kill + "; }",
            {t_ / "out"});
  EXPECT_EQ(r.out, "exit 143\n") << r.err;
  EXPECT_EQ(r.err, "pcopy: interrupted by SIGTERM; standard output got only part of it\n");
}

// '-' goes alone and without the options that need real files; a usage error (exit 2) names the
// option, and no file or directory named '-' is made.
TEST_F(E2eStandardStreams, RefusalsNameTheOptionAndMakeNothing) {
  const std::string second = t_ / "second";
  MakeRandomFile(second, 10, 2);
  const std::string to_stdout = " cannot be used with DEST '-' (standard output)";
  const std::string from_stdin = " cannot be used with SOURCE '-' (standard input)";
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{src_, second, "-"}, "standard output ('-') takes one SOURCE"},
      {{"-", src_, t_.path()}, "standard input ('-') is copied alone, to one DEST"},
      {{"--verify", src_, "-"}, "--verify" + to_stdout + ": it cannot be read back"},
      {{"--print-digest", src_, "-"}, "--print-digest" + to_stdout},
      {{"-n", src_, "-"}, "-n" + to_stdout},
      {{"-p", src_, "-"}, "-p, -a and --preserve" + to_stdout},
      {{"-a", "-", dst_}, "-p, -a and --preserve" + from_stdin},
      {{"--resume-by-content", "-", dst_}, "--resume-by-content" + from_stdin},
      {{"--bwlimit", "1M", src_, "-"},
       "--bwlimit" + to_stdout + ": it paces workers, and a stream is copied by one process"},
      {{"--resume", "-", dst_}, "--resume" + from_stdin},
      {{"-u", "-", dst_}, "-u" + from_stdin},
      {{"--reflink=always", "-", dst_}, "--reflink=always" + from_stdin},
      {{"-t", "-", src_},
       "-t takes a directory, and '-' is standard output (a directory named "
       "'-' is './-')"},
      {{"--compare", "-", src_},
       "--compare reads two files by offset, not standard input (a "
       "file named '-' is './-')"},
  };
  for (const auto& c : cases) {
    const RunResult r = RunPcopy(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "pcopy: " + c.message + " (try 'pcopy --help')\n");
  }
  EXPECT_FALSE(Exists("-"));
  EXPECT_FALSE(Exists(dst_));
  // A directory as DEST would name the copy after SOURCE, and standard input has no name.
  const RunResult r = Shell("exec \"$0\" - \"$3\" < \"$1\"", {t_.path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: cannot copy standard input into directory " + Quoted(t_.path()) +
                       ": name the file to create\n");
  EXPECT_FALSE(Exists(t_ / "-"));
}

}  // namespace
}  // namespace pcopy::test
