// e2e_space_test.cc: the free space checks that come before anything is written. A copy needs
// SOURCE's size free on DEST's file system; the demo needs twice its size and some to spare in
// its directory ($TMPDIR). Both refuse in one line, exit 1, and leave nothing behind.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr int kTimeoutMs = 60000;

// pcopy with TMPDIR set for it alone; the outputs are kept outside that directory.
RunResult RunPcopyWithTmpdir(const std::string& tmpdir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"env", "TMPDIR=" + tmpdir, PCOPY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, kTimeoutMs);
}

class E2eSpaceSmallTmpfs : public testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root to mount a small tmpfs";
    ASSERT_EQ(mkdir(mnt_.c_str(), 0755), 0);
    mount_ = std::make_unique<TmpfsMount>(mnt_, "size=4m");
    if (!mount_->mounted()) GTEST_SKIP() << mount_->error();
  }
  void TearDown() override { mount_.reset(); }

  TempDir t_;
  const std::string mnt_ = t_ / "mnt";
  std::unique_ptr<TmpfsMount> mount_;
};

TEST_F(E2eSpaceSmallTmpfs, CopyLargerThanTheFreeSpaceIsRefusedUpFront) {
  const std::string src = t_ / "src";
  MakeRandomFile(src, 6 * kMiB, 121);
  for (const std::string& dest : {mnt_ + "/dst", mnt_}) {
    SCOPED_TRACE(dest);
    const std::string named = dest == mnt_ ? mnt_ + "/src" : dest;
    const RunResult r = RunPcopy({"-j", "2", src, dest});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "pcopy: not enough space for " + Quoted(named) + " on " + Quoted(mnt_) +
                         ": 6.00 MiB needed, 4.00 MiB available\n");
    EXPECT_TRUE(ListDir(mnt_).empty()) << testing::PrintToString(ListDir(mnt_));
  }
}

// Rounded, both would read "4.00 MiB": the message then gives the bytes.
TEST_F(E2eSpaceSmallTmpfs, JustTooLargeIsSaidInBytes) {
  const std::string src = t_ / "src", dst = mnt_ + "/dst";
  MakeRandomFile(src, 4 * kMiB + 7, 123);
  const RunResult r = RunPcopy({src, dst});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "pcopy: not enough space for " + Quoted(dst) + " on " + Quoted(mnt_) +
                       ": 4194311 bytes needed, 4194304 bytes available\n");
  EXPECT_TRUE(ListDir(mnt_).empty()) << testing::PrintToString(ListDir(mnt_));
}

TEST_F(E2eSpaceSmallTmpfs, CopyThatFitsIsMade) {
  const std::string src = t_ / "src", dst = mnt_ + "/dst";
  MakeRandomFile(src, 3 * kMiB + 11, 122);
  const RunResult r = RunPcopy({"-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(SameBytes(src, dst));
  EXPECT_EQ(ListDir(mnt_), std::vector<std::string>{"dst"});
}

// Twice 2 MiB and 5% of 4 MiB to spare is more than 4 MiB; twice 1.5 MiB and the 5% is not.
TEST_F(E2eSpaceSmallTmpfs, DemoNeedsTwiceItsSizeAndSomeToSpare) {
  RunResult r = RunPcopyWithTmpdir(mnt_, {"--demo", "--demo-size", "2M", "-j", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pcopy: not enough space for the demo in " + Quoted(mnt_) +
                       ": 4.20 MiB needed (twice 2.00 MiB and 205 KiB to spare), 4.00 MiB "
                       "available; try a smaller --demo-size or another TMPDIR\n");
  EXPECT_TRUE(ListDir(mnt_).empty()) << testing::PrintToString(ListDir(mnt_));

  r = RunPcopyWithTmpdir(mnt_, {"--demo", "--demo-size", "1536K", "-j", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("The copy is identical to the source, byte for byte."), std::string::npos)
      << r.out;
  EXPECT_TRUE(ListDir(mnt_).empty()) << testing::PrintToString(ListDir(mnt_));
}

// No file system holds 200 TiB here: refused at once, before a byte is written.
TEST(E2eSpace, AbsurdDemoSizeIsRefusedAtOnce) {
  TempDir t;
  const RunResult r = RunPcopyWithTmpdir(t.path(), {"--demo", "--demo-size", "100T"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(IsOneLine(r.err)) << r.err;
  const std::string head = "pcopy: not enough space for the demo in " + Quoted(t.path()) +
                           ": 200 TiB needed (twice 100 TiB and ";
  EXPECT_EQ(r.err.substr(0, head.size()), head) << r.err;
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());
}

}  // namespace
}  // namespace pcopy::test
