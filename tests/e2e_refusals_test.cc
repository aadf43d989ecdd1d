// e2e_refusals_test.cc: what the real pcopy binary refuses before it creates anything, in cp's
// words: a DEST this user may not write ("cannot create regular file 'x': Permission denied",
// unless -f), a DEST on a read-only file system, a copy onto itself named as the user typed it;
// and the verify step's data sync named after the call it makes (fdatasync).
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uid_t kNobody = 65534;
constexpr int kCannotBecome = 125;  // the child could not take the other identity

// Runs pcopy as uid and gid `as` (after dropping root) or, when as is our own uid, as ourselves.
// The outputs are opened before the identity changes.
RunResult RunPcopyAs(uid_t as, const std::vector<std::string>& args) {
  TempDir io;
  const std::string out = io / "stdout", err = io / "stderr";
  std::vector<std::string> argv = {PCOPY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) {
      _exit(kCannotBecome);
    }
    if (as != geteuid() &&
        (setgroups(0, nullptr) != 0 || setresgid(as, as, as) != 0 || setresuid(as, as, as) != 0)) {
      _exit(kCannotBecome);
    }
    execv(raw[0], raw.data());
    _exit(kCannotBecome);
  }
  RunResult r;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// A read-only DEST of one's own, in a directory where one may create files. As root (whom
// permission bits do not stop) the test runs pcopy as nobody, the owner of DEST, in a directory
// open to all (and not sticky, so -f may rename over DEST).
class E2eRefusalsReadOnlyDest : public testing::Test {
 protected:
  void SetUp() override {
    user_ = IsRoot() ? kNobody : geteuid();
    src_ = t_ / "src";
    dst_ = t_ / "dst";
    MakeRandomFile(src_, 2 * kMiB + 3, 111);
    WriteFile(dst_, "read-only, and not to be replaced without -f\n");
    ASSERT_EQ(chmod(src_.c_str(), 0644), 0);
    ASSERT_EQ(chmod(dst_.c_str(), 0444), 0);
    ASSERT_EQ(chmod(t_.path().c_str(), 0777), 0);
    if (IsRoot()) {
      ASSERT_EQ(chown(dst_.c_str(), kNobody, kNobody), 0) << strerror(errno);
    }
    old_ = ReadFile(dst_);
  }

  TempDir t_;
  uid_t user_ = 0;
  std::string src_, dst_, old_;
};

TEST_F(E2eRefusalsReadOnlyDest, RefusedAsCpRefusesThenReplacedWithForce) {
  const RunResult r = RunPcopyAs(user_, {"-j", "2", src_, dst_});
  if (r.exit_code == kCannotBecome) {
    GTEST_SKIP() << "cannot run pcopy as uid " << user_ << " here (setresuid, or " << t_.path()
                 << " or the pcopy binary out of its reach)";
  }
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pcopy: cannot create regular file " + Quoted(dst_) + ": Permission denied\n");
  EXPECT_EQ(ReadFile(dst_), old_);
  EXPECT_EQ(ModeOf(dst_), 0444u);
  EXPECT_EQ(t_.List(), (std::vector<std::string>{"dst", "src"})) << "a temporary was created";

  for (const char* force : {"-f", "--force"}) {
    SCOPED_TRACE(force);
    ASSERT_EQ(chmod(dst_.c_str(), 0444), 0);
    const RunResult f = RunPcopyAs(user_, {"-j", "2", force, src_, dst_});
    EXPECT_EQ(f.exit_code, 0) << f.err;
    EXPECT_EQ(f.err, "");
    EXPECT_TRUE(SameBytes(src_, dst_));
    EXPECT_EQ(t_.List(), (std::vector<std::string>{"dst", "src"}));
  }
  struct stat st {};
  ASSERT_EQ(stat(dst_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user_) << "the copy belongs to whoever made it";
}

// -n wins over the refusal, as with cp: DEST exists, so there is nothing to do.
TEST_F(E2eRefusalsReadOnlyDest, NoClobberSkipsQuietly) {
  const RunResult r = RunPcopyAs(user_, {"-n", src_, dst_});
  if (r.exit_code == kCannotBecome) GTEST_SKIP() << "cannot run pcopy as uid " << user_;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ReadFile(dst_), old_);
}

// Permission bits do not stop root, for cp or for pcopy.
TEST(E2eRefusals, RootReplacesAReadOnlyDest) {
  if (!IsRoot()) GTEST_SKIP() << "only root passes the permission bits";
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 5, 112);
  WriteFile(dst, "old");
  ASSERT_EQ(chmod(dst.c_str(), 0444), 0);
  const RunResult r = RunPcopy({src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src, dst));
}

TEST(E2eRefusals, DestOnAReadOnlyFileSystemIsRefusedBeforeAnything) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a tmpfs";
  TempDir t;
  const std::string src = t / "src", mnt = t / "mnt", dst = mnt + "/dst";
  MakeRandomFile(src, kMiB + 9, 113);
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  TmpfsMount mount(mnt, "size=4m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  WriteFile(dst, "on a file system about to become read-only");
  ASSERT_EQ(::mount(nullptr, mnt.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
      << strerror(errno);
  for (const char* force : {"", "-f"}) {
    SCOPED_TRACE(force);
    std::vector<std::string> args = {"-j", "2", src, dst};
    if (*force != '\0') args.insert(args.begin(), force);
    const RunResult r = RunPcopy(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err,
              "pcopy: cannot create regular file " + Quoted(dst) + ": Read-only file system\n");
    EXPECT_EQ(ReadFile(dst), "on a file system about to become read-only");
  }
}

// cp: "'foo' and 'link' are the same file": the operands as typed, not the resolved target.
TEST(E2eRefusals, SameFileNamesTheOperandsAsTyped) {
  TempDir t;
  const std::string src = t / "foo", link = t / "link", dir_link = t / "dir-link";
  MakeRandomFile(src, kMiB + 1, 114);
  ASSERT_EQ(symlink("foo", link.c_str()), 0);
  ASSERT_EQ(symlink(".", dir_link.c_str()), 0);
  RunResult r = RunPcopy({"-j", "2", src, link});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: " + Quoted(src) + " and " + Quoted(link) + " are the same file\n");
  r = RunPcopy({src, dir_link});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "pcopy: " + Quoted(src) + " and " + Quoted(dir_link + "/foo") + " are the same file\n");
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dir-link", "foo", "link"}));
}

// --verify reads the copy back after fdatasync(2); a failure there is named after that call.
TEST(E2eRefusals, VerifySyncFailureSaysFdatasync) {
  TempDir t, io;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 3 * kMiB, 115);
  const std::string out = io / "out", err = io / "err";
  if (RunWithOutputs({"strace", "-f", "-o", "/dev/null", "true"}, out, err, 30000).code != 0) {
    GTEST_SKIP() << "strace cannot trace here: " << ReadFile(err);
  }
  // LeakSanitizer cannot run under ptrace: in the sanitizer build it would abort pcopy at exit.
  const ExitStatus e =
      RunWithOutputs({"strace", "-f", "-o", "/dev/null", "-E", "ASAN_OPTIONS=detect_leaks=0", "-e",
                      "trace=fdatasync", "-e", "inject=fdatasync:error=EIO", PCOPY_BINARY, "-j",
                      "2", "--verify", src, dst},
                     out, err, 60000);
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(ReadFile(err), "pcopy: fdatasync " + Quoted(dst) + ": Input/output error\n");
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

}  // namespace
}  // namespace pcopy::test
