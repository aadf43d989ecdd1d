// End-to-end tests of tree copies under faults: signals and kills mid-tree, a worker killed,
// entries that cannot be copied, a full file system, and existing destinations (-n, -u). A new
// tree appears whole or not at all; into an existing directory every file appears whole.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy::test {
namespace {

using Lines = std::vector<std::string>;
constexpr uint64_t kMiB = 1ull << 20;

// A tree that takes seconds to copy at a limited rate: 24 files of 1 MiB in three directories.
void MakeSlowTree(const std::string& root) {
  mkdir(root.c_str(), 0755);
  for (int d = 0; d < 3; ++d) {
    const std::string dir = root + "/d" + std::to_string(d);
    mkdir(dir.c_str(), 0755);
    for (int f = 0; f < 8; ++f) MakeRandomFile(dir + "/f" + std::to_string(f), kMiB, d * 8 + f);
  }
}

// The hidden tree a copy is building in dir, or "" if there is none.
std::string HiddenTree(const std::string& dir) {
  const Lines temps = Temporaries(dir);
  return temps.empty() ? std::string() : dir + "/" + temps.front();
}

class E2eTreeFaults : public ::testing::Test {
 protected:
  void SetUp() override { MakeSlowTree(src_); }

  // Starts a rate-limited copy of src_ to dst_ and waits until it has copied some bytes.
  std::unique_ptr<PcopyProcess> StartSlowCopy(Lines extra = {}) {
    Lines args = {"-r", "-j", "2", "--bwlimit", "4M"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {src_, dst_});
    auto p = std::make_unique<PcopyProcess>(args);
    EXPECT_TRUE(WaitUntil("the copy to get under way", [&] {
      const std::string hidden = HiddenTree(dir_.path());
      return !hidden.empty() && TreeAllocatedBytes(hidden) >= 2 * kMiB;
    }));
    return p;
  }

  TempDir dir_;
  const std::string src_ = dir_ / "src";
  const std::string dst_ = dir_ / "dst";
};

TEST_F(E2eTreeFaults, ATerminatingSignalLeavesNoNewTree) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    SCOPED_TRACE(strsignal(sig));
    auto p = StartSlowCopy();
    const std::vector<pid_t> workers = p->Workers();
    ASSERT_EQ(0, kill(p->pid(), sig));
    const RunResult r = FinishWithin(*p);
    EXPECT_EQ(128 + sig, r.exit_code) << r.err;
    EXPECT_TRUE(IsOneLine(r.err)) << r.err;
    EXPECT_EQ((Lines{"src"}), dir_.List());
    for (pid_t w : workers) EXPECT_TRUE(Gone(w)) << "worker " << w << " outlived pcopy";
  }
}

TEST_F(E2eTreeFaults, AKilledParentsHiddenTreeIsRemovedByTheNextRun) {
  auto p = StartSlowCopy();
  ASSERT_EQ(0, kill(p->pid(), SIGKILL));
  FinishWithin(*p);
  ASSERT_TRUE(WaitUntil("the orphaned workers to die", [&] { return p->Workers().empty(); }));
  ASSERT_NE("", HiddenTree(dir_.path()));
  EXPECT_FALSE(Exists(dst_));
  const RunResult r = RunPcopy({"-r", "-v", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_NE(std::string::npos, r.err.find("left by a pcopy that no longer runs")) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_));
  EXPECT_EQ((Lines{"dst", "src"}), dir_.List());
}

TEST_F(E2eTreeFaults, AKilledWorkerIsReplacedAndTheTreeIsComplete) {
  auto p = StartSlowCopy({"--retries", "2"});
  const std::vector<pid_t> workers = p->Workers();
  ASSERT_FALSE(workers.empty());
  ASSERT_EQ(0, kill(workers.front(), SIGKILL));
  const RunResult r = FinishWithin(*p);
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_NE(std::string::npos, r.err.find("pcopy: retried: worker")) << r.err;
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_));
  EXPECT_EQ((Lines{"dst", "src"}), dir_.List());
}

