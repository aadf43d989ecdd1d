// commit_faults_test.cc: failures while the copy is sized and published (os/temp_file.h),
// injected in-process through the SysCalls seam: whatever fails, DEST is as it was and no
// temporary is left, and the message names the call that failed. The same faults are injected
// into the real binary with strace in e2e_inject_test.cc; this is the first line.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "app/copy_job.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::MakeRandomFile;
using test::ReadFile;
using test::TempDir;

enum class Call { kFtruncate, kFsync, kFchmod, kClose, kRename, kDirectoryFsync };

// Fails one call of the parent's on the temporary (or its directory), once.
class CommitFaults final : public SysCalls {
 public:
  explicit CommitFaults(Call call, int err) : call_(call), err_(err) {}

  int openat(int dirfd, const char* path, int flags, mode_t mode) const override {
    const int fd = SysCalls::openat(dirfd, path, flags, mode);
    if (fd >= 0 && (flags & O_CREAT) != 0 &&
        std::string(path).find("/.pcopy-") != std::string::npos) {
      temp_fd_ = fd;
    }
    if (fd >= 0 && (flags & O_DIRECTORY) != 0) dir_fd_ = fd;
    return fd;
  }
  int ftruncate(int fd, off_t length) const override {
    if (Hit(Call::kFtruncate, fd == temp_fd_)) return Fail();
    return SysCalls::ftruncate(fd, length);
  }
  int fsync(int fd) const override {
    if (Hit(Call::kFsync, fd == temp_fd_) || Hit(Call::kDirectoryFsync, fd == dir_fd_)) {
      return Fail();
    }
    return SysCalls::fsync(fd);
  }
  int fchmod(int fd, mode_t mode) const override {
    if (Hit(Call::kFchmod, fd == temp_fd_)) return Fail();
    return SysCalls::fchmod(fd, mode);
  }
  int close(int fd) const override {
    if (Hit(Call::kClose, fd == temp_fd_)) {
      SysCalls::close(fd);  // Linux releases the descriptor even when close fails
      return Fail();
    }
    return SysCalls::close(fd);
  }
  int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                unsigned flags) const override {
    if (Hit(Call::kRename, true)) return Fail();
    return SysCalls::renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
  }
  bool hit() const { return hit_; }

 private:
  bool Hit(Call call, bool on_target) const {
    if (call != call_ || !on_target || hit_) return false;
    hit_ = true;
    return true;
  }
  int Fail() const {
    errno = err_;
    return -1;
  }

  Call call_;
  int err_;
  mutable int temp_fd_ = -1;
  mutable int dir_fd_ = -1;
  mutable bool hit_ = false;
};

struct CommitCase {
  const char* name;
  Call call;
  int err;
  const char* message;  // DST stands for the quoted DEST, DIR for its quoted directory
  bool published;       // the failure comes after the rename: DEST is the new copy
};

void PrintTo(const CommitCase& c, std::ostream* os) { *os << c.name; }

class CommitFaultTest : public ::testing::TestWithParam<CommitCase> {};

TEST_P(CommitFaultTest, DestAsItWasAndNothingLeft) {
  const CommitCase& c = GetParam();
  for (const bool had_dest : {false, true}) {
    SCOPED_TRACE(had_dest ? "DEST existed" : "no DEST");
    TempDir t;
    const std::string src = t / "src", dst = t / "dst";
    MakeRandomFile(src, 3 << 20, 21);
    if (had_dest) test::WriteFile(dst, "the old content");
    Options o;
    o.source = src;
    o.dest = dst;
    o.jobs = 2;
    o.fsync = true;
    const CommitFaults sys(c.call, c.err);
    const CopyOutcome outcome = test::CopyInProcess(o, sys);
    ASSERT_TRUE(sys.hit()) << "the fault was never injected";
    EXPECT_EQ(outcome.exit_code, kExitFailure);
    std::string expected = c.message;
    for (const auto& [key, value] :
         {std::pair{std::string("DST"), test::Quoted(dst)}, {"DIR", test::Quoted(t.path())}}) {
      for (size_t at; (at = expected.find(key)) != std::string::npos;) {
        expected.replace(at, key.size(), value);
      }
    }
    EXPECT_EQ(outcome.status.ToString(), expected);
    EXPECT_TRUE(test::Temporaries(t.path()).empty()) << testing::PrintToString(t.List());
    if (c.published) {
      EXPECT_TRUE(test::SameBytes(src, dst));
    } else if (had_dest) {
      EXPECT_EQ(ReadFile(dst), "the old content");
    } else {
      EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Commit, CommitFaultTest,
    testing::Values(
        CommitCase{"ftruncate_efbig", Call::kFtruncate, EFBIG,
                   "cannot set the size of DST: File too large", false},
        CommitCase{"fsync_eio", Call::kFsync, EIO, "fsync DST: Input/output error", false},
        CommitCase{"fchmod_eperm", Call::kFchmod, EPERM,
                   "set permissions of DST: Operation not permitted", false},
        CommitCase{"close_enospc", Call::kClose, ENOSPC, "close DST: No space left on device",
                   false},
        CommitCase{"rename_exdev", Call::kRename, EXDEV,
                   "cannot rename temporary file to DST: Invalid cross-device link", false},
        CommitCase{"directory_fsync_eio", Call::kDirectoryFsync, EIO,
                   "fsync directory DIR: Input/output error", true}),
    [](const testing::TestParamInfo<CommitCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace pcopy
