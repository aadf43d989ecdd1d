// End-to-end tests of tree copies (-r, -a, -p, several sources, -t, -T): the real binary on
// real trees, compared entry by entry, with cp's messages and exit codes for bad operands.
#include <sys/stat.h>
#include <unistd.h>

#include "os/metadata.h"
#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy::test {
namespace {

using Lines = std::vector<std::string>;

class E2eTree : public ::testing::Test {
 protected:
  void SetUp() override { MakeSampleTree(src_); }

  TempDir dir_;
  const std::string src_ = dir_ / "src";
  const std::string dst_ = dir_ / "dst";
};

TEST_F(E2eTree, NewTreeIsACompleteCopyAndNothingElseIsLeft) {
  const RunResult r = RunPcopy({"-r", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("", r.err);
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_));
  EXPECT_EQ((Lines{"dst", "src"}), dir_.List());  // no hidden directory beside DEST
}

TEST_F(E2eTree, IntoAnExistingDirectoryGoesUnderTheSourceName) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  const RunResult r = RunPcopy({"-r", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_ + "/src"));
  EXPECT_EQ(Lines{"src"}, DirNames(dst_));
}

TEST_F(E2eTree, ALargeFileBesideSmallOnesIsCopiedInChunks) {
  MakeRandomFile(src_ + "/a/large", (40 << 20) + 12345, 9);
  const RunResult r = RunPcopy({"-r", "-j", "2", "--chunk-size", "1M", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_));
}

// With --method auto on pread/pwrite, the workers tune the write size of a large file's chunks
// (small files keep 32 KiB); -v says so before and reports each worker's size after.
TEST_F(E2eTree, ALargeFilesChunksTuneTheirWriteSize) {
  MakeRandomFile(src_ + "/a/large", (48 << 20) + 777, 10);
  const RunResult r = RunPcopy({"-rv", "-j", "2", "--chunk-size", "256K", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_));
  if (r.err.find("pcopy: method auto: SOURCE on ext4, DEST on ext4: ") == std::string::npos) {
    GTEST_SKIP() << "auto does not choose pread/pwrite here: " << r.err;
  }
  EXPECT_NE(r.err.find("pread/pwrite, each worker timing the chunks of large files to choose "
                       "writes of 32.0 KiB to 1.00 MiB (32.0 KiB for other files)"),
            std::string::npos)
      << r.err;
  const size_t w0 = r.err.find("\npcopy: worker 0: writes of ");
  const size_t w1 = r.err.find("\npcopy: worker 1: writes of ");
  EXPECT_NE(w0, std::string::npos) << r.err;
  EXPECT_NE(w1, std::string::npos) << r.err;
  EXPECT_LT(r.err.find("\npcopy: copied "), w0) << "after the summary: " << r.err;
  // Pinned: no tuning, no lines.
  const RunResult pinned =
      RunPcopy({"-rv", "-j", "2", "--buffer-size", "32K", src_, dir_ / "pinned"});
  EXPECT_EQ(0, pinned.exit_code) << pinned.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dir_ / "pinned"));
  EXPECT_EQ(pinned.err.find("timing"), std::string::npos) << pinned.err;
  EXPECT_EQ(pinned.err.find(": writes of "), std::string::npos) << pinned.err;
}

TEST_F(E2eTree, WithoutPreserveModesFollowTheUmaskAndTimesAreNew) {
  const RunResult r = RunPcopy({"-r", src_, dst_});
  ASSERT_EQ(0, r.exit_code) << r.err;
  struct stat st;
  ASSERT_EQ(0, stat((dst_ + "/a/b").c_str(), &st));
  EXPECT_EQ(0750u & ~CurrentMetadataEnv().umask, st.st_mode & 07777);
  EXPECT_NE(1300000000, st.st_mtim.tv_sec);
  ASSERT_EQ(0, stat((dst_ + "/ro/file").c_str(), &st));
  EXPECT_EQ(0444u & ~CurrentMetadataEnv().umask, st.st_mode & 07777);
}

TEST_F(E2eTree, PreserveKeepsModesAndTimesToTheNanosecond) {
  for (const Lines& flags : {Lines{"-rp"}, Lines{"-a"}, Lines{"-r", "--preserve=all"}}) {
    const std::string dst = dst_ + flags.back();
    Lines args = flags;
    args.insert(args.end(), {src_, dst});
    const RunResult r = RunPcopy(args);
    EXPECT_EQ(0, r.exit_code) << flags.back() << ": " << r.err;
    EXPECT_EQ(Lines{}, TreeDifferences(src_, dst, {.mode = true, .times = true, .owner = true}))
        << flags.back();
  }
}

TEST_F(E2eTree, NoPreserveTakesAttributesAway) {
  const RunResult r = RunPcopy({"-a", "--no-preserve=timestamps", src_, dst_});
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_, {.mode = true}));
  struct stat st;
  ASSERT_EQ(0, stat((dst_ + "/a/small").c_str(), &st));
  EXPECT_NE(1000000000, st.st_mtim.tv_sec);
}

