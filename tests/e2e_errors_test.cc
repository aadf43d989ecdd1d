// e2e_errors_test.cc: what the real pcopy binary refuses. Bad usage exits 2 and touches nothing;
// a runtime refusal exits 1 with one line naming the path and the cause, and leaves the source
// byte-identical, DEST as it was and no temporary behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

bool IsKind(const std::string& path, mode_t kind) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

// Changes the working directory for a scope; pcopy inherits it.
class ScopedChdir {
 public:
  explicit ScopedChdir(const std::string& dir) {
    char buf[4096];
    if (getcwd(buf, sizeof buf) != nullptr) old_ = buf;
    ok_ = chdir(dir.c_str()) == 0;
  }
  ~ScopedChdir() {
    if (!old_.empty() && chdir(old_.c_str()) != 0) ADD_FAILURE() << "cannot chdir back to " << old_;
  }
  ScopedChdir(const ScopedChdir&) = delete;
  ScopedChdir& operator=(const ScopedChdir&) = delete;
  bool ok() const { return ok_; }

 private:
  std::string old_;
  bool ok_ = false;
};

// Runs pcopy in the background and fails (instead of hanging the suite) if it does not exit.
RunResult RunWithTimeout(const std::vector<std::string>& args, int timeout_ms = kHangTimeoutMs) {
  PcopyProcess p(args);
  if (!p.WaitForExit(timeout_ms)) {
    ADD_FAILURE() << "pcopy did not exit within " << timeout_ms
                  << " ms: " << testing::PrintToString(args);
    kill(p.pid(), SIGKILL);
  }
  return p.Finish();
}

void ExpectRefused(const RunResult& r, const std::vector<std::string>& must_contain) {
  EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
  for (const std::string& s : must_contain) {
    EXPECT_NE(r.err.find(s), std::string::npos) << "expected [" << s << "] in: " << r.err;
  }
}

// ---------------------------------------------------------------------------------------------
// Usage errors: exit 2, one line, nothing touched.

struct UsageCase {
  const char* name;
  std::vector<std::string> args;  // "SRC", "DST" and "DST2" are replaced by real paths
  const char* message;            // expected in the error line
};

void PrintTo(const UsageCase& c, std::ostream* os) {
  *os << c.name << ":";
  for (const std::string& a : c.args) *os << " " << a;
}

std::string UsageName(const testing::TestParamInfo<UsageCase>& info) { return info.param.name; }

class E2eErrorsUsage : public testing::TestWithParam<UsageCase> {
 protected:
  // Runs the case against a source and a DEST that is absent or present; checks that nothing
  // changed on disk.
  void Check(bool dest_exists) {
    TempDir t;
    const std::string src = t / "src", dst = t / "dst", dst2 = t / "dst2";
    MakeRandomFile(src, kMiB + 7, 21);
    const std::string src_bytes = ReadFile(src);
    std::string old_dest;
    if (dest_exists) {
      MakeRandomFile(dst, 3 * 4096, 22);
      old_dest = ReadFile(dst);
    }
    const std::vector<std::string> before = t.List();

    std::vector<std::string> args;
    for (const std::string& a : GetParam().args) {
      args.push_back(a == "SRC" ? src : a == "DST" ? dst : a == "DST2" ? dst2 : a);
    }
    const RunResult r = RunWithTimeout(args);
    EXPECT_EQ(r.exit_code, 2) << "stderr: " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("pcopy: ", 0), 0u) << r.err;
    EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
    EXPECT_NE(r.err.find(GetParam().message), std::string::npos)
        << "expected [" << GetParam().message << "] in: " << r.err;

    EXPECT_EQ(t.List(), before) << "the directory changed";
    EXPECT_EQ(ReadFile(src), src_bytes) << "the source changed";
    if (dest_exists) {
      EXPECT_EQ(ReadFile(dst), old_dest) << "DEST changed";
    }
  }
};

TEST_P(E2eErrorsUsage, ExitsTwoWhenDestAbsent) { Check(false); }
TEST_P(E2eErrorsUsage, ExitsTwoWhenDestExists) { Check(true); }

