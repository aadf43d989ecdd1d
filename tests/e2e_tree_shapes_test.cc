// End-to-end tests of tree copies on unusual shapes: deeper than PATH_MAX, names with newlines,
// invalid UTF-8 and leading dashes, empty directories and files, many small files with a few
// large ones, and -x at a mount point.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "base/unique_fd.h"
#include "os/remove_tree.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy::test {
namespace {

using Lines = std::vector<std::string>;

// Counts the levels under root, following the single subdirectory "d" of each, by descriptor.
int Depth(const std::string& root, std::string* leaf_bytes) {
  UniqueFd dir(open(root.c_str(), O_RDONLY | O_DIRECTORY));
  int depth = 0;
  for (;;) {
    UniqueFd next(openat(dir.get(), "d", O_RDONLY | O_DIRECTORY));
    if (!next.valid()) break;
    dir = std::move(next);
    ++depth;
  }
  UniqueFd leaf(openat(dir.get(), "leaf", O_RDONLY));
  char buf[64] = {};
  const ssize_t n = leaf.valid() ? read(leaf.get(), buf, sizeof buf) : -1;
  *leaf_bytes = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  return depth;
}

TEST(E2eTreeShapes, ATreeDeeperThanPathMaxIsCopied) {
  TempDir tmp;
  // On a tmpfs where possible: 20,000 directories made and removed on a loaded ext4 take tens
  // of seconds, on a tmpfs one or two.
  std::unique_ptr<TmpfsMount> mount;
  if (IsRoot()) mount = std::make_unique<TmpfsMount>(tmp.path(), "size=256m");
  const TempDir& t = tmp;
  const std::string src = t / "src";
  ASSERT_EQ(0, mkdir(src.c_str(), 0755));
  UniqueFd dir(open(src.c_str(), O_RDONLY | O_DIRECTORY));
  constexpr int kLevels = 5000;  // 10,000 bytes of path: more than twice PATH_MAX
  for (int i = 0; i < kLevels; ++i) {
    ASSERT_EQ(0, mkdirat(dir.get(), "d", 0755));
    dir = UniqueFd(openat(dir.get(), "d", O_RDONLY | O_DIRECTORY));
    ASSERT_TRUE(dir.valid()) << i;
  }
  UniqueFd leaf(openat(dir.get(), "leaf", O_WRONLY | O_CREAT, 0644));
  ASSERT_EQ(4, write(leaf.get(), "deep", 4));
  const RunResult r = RunPcopy({"-r", src, t / "dst"});
  EXPECT_EQ(0, r.exit_code) << r.err.substr(0, 500);
  std::string bytes;
  EXPECT_EQ(kLevels, Depth(t / "dst", &bytes));
  EXPECT_EQ("deep", bytes);
  // The test's own TempDir cannot remove what is deeper than PATH_MAX by path: pcopy's removal
  // of a dead run's tree can, and is exercised here.
  UniqueFd top(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));
  for (const char* name : {"src", "dst"}) {
    EXPECT_OK(RemoveTree(RealSysCalls(), top.get(), name, name));
  }
}

TEST(E2eTreeShapes, HostileNamesAreCopiedExactlyAndQuotedInMessages) {
  TempDir t;
  const std::string src = t / "src";
  ASSERT_EQ(0, mkdir(src.c_str(), 0755));
  const Lines names = {"new\nline",     std::string("bad\xff\xfeutf8", 9),
                       "-leading-dash", " space ",
                       "tab\there",     "quote'd",
                       "back\\slash"};
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_EQ(0, mkdir((src + "/" + names[i]).c_str(), 0755));
    MakeRandomFile(src + "/" + names[i] + "/" + names[i], 100 + i, i);
  }
  const RunResult r = RunPcopy({"-rv", src, t / "dst"});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src, t / "dst"));
  EXPECT_NE(std::string::npos, r.out.find(Quote(src + "/new\nline") + " -> ")) << r.out;
  // Every -v line is one line: the newline in a name is written as an escape.
  size_t lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(2 * names.size() + 1, lines) << r.out;  // dirs, files, the root
  EXPECT_TRUE(OnlyCopiedLines(r.out));
  EXPECT_NE(r.err.find("pcopy: method auto: "), std::string::npos) << r.err;
  EXPECT_NE(LastLine(r.err).find("pcopy: copied "), std::string::npos) << r.err;
}

TEST(E2eTreeShapes, EmptyDirectoriesAndEmptyFilesAreCopied) {
  TempDir t;
  const std::string src = t / "src";
  for (const char* d : {"", "/e1", "/e1/e2", "/e3"}) ASSERT_EQ(0, mkdir((src + d).c_str(), 0755));
  WriteFile(src + "/e3/zero", "");
  const RunResult r = RunPcopy({"-r", src, t / "dst"});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src, t / "dst"));
  const RunResult empty = RunPcopy({"-r", src + "/e1/e2", t / "dst2"});
  EXPECT_EQ(0, empty.exit_code) << empty.err;
  EXPECT_EQ(Lines{}, DirNames(t / "dst2"));
}

TEST(E2eTreeShapes, ManySmallFilesAndAFewLargeOnesWithEveryWorkerCount) {
  TempDir t;
  const std::string src = t / "src";
  ASSERT_EQ(0, mkdir(src.c_str(), 0755));
  for (int d = 0; d < 3; ++d) {
    const std::string dir = src + "/d" + std::to_string(d);
    ASSERT_EQ(0, mkdir(dir.c_str(), 0755));
    for (int f = 0; f < 100; ++f) {
      MakeRandomFile(dir + "/f" + std::to_string(f), static_cast<uint64_t>((f * 7919) % 9000), f);
    }
  }
  MakeRandomFile(src + "/d0/large1", (17 << 20) + 1, 77);
  MakeRandomFile(src + "/d2/large2", 20 << 20, 78);
  for (const char* jobs : {"1", "2", "5"}) {
    const std::string dst = t / (std::string("dst") + jobs);
    const RunResult r = RunPcopy({"-r", "-j", jobs, "--chunk-size", "2M", src, dst});
    EXPECT_EQ(0, r.exit_code) << jobs << ": " << r.err;
    EXPECT_EQ(Lines{}, TreeDifferences(src, dst)) << jobs;
  }
}

TEST(E2eTreeShapes, OneFileSystemSkipsWhatIsMountedInside) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a tmpfs inside the tree";
  TempDir t;
  const std::string src = t / "src";
  ASSERT_EQ(0, mkdir(src.c_str(), 0755));
  ASSERT_EQ(0, mkdir((src + "/mnt").c_str(), 0755));
  WriteFile(src + "/kept", "kept");
  TmpfsMount mount(src + "/mnt", "size=1m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  WriteFile(src + "/mnt/other-fs", "not copied with -x");
  const RunResult r = RunPcopy({"-rx", src, t / "dst"});
  EXPECT_EQ(0, r.exit_code) << r.err;
  // As cp -x: the mount point directory is copied, not what is mounted on it.
  EXPECT_EQ((Lines{"kept", "mnt"}), DirNames(t / "dst"));
  EXPECT_EQ(Lines{}, DirNames(t / "dst/mnt"));
  const RunResult all = RunPcopy({"-r", src, t / "dst2"});
  EXPECT_EQ(0, all.exit_code) << all.err;
  EXPECT_TRUE(Exists(t / "dst2/mnt/other-fs"));
}

}  // namespace
}  // namespace pcopy::test
