// e2e_tree_reflink_test.cc: --reflink for trees. On loop-mounted xfs (reflink=1) and btrfs, a
// tree of small files, a large file split into chunks (each cloned by the worker that takes it,
// FICLONERANGE, the last one ending at an unaligned end of file) and a sparse large file is
// copied with -r and with -a: every mode gives the same bytes, auto and always share every data
// extent (FIEMAP), never shares none, and the sparse file keeps its holes; into an existing tree
// too, where each file is replaced through a temporary. always from the loop mount to another
// file system fails in one line naming both paths, with no DEST tree and no hidden directory
// left. A range clone declined under auto (a fake ioctl, inherited by the forked workers) falls
// back to copying that file's chunks; under always, or failing otherwise, it is that file's one
// error line. The mounts need root; elsewhere those tests skip.
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "app/options.h"
#include "app/tree_job.h"
#include "clone_fs_test_util.h"
#include "e2e_copy_util.h"
#include "os/signal_guard.h"
#include "sparse_test_util.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy::test {
namespace {

using Lines = std::vector<std::string>;

// 4M chunks: the large files are split (they pass the 16 MiB threshold), into about ten chunks.
const Lines kChunks = {"-j", "2", "--chunk-size", "4M"};
constexpr uint64_t kBigSize = 40 * kMiB + 12345;  // its last chunk ends inside a block
constexpr uint64_t kSparseSize = 48 * kMiB + 100;
const std::vector<ByteRange> kSparseData = {
    {kMiB, 2 * kMiB}, {30 * kMiB, 5000}, {48 * kMiB - 4096, 4196}};

// Files whose data sit in extents of their own (btrfs keeps a file under 2 KiB inline in its
// metadata, which a clone copies rather than shares), and the bytes each must share when cloned.
struct SharedFile {
  const char* name;
  uint64_t data;
};
const SharedFile kSharedFiles[] = {{"a", 5000},
                                   {"sub/b", 64 * kKiB + 3},
                                   {"sub/deep/c", kMiB},
                                   {"big", kBigSize},
                                   {"sparse", 2 * kMiB + 5000 + 4196}};

void MakeTree(const std::string& root) {
  ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root + "/sub").c_str(), 0750), 0);
  ASSERT_EQ(mkdir((root + "/sub/deep").c_str(), 0700), 0);
  uint64_t seed = 50;
  for (const SharedFile& f : kSharedFiles) {
    if (std::string(f.name) != "sparse") MakeRandomFile(root + "/" + f.name, f.data, ++seed);
  }
  MakeSparseFile(root + "/sparse", kSparseSize, kSparseData, ++seed);
  MakeRandomFile(root + "/tiny", 100, ++seed);
  WriteFile(root + "/sub/empty", "");
  ASSERT_EQ(symlink("sub/b", (root + "/link").c_str()), 0);
}

class E2eTreeReflink : public CloneFsTest {
 protected:
  void SetUp() override {
    CloneFsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    MakeTree(src_);
  }

  // Every file that holds data shares all of it with the source (cloned), or none (copied).
  static void ExpectShared(const std::string& dst, bool cloned) {
    for (const SharedFile& f : kSharedFiles) {
      SCOPED_TRACE(f.name);
      const uint64_t shared = SharedBytes(dst + "/" + f.name);
      if (cloned) {
        EXPECT_GE(shared, f.data) << "not a reflink of the source";
      } else {
        EXPECT_EQ(shared, 0u);
      }
    }
  }

  const std::string src_ = mnt_ + "/src", dst_ = mnt_ + "/dst";
};

TEST_P(E2eTreeReflink, EveryModeCopiesTheBytesAndOnlyAutoAndAlwaysShareThem) {
  for (const char* copy : {"-r", "-a"}) {
    for (const char* mode : {"auto", "always", "never"}) {
      SCOPED_TRACE(std::string(copy) + " --reflink=" + mode);
      const std::string dst = dst_ + copy + mode;
      Lines args = {copy, std::string("--reflink=") + mode};
      args.insert(args.end(), kChunks.begin(), kChunks.end());
      args.insert(args.end(), {src_, dst});
      const RunResult r = RunPcopy(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.err, "");
      const bool all = std::string(copy) == "-a";
      EXPECT_EQ(TreeDifferences(src_, dst, TreeCompare{all, all, all}), Lines{});
      EXPECT_TRUE(SameSparseFile(src_ + "/sparse", dst + "/sparse"));
      ExpectShared(dst, std::string(mode) != "never");
      EXPECT_TRUE(Temporaries(mnt_).empty());
    }
  }
}