INSTANTIATE_TEST_SUITE_P(
    E2eErrors, E2eErrorsUsage,
    testing::Values(
        UsageCase{"JobsZero", {"-j", "0", "SRC", "DST"}, "invalid number of jobs: '0'"},
        UsageCase{"JobsNegative", {"-j", "-1", "SRC", "DST"}, "jobs"},
        UsageCase{"JobsNotANumber", {"-j", "abc", "SRC", "DST"}, "invalid number of jobs: 'abc'"},
        UsageCase{"JobsTooMany", {"-j", "1025", "SRC", "DST"}, "invalid number of jobs"},
        UsageCase{"JobsWithSuffix", {"-j", "2K", "SRC", "DST"}, "invalid number of jobs"},
        UsageCase{"ChunkSizeZero", {"--chunk-size", "0", "SRC", "DST"}, "invalid chunk size"},
        UsageCase{
            "ChunkSizeBadSuffix", {"--chunk-size", "1X", "SRC", "DST"}, "invalid chunk size: '1X'"},
        UsageCase{"BufferSizeZero", {"--buffer-size", "0", "SRC", "DST"}, "invalid buffer size"},
        UsageCase{"BufferSizeTooBig", {"--buffer-size", "2G", "SRC", "DST"}, "invalid buffer size"},
        UsageCase{"BwlimitJunk", {"--bwlimit", "fast", "SRC", "DST"}, "invalid bandwidth limit"},
        UsageCase{"MethodUnknown", {"--method", "nope", "SRC", "DST"}, "invalid method: 'nope'"},
        UsageCase{"ProgressUnknown",
                  {"--progress", "nope", "SRC", "DST"},
                  "invalid progress mode: 'nope'"},
        UsageCase{"StrategyUnknown", {"--strategy", "nope", "SRC", "DST"}, "invalid strategy"},
        UsageCase{"UnknownOption", {"--bogus", "SRC", "DST"}, "--bogus"},
        UsageCase{"MissingOptionValue", {"SRC", "DST", "-j"}, "jobs"},
        UsageCase{"OneOperand", {"SRC"}, "missing destination file operand"},
        UsageCase{"NoOperands", {"-q"}, "missing file operand"},
        UsageCase{"ThreeOperandsWithT", {"-T", "SRC", "DST", "DST2"}, "extra operand"},
        UsageCase{"TargetWithNoTarget", {"-t", "D", "-T", "SRC"}, "cannot combine"},
        UsageCase{
            "PreserveUnknown", {"--preserve=bogus", "SRC", "DST"}, "invalid argument 'bogus'"},
        UsageCase{"DereferenceTwice", {"-L", "-P", "SRC", "DST"}, "-P, -L and -H"},
        UsageCase{"VerifyManySources",
                  {"--verify", "A", "B", "DIR"},
                  "--verify and --print-digest copy one SOURCE"},
        UsageCase{"VerboseWithQuiet",
                  {"-v", "-q", "SRC", "DST"},
                  "--verbose and --quiet cannot be used together"},
        UsageCase{"DemoWithOperands", {"--demo", "SRC", "DST"}, "--demo takes no operands"}),
    UsageName);

// ---------------------------------------------------------------------------------------------
// Runtime refusals: exit 1.

TEST(E2eErrors, MissingSource) {
  TempDir t;
  const std::string src = t / "x", dst = t / "dst";
  const RunResult r = RunPcopy({src, dst});
  ExpectRefused(r, {});
  EXPECT_EQ(r.err,
            "pcopy: cannot open " + Quoted(src) + " for reading: No such file or directory\n");
  EXPECT_TRUE(t.List().empty());
}

TEST(E2eErrors, MissingSourceRelativeName) {
  TempDir t;
  ScopedChdir cd(t.path());
  ASSERT_TRUE(cd.ok());
  const RunResult r = RunPcopy({"x", "dst"});
  ExpectRefused(r, {});
  EXPECT_EQ(r.err, "pcopy: cannot open 'x' for reading: No such file or directory\n");
  EXPECT_TRUE(t.List().empty());
}

TEST(E2eErrors, DirectorySource) {
  TempDir t;
  const std::string src = t / "d", dst = t / "dst";
  ASSERT_EQ(mkdir(src.c_str(), 0755), 0);
  ExpectRefused(RunPcopy({src, dst}), {Quoted(src), "directory"});
  EXPECT_EQ(t.List(), std::vector<std::string>{"d"});
  EXPECT_TRUE(IsKind(src, S_IFDIR));
}