TEST_F(E2eTree, SeveralSourcesGoIntoTheDirectory) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  const RunResult r = RunPcopy({"-r", src_ + "/a", src_ + "/top.txt", src_ + "/ro/file", dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_ + "/a", dst_ + "/a"));
  EXPECT_TRUE(SameBytes(src_ + "/top.txt", dst_ + "/top.txt"));
  EXPECT_TRUE(SameBytes(src_ + "/ro/file", dst_ + "/file"));
}

TEST_F(E2eTree, TargetDirectoryOptionTakesEveryOperandAsASource) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  const RunResult r = RunPcopy({"-t", dst_, src_ + "/top.txt", src_ + "/a/small"});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ((Lines{"small", "top.txt"}), DirNames(dst_));
  EXPECT_TRUE(SameBytes(src_ + "/a/small", dst_ + "/small"));
}

TEST_F(E2eTree, NoTargetDirectoryCopiesIntoTheExistingDirectoryItself) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  const RunResult r = RunPcopy({"-rT", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_));
}

TEST_F(E2eTree, ADirectoryWithoutRecursiveIsOmittedAndTheRestCopied) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  const RunResult r = RunPcopy({src_ + "/a", src_ + "/top.txt", dst_});
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos,
            r.err.find("pcopy: -r not specified; omitting directory " + Quoted(src_ + "/a")))
      << r.err;
  EXPECT_TRUE(SameBytes(src_ + "/top.txt", dst_ + "/top.txt"));
  EXPECT_FALSE(Exists(dst_ + "/a"));
}

TEST_F(E2eTree, AMissingSourceIsReportedAndTheOthersCopied) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  const RunResult r = RunPcopy({"-r", dir_ / "nosuch", src_, dst_});
  EXPECT_EQ(1, r.exit_code);
  EXPECT_NE(std::string::npos,
            r.err.find("cannot stat " + Quoted(dir_ / "nosuch") + ": No such file or directory"))
      << r.err;
  EXPECT_TRUE(IsOneLine(r.err)) << r.err;  // one error: no count after it
  const RunResult two = RunPcopy({"-r", dir_ / "nosuch", dir_ / "nosuch2", src_, dst_});
  EXPECT_EQ(1, two.exit_code);
  EXPECT_NE(std::string::npos, two.err.find("\npcopy: 2 entries could not be copied\n")) << two.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_ + "/src"));
}

TEST_F(E2eTree, ADirectoryIsNeverCopiedIntoItself) {
  for (const std::string& dst : {src_, src_ + "/a"}) {
    const Lines before = TreeListing(src_);
    const RunResult r = RunPcopy({"-r", src_, dst});
    EXPECT_EQ(1, r.exit_code);
    EXPECT_NE(std::string::npos, r.err.find("pcopy: cannot copy a directory, " + Quoted(src_) +
                                            ", into itself, " + Quoted(dst + "/src")))
        << r.err;
    EXPECT_EQ(before, TreeListing(src_));
  }
}

TEST_F(E2eTree, SeveralSourcesNeedADirectoryTarget) {
  const RunResult missing = RunPcopy({src_ + "/top.txt", src_ + "/a/small", dst_});
  EXPECT_EQ(1, missing.exit_code);
  EXPECT_EQ("pcopy: target " + Quoted(dst_) + ": No such file or directory\n", missing.err);
  WriteFile(dst_, "x");
  const RunResult file = RunPcopy({src_ + "/top.txt", src_ + "/a/small", dst_});
  EXPECT_EQ(1, file.exit_code);
  EXPECT_EQ("pcopy: target " + Quoted(dst_) + " is not a directory\n", file.err);
  EXPECT_EQ("x", ReadFile(dst_));
}

TEST_F(E2eTree, TargetAndNoTargetCannotBeCombined) {
  const RunResult r = RunPcopy({"-t", dst_, "-T", src_});
  EXPECT_EQ(2, r.exit_code);
  EXPECT_NE(std::string::npos, r.err.find("cannot combine --target-directory (-t) and "
                                          "--no-target-directory (-T)"))
      << r.err;
}

TEST_F(E2eTree, VerboseNamesEveryEntryAsCpDoes) {
  const RunResult r = RunPcopy({"-rv", src_ + "/a/b", dst_});
  ASSERT_EQ(0, r.exit_code) << r.err;
  for (const std::string& line : {Quoted(src_ + "/a/b") + " -> " + Quoted(dst_),
                                  Quoted(src_ + "/a/b/c") + " -> " + Quoted(dst_ + "/c"),
                                  Quoted(src_ + "/a/b/c/odd") + " -> " + Quoted(dst_ + "/c/odd")}) {
    EXPECT_NE(std::string::npos, r.out.find(line + "\n")) << r.out;
  }
}

}  // namespace
}  // namespace pcopy::test
