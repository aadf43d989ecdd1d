// e2e_reflink_test.cc: --reflink through the real binary. On loop-mounted xfs (reflink=1) and
// btrfs, auto and always clone (every extent of DEST shared, by FIEMAP) and never copies the
// data (no extent shared); a clone keeps the holes, passes --verify and prints the digest. Where
// no clone is possible (ext4, tmpfs, across file systems) always fails in one line naming both
// files and the cause, and DEST is untouched; a clone declined under auto falls back to a copy.
// Bad values are usage errors. The mounts need root; elsewhere those tests skip.
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "clone_fs_test_util.h"
#include "e2e_copy_util.h"
#include "sparse_test_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

class E2eReflink : public CloneFsTest {
 protected:
  void SetUp() override {
    CloneFsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    MakeRandomFile(src_, 24 * kMiB + 5, 31);
  }

  const std::string src_ = mnt_ + "/src", dst_ = mnt_ + "/dst";
};

TEST_P(E2eReflink, AutoAndAlwaysClone) {
  for (const char* mode : {"--reflink=auto", "--reflink=always"}) {
    SCOPED_TRACE(mode);
    const RunResult r = RunPcopy({"-v", mode, "-j", "2", src_, dst_});
    ExpectCopied(r, src_, dst_, false);
    EXPECT_NE(r.err.find("pcopy: cloned 24.0 MiB in "), std::string::npos) << r.err;
    EXPECT_GE(SharedBytes(dst_), SizeOf(src_)) << "the copy is not a reflink of SOURCE";
  }
}

TEST_P(E2eReflink, NeverCopiesTheData) {
  const RunResult r = RunPcopy({"-v", "--reflink=never", "-j", "2", src_, dst_});
  ExpectCopied(r, src_, dst_, false);
  EXPECT_EQ(r.err.find("cloned"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("method pread/pwrite"), std::string::npos) << r.err;
  EXPECT_EQ(SharedBytes(dst_), 0u);
}

TEST_P(E2eReflink, CloneKeepsHolesAndPassesVerify) {
  const std::string sparse = mnt_ + "/sparse";
  MakeSparseFile(sparse, 64 * kMiB, {{kMiB, kMiB}, {40 * kMiB, 3 * kKiB}}, 33);
  const RunResult sum = RunPcopy({"--checksum", sparse});
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  const RunResult r = RunPcopy({"--reflink=always", "--verify", "--print-digest", sparse, dst_});
  ExpectCopied(r, sparse, dst_, false);
  EXPECT_EQ(r.out, sum.out.substr(0, sum.out.find(' ')) + "  " + dst_ + "\n");
  EXPECT_LE(AllocatedBytes(dst_), AllocatedBytes(sparse));
  EXPECT_TRUE(SameSparseFile(sparse, dst_));
}

// SOURCE on the loop mount, DEST on $TMPDIR's file system: no clone crosses file systems.
TEST_P(E2eReflink, AlwaysAcrossFileSystemsFailsAndLeavesDest) {
  TempDir other;
  const std::string dst = other / "dst";
  WriteFile(dst, "the old content");
  const RunResult r = RunPcopy({"--reflink=always", src_, dst});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: cannot clone " + Quoted(src_) + " to " + Quoted(dst) +
                       ": Invalid cross-device link\n");
  EXPECT_EQ(ReadFile(dst), "the old content");
  EXPECT_EQ(other.List(), std::vector<std::string>{"dst"});
  // auto copies the data instead.
  ExpectCopied(RunPcopy({"--reflink=auto", src_, dst}), src_, dst);
}

// FICLONE declined (as by a file system mounted without reflink support): auto copies instead.
class DecliningClone final : public SysCalls {
 public:
  int ioctl(int fd, unsigned long request, void* arg) const override {
    if (request != FICLONE) return SysCalls::ioctl(fd, request, arg);
    errno = EOPNOTSUPP;
    return -1;
  }
};

TEST_P(E2eReflink, DeclinedCloneFallsBackToACopy) {
  Options o;
  o.source = src_;
  o.dest = dst_;
  o.jobs = 2;
  DecliningClone sys;
  const CopyOutcome out = CopyInProcess(o, sys);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_TRUE(SameBytes(src_, dst_));
  EXPECT_EQ(out.report.method.find("FICLONE"), std::string::npos) << out.report.method;
}

INSTANTIATE_TEST_SUITE_P(FileSystems, E2eReflink, CloneFileSystems(), CloneFsName);

// ---------------------------------------------------------------------------------------------
// File systems that cannot clone: always fails, in one line, with DEST as it was.

void ExpectCloneRefused(const std::string& dir) {
  const std::string src = dir + "/a", dst = dir + "/b";
  MakeRandomFile(src, kMiB + 3, 41);
  WriteFile(dst, "the old content");
  const RunResult r = RunPcopy({"--reflink=always", "-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pcopy: cannot clone " + Quoted(src) + " to " + Quoted(dst) +
                       ": Operation not supported\n");
  EXPECT_EQ(ReadFile(dst), "the old content");
  EXPECT_TRUE(Temporaries(dir).empty());
}

TEST(E2eReflinkRefused, AlwaysOnTmpdir) {
  TempDir t;
  struct statfs st;
  ASSERT_EQ(statfs(t.path().c_str(), &st), 0);
  if (st.f_type == 0x58465342 || st.f_type == 0x9123683E) {
    GTEST_SKIP() << "$TMPDIR is on a file system that can clone";
  }
  ExpectCloneRefused(t.path());
}

TEST(E2eReflinkRefused, AlwaysOnTmpfs) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a tmpfs";
  TempDir t;
  const std::string mnt = t / "mnt";
  ASSERT_EQ(mkdir(mnt.c_str(), 0755), 0);
  TmpfsMount mount(mnt, "size=16m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  ExpectCloneRefused(mnt);
}

TEST(E2eReflinkRefused, BadValuesAreUsageErrors) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4096, 43);
  for (const char* bad : {"--reflink=yes", "--reflink=", "--reflink=Always"}) {
    SCOPED_TRACE(bad);
    const RunResult r = RunPcopy({bad, src, dst});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(IsOneLine(r.err)) << r.err;
    EXPECT_TRUE(EndsWith(r.err, " (try 'pcopy --help')\n")) << r.err;
    EXPECT_FALSE(Exists(dst));
  }
}

}  // namespace
}  // namespace pcopy::test