TEST(E2eErrors, FifoSourceDoesNotHang) {
  TempDir t;
  const std::string src = t / "fifo", dst = t / "dst";
  ASSERT_EQ(mkfifo(src.c_str(), 0644), 0);
  ExpectRefused(RunWithTimeout({"-j", "2", src, dst}), {Quoted(src), "FIFO"});
  EXPECT_EQ(t.List(), std::vector<std::string>{"fifo"});
  EXPECT_TRUE(IsKind(src, S_IFIFO));
}

TEST(E2eErrors, CharacterDeviceSource) {
  TempDir t;
  const std::string dst = t / "dst";
  ExpectRefused(RunWithTimeout({"/dev/null", dst}), {"'/dev/null'", "character device"});
  EXPECT_TRUE(t.List().empty());
}

TEST(E2eErrors, QuietStillReportsErrors) {
  TempDir t;
  const std::string src = t / "x", dst = t / "dst";
  const RunResult r = RunPcopy({"-q", src, dst});
  ExpectRefused(r, {Quoted(src), "No such file or directory"});
  EXPECT_TRUE(t.List().empty());
}

// ---------------------------------------------------------------------------------------------
// A copy onto itself, however it is named, must be refused before anything is written.

class E2eErrorsSameFile : public testing::Test {
 protected:
  void SetUp() override {
    src_ = t_ / "x";
    MakeRandomFile(src_, kMiB + 7, 23);
    bytes_ = ReadFile(src_);
  }
  // args as given (run from cwd); checks the refusal and that nothing changed.
  void ExpectSameFileRefused(const std::vector<std::string>& args) {
    const std::vector<std::string> before = t_.List();
    std::vector<std::string> all = {"-j", "3", "--chunk-size", "4K"};
    all.insert(all.end(), args.begin(), args.end());
    const RunResult r = RunPcopy(all);
    ExpectRefused(r, {"are the same file"});
    EXPECT_EQ(ReadFile(src_), bytes_) << "the source was modified";
    EXPECT_EQ(t_.List(), before);
    EXPECT_TRUE(Temporaries(t_.path()).empty());
  }

  TempDir t_;
  std::string src_;
  std::string bytes_;
};

TEST_F(E2eErrorsSameFile, SamePath) { ExpectSameFileRefused({src_, src_}); }

TEST_F(E2eErrorsSameFile, DotSlash) {
  ScopedChdir cd(t_.path());
  ASSERT_TRUE(cd.ok());
  ExpectSameFileRefused({"x", "./x"});
}

TEST_F(E2eErrorsSameFile, DestSymlinkToSource) {
  ASSERT_EQ(symlink("x", (t_ / "link").c_str()), 0);
  ExpectSameFileRefused({src_, t_ / "link"});
  EXPECT_TRUE(IsKind(t_ / "link", S_IFLNK));
}

TEST_F(E2eErrorsSameFile, SourceSymlinkToDest) {
  ASSERT_EQ(symlink("x", (t_ / "link").c_str()), 0);
  ExpectSameFileRefused({t_ / "link", src_});
}