// Into an existing tree each file is replaced through a temporary (O_TMPFILE), cloned all the
// same.
TEST_P(E2eTreeReflink, IntoAnExistingTreeEveryFileBecomesAClone) {
  Lines args = {"-r", "--reflink=never"};
  args.insert(args.end(), kChunks.begin(), kChunks.end());
  args.insert(args.end(), {src_, dst_});
  ASSERT_EQ(RunPcopy(args).exit_code, 0);
  ExpectShared(dst_, false);
  args[0] = "-rT";
  args[1] = "--reflink=always";
  const RunResult r = RunPcopy(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(TreeDifferences(src_, dst_), Lines{});
  ExpectShared(dst_, true);
  EXPECT_TRUE(Temporaries(dst_).empty());
}

// SOURCE on the loop mount, DEST on $TMPDIR's file system: no clone crosses file systems, and
// always says so once, before it creates anything.
TEST_P(E2eTreeReflink, AlwaysAcrossFileSystemsFailsInOneLineAndLeavesNoTree) {
  TempDir other;
  const std::string dst = other / "dst";
  const RunResult r = RunPcopy({"-r", "--reflink=always", src_, dst});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pcopy: cannot clone " + Quoted(src_) + " to " + Quoted(dst) +
                       ": Invalid cross-device link\n");
  EXPECT_EQ(other.List(), Lines{}) << "no DEST tree, no hidden directory";
  // auto copies the data instead.
  const RunResult copied = RunPcopy({"-r", "--reflink=auto", src_, dst});
  EXPECT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_EQ(TreeDifferences(src_, dst), Lines{});
}

// FICLONERANGE answers `err`; FICLONE (the small files') is the kernel's.
class FailingRangeClone final : public SysCalls {
 public:
  explicit FailingRangeClone(int err) : err_(err) {}
  int ioctl(int fd, unsigned long request, void* arg) const override {
    if (request != FICLONERANGE) return SysCalls::ioctl(fd, request, arg);
    errno = err_;
    return -1;
  }

 private:
  int err_;
};

TEST_P(E2eTreeReflink, ADeclinedRangeCloneFallsBackToACopyOfTheChunks) {
  FailingRangeClone sys(EOPNOTSUPP);
  // pread, since copy_file_range would share the extents by itself here.
  Lines args = {"-r", "--reflink=auto", "--method", "pread"};
  args.insert(args.end(), kChunks.begin(), kChunks.end());
  args.insert(args.end(), {src_, dst_});
  std::string err;
  const CopyOutcome out = CopyCommandInProcess(args, sys, &err);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(err, "");
  EXPECT_EQ(TreeDifferences(src_, dst_), Lines{});
  EXPECT_TRUE(SameSparseFile(src_ + "/sparse", dst_ + "/sparse"));
  EXPECT_EQ(SharedBytes(dst_ + "/big"), 0u);   // copied, chunk by chunk
  EXPECT_GE(SharedBytes(dst_ + "/a"), 5000u);  // cloned whole by FICLONE
}

// Under always a declined range clone, and under auto any other failure, is the file's error:
// one line naming both files, the rest of the tree copied, exit 1.
TEST_P(E2eTreeReflink, AFailedRangeCloneIsTheFilesError) {
  struct Case {
    const char* mode;
    int err;
  };
  for (const Case& c : {Case{"always", EOPNOTSUPP}, Case{"auto", EIO}}) {
    SCOPED_TRACE(c.mode);
    const std::string dst = dst_ + c.mode;
    FailingRangeClone sys(c.err);
    Lines args = {"-r", std::string("--reflink=") + c.mode};
    args.insert(args.end(), kChunks.begin(), kChunks.end());
    args.insert(args.end(), {src_, dst});
    std::string err;
    const CopyOutcome out = CopyCommandInProcess(args, sys, &err);
    EXPECT_EQ(out.exit_code, 1);
    const std::string line = "pcopy: cannot clone " + Quoted(src_ + "/big") + " to " +
                             Quoted(dst + "/big") + ": " + strerror(c.err) + "\n";
    // The sparse file is split too, and fails the same way.
    EXPECT_NE(err.find(line), std::string::npos) << err;
    EXPECT_FALSE(Exists(dst + "/big"));
    EXPECT_TRUE(SameBytes(src_ + "/sub/deep/c", dst + "/sub/deep/c"));
    EXPECT_TRUE(Temporaries(dst).empty());
  }
}

INSTANTIATE_TEST_SUITE_P(FileSystems, E2eTreeReflink, CloneFileSystems(), CloneFsName);

// Within a file system that has no clone ($TMPDIR: ext4 or tmpfs here) always fails in one line
// before anything is created, and auto copies. No root needed.
TEST(E2eTreeReflinkRefused, AlwaysWhereNothingClonesFailsInOneLine) {
  TempDir t;
  struct statfs st;
  ASSERT_EQ(statfs(t.path().c_str(), &st), 0);
  if (st.f_type == 0x58465342 || st.f_type == 0x9123683E) {
    GTEST_SKIP() << "$TMPDIR is on a file system that can clone";
  }
  const std::string src = t / "src", dst = t / "dst";
  MakeSampleTree(src, 20 * kMiB);
  const RunResult r = RunPcopy({"-a", "--reflink=always", "-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: cannot clone " + Quoted(src) + " to " + Quoted(dst) +
                       ": Operation not supported\n");
  EXPECT_EQ(t.List(), Lines{"src"}) << "no DEST tree, no hidden directory";
  const RunResult copied = RunPcopy({"-a", "--reflink=auto", "-j", "2", src, dst});
  EXPECT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_EQ(TreeDifferences(src, dst, TreeCompare{true, true, true}), Lines{});
}

}  // namespace
}  // namespace pcopy::test