TEST_F(E2eTreeFaults, AWorkerKilledWithNoRetriesLeftStopsTheCopyAndLeavesNothing) {
  auto p = StartSlowCopy({"--retries", "0"});
  const std::vector<pid_t> workers = p->Workers();
  ASSERT_FALSE(workers.empty());
  ASSERT_EQ(0, kill(workers.front(), SIGKILL));
  const RunResult r = FinishWithin(*p);
  EXPECT_EQ(1, r.exit_code) << r.err;
  EXPECT_NE(std::string::npos, r.err.find("was killed by signal 9")) << r.err;
  EXPECT_EQ((Lines{"src"}), dir_.List());
}

// A directory where DEST has a file is reported; everything else is copied, and exit is 1.
TEST_F(E2eTreeFaults, AnEntryThatCannotBeCopiedIsReportedAndTheRestCopied) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  ASSERT_EQ(0, mkdir((dst_ + "/src").c_str(), 0755));
  WriteFile(dst_ + "/src/d1", "a file where SOURCE has a directory");
  const RunResult r = RunPcopy({"-r", src_, dst_});
  EXPECT_EQ(1, r.exit_code);
  EXPECT_EQ("pcopy: cannot overwrite non-directory " + Quoted(dst_ + "/src/d1") +
                " with directory " + Quoted(src_ + "/d1") + "\n",
            r.err);
  EXPECT_EQ(Lines{}, TreeDifferences(src_ + "/d0", dst_ + "/src/d0"));
  EXPECT_EQ(Lines{}, TreeDifferences(src_ + "/d2", dst_ + "/src/d2"));
}

TEST_F(E2eTreeFaults, FailFastStopsAtTheFirstError) {
  ASSERT_EQ(0, mkdir(dst_.c_str(), 0755));
  const RunResult r = RunPcopy({"-r", "--fail-fast", dir_ / "nosuch", src_, dst_});
  EXPECT_EQ(1, r.exit_code);
  EXPECT_EQ("pcopy: cannot stat " + Quoted(dir_ / "nosuch") +
                ": No such file or directory\npcopy: stopped at the first error (--fail-fast)\n",
            r.err);
  EXPECT_EQ(Lines{}, DirNames(dst_));
}

TEST_F(E2eTreeFaults, AFullFileSystemStopsTheCopyAndLeavesNoNewTree) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const std::string small = dir_ / "small";
  ASSERT_EQ(0, mkdir(small.c_str(), 0755));
  TmpfsMount mount(small, "size=4m");
  if (!mount.mounted()) GTEST_SKIP() << mount.error();
  const RunResult r = RunPcopy({"-r", src_, small + "/dst"});
  EXPECT_EQ(1, r.exit_code);
  EXPECT_TRUE(IsOneLine(r.err)) << r.err;
  EXPECT_NE(std::string::npos, r.err.find("No space left on device")) << r.err;
  EXPECT_EQ(Lines{}, DirNames(small));
}

class E2eTreeExisting : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& d : {src_, dst_}) mkdir(d.c_str(), 0755);
    WriteFile(src_ + "/old", "new bytes");
    WriteFile(src_ + "/new", "new bytes");
    WriteFile(dst_ + "/old", "old");
    WriteFile(dst_ + "/new", "newer");
    SetTimes(src_ + "/old", 2000000000, 0);
    SetTimes(dst_ + "/old", 1000000000, 0);
    SetTimes(src_ + "/new", 1000000000, 0);
    SetTimes(dst_ + "/new", 2000000000, 0);
  }
  TempDir dir_;
  const std::string src_ = dir_ / "src";
  const std::string dst_ = dir_ / "dst";
};

TEST_F(E2eTreeExisting, ExistingFilesAreReplacedAndNothingHiddenIsLeft) {
  const RunResult r = RunPcopy({"-rT", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("new bytes", ReadFile(dst_ + "/old"));
  EXPECT_EQ("new bytes", ReadFile(dst_ + "/new"));
  EXPECT_EQ((Lines{"new", "old"}), DirNames(dst_));
}

TEST_F(E2eTreeExisting, NoClobberKeepsEveryExistingFile) {
  const RunResult r = RunPcopy({"-rTn", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("old", ReadFile(dst_ + "/old"));
  EXPECT_EQ("newer", ReadFile(dst_ + "/new"));
}

TEST_F(E2eTreeExisting, UpdateReplacesOnlyOlderFiles) {
  const RunResult r = RunPcopy({"-rTu", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("new bytes", ReadFile(dst_ + "/old"));
  EXPECT_EQ("newer", ReadFile(dst_ + "/new"));
}

}  // namespace
}  // namespace pcopy::test