TEST_F(E2eErrorsSameFile, HardLink) {
  ASSERT_EQ(link(src_.c_str(), (t_ / "hard").c_str()), 0);
  ExpectSameFileRefused({src_, t_ / "hard"});
  struct stat a {
  }, b{};
  ASSERT_EQ(stat(src_.c_str(), &a), 0);
  ASSERT_EQ(stat((t_ / "hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "the hard link was broken";
}

TEST_F(E2eErrorsSameFile, DotDirectory) {
  ScopedChdir cd(t_.path());
  ASSERT_TRUE(cd.ok());
  ExpectSameFileRefused({"x", "."});
}

TEST_F(E2eErrorsSameFile, OwnDirectory) { ExpectSameFileRefused({src_, t_.path()}); }

// ---------------------------------------------------------------------------------------------
// Destinations that cannot be written.

TEST(E2eErrors, UnwritableDestDirectory) {
  TempDir t;
  const std::string src = t / "src", ro = t / "ro", dst = ro + "/dst";
  MakeRandomFile(src, kMiB + 7, 24);
  ASSERT_EQ(mkdir(ro.c_str(), 0755), 0);
  std::unique_ptr<TmpfsMount> mount;
  if (IsRoot()) {
    // Permission bits do not stop root: a read-only file system does.
    mount = std::make_unique<TmpfsMount>(ro, "size=1m", MS_RDONLY);
    if (!mount->mounted()) GTEST_SKIP() << "cannot mount a read-only tmpfs: " << mount->error();
  } else {
    ASSERT_EQ(chmod(ro.c_str(), 0555), 0);
  }
  const RunResult r = RunPcopy({"-j", "2", src, dst});
  ExpectRefused(r, {Quoted(dst)});
  EXPECT_TRUE(r.err.find("Read-only file system") != std::string::npos ||
              r.err.find("Permission denied") != std::string::npos)
      << r.err;
  EXPECT_TRUE(ListDir(ro).empty());
}

TEST(E2eErrors, DestDirectoryMissing) {
  TempDir t;
  const std::string src = t / "src", dst = t / "nodir/dst";
  MakeRandomFile(src, 4097, 25);
  ExpectRefused(RunPcopy({src, dst}), {Quoted(dst), "No such file or directory"});
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

TEST(E2eErrors, TrailingSlashOnFile) {
  TempDir t;
  const std::string src = t / "src", file = t / "file";
  MakeRandomFile(src, 4097, 26);
  WriteFile(file, "not a directory");
  ExpectRefused(RunPcopy({src, file + "/"}), {Quoted(file + "/"), "Not a directory"});
  EXPECT_EQ(ReadFile(file), "not a directory");
  EXPECT_EQ(t.List(), (std::vector<std::string>{"file", "src"}));
}

TEST(E2eErrors, TrailingSlashOnMissingName) {
  TempDir t;
  const std::string src = t / "src", dst = t / "new/";
  MakeRandomFile(src, 4097, 27);
  ExpectRefused(RunPcopy({src, dst}), {Quoted(dst)});
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

TEST(E2eErrors, DanglingSymlinkDest) {
  TempDir t;
  const std::string src = t / "src", link = t / "link";
  MakeRandomFile(src, 4097, 28);
  ASSERT_EQ(symlink("missing-target", link.c_str()), 0);
  ExpectRefused(RunPcopy({src, link}), {Quoted(link), "dangling symlink"});
  EXPECT_TRUE(IsKind(link, S_IFLNK));
  char target[256] = {};
  ASSERT_GT(readlink(link.c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "missing-target");
  EXPECT_FALSE(Exists(t / "missing-target"));
  EXPECT_EQ(t.List(), (std::vector<std::string>{"link", "src"}));
}

TEST(E2eErrors, DirectoryInTheWayInsideDestDirectory) {
  TempDir t;
  const std::string src = t / "data", out = t / "out";
  MakeRandomFile(src, 4097, 29);
  ASSERT_EQ(mkdir(out.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((out + "/data").c_str(), 0755), 0);
  WriteFile(out + "/data/keep", "keep me");
  ExpectRefused(RunPcopy({src, out}), {Quoted(out + "/data"), "directory"});
  EXPECT_TRUE(IsKind(out + "/data", S_IFDIR));
  EXPECT_EQ(ReadFile(out + "/data/keep"), "keep me");
  EXPECT_EQ(ListDir(out), std::vector<std::string>{"data"});
  EXPECT_EQ(ListDir(out + "/data"), std::vector<std::string>{"keep"});
}

TEST(E2eErrors, FifoDestIsNotReplaced) {
  TempDir t;
  const std::string src = t / "src", fifo = t / "fifo";
  MakeRandomFile(src, kMiB + 7, 30);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  ExpectRefused(RunWithTimeout({"-j", "2", src, fifo}), {Quoted(fifo), "not a regular file"});
  EXPECT_TRUE(IsKind(fifo, S_IFIFO)) << "the FIFO was replaced";
  EXPECT_EQ(t.List(), (std::vector<std::string>{"fifo", "src"}));
}

TEST(E2eErrors, CharDeviceDestIsNotReplaced) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to create a device node";
  TempDir t;
  const std::string src = t / "src", dev = t / "null";
  MakeRandomFile(src, 4097, 31);
  if (mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod: " << strerror(errno);
  }
  ExpectRefused(RunWithTimeout({src, dev}), {Quoted(dev), "not a regular file"});
  EXPECT_TRUE(IsKind(dev, S_IFCHR)) << "the device node was replaced";
  EXPECT_EQ(t.List(), (std::vector<std::string>{"null", "src"}));
}

}  // namespace
}  // namespace pcopy::test
