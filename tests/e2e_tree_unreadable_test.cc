// End-to-end tests of trees with parts pcopy may not read, and of destinations it may not
// write. Root reads everything whatever the permission bits, so pcopy runs as nobody (through
// setpriv) on a tree built by root; each message is compared with GNU cp's for the same case.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "test_util.h"
#include "tree_test_util.h"

namespace pcopy::test {
namespace {

using Lines = std::vector<std::string>;

Lines AsNobody(const Lines& argv) {
  Lines out = {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

RunResult PcopyAsNobody(const Lines& args) {
  Lines argv = {PCOPY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(AsNobody(argv));
}

Lines SplitLines(const std::string& text) {
  Lines lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

bool Contains(const Lines& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

class E2eTreeUnreadable : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root to run pcopy as another user (nobody)";
    const passwd* nobody = getpwnam("nobody");
    const group* nogroup = getgrnam("nogroup");
    if (nobody == nullptr || nogroup == nullptr) GTEST_SKIP() << "no user nobody, group nogroup";
    if (RunCommand({"setpriv", "--version"}).exit_code != 0) {
      GTEST_SKIP() << "setpriv (util-linux) is not installed: cannot switch to nobody";
    }
    ASSERT_EQ(0, chmod(dir_.path().c_str(), 0755));
    for (const char* d : {"src", "src/ok", "src/ok/deeper", "src/locked", "out", "ro"}) {
      ASSERT_EQ(0, mkdir((dir_ / d).c_str(), 0755)) << d;
    }
    WriteFile(dir_ / "src/top", "top\n");
    MakeRandomFile(dir_ / "src/ok/f", 70000, 1);
    MakeRandomFile(dir_ / "src/ok/deeper/g", 3000, 2);
    WriteFile(dir_ / "src/secret", "secret\n");
    WriteFile(dir_ / "src/locked/inside", "inside\n");
    ASSERT_EQ(0, chmod(secret_.c_str(), 0));
    ASSERT_EQ(0, chmod(locked_.c_str(), 0));
    ASSERT_EQ(0, chown(out_.c_str(), nobody->pw_uid, nogroup->gr_gid));
    // nobody must reach the tree and write out/ (a TMPDIR under a private directory would not
    // let it): otherwise every test here would prove nothing.
    if (RunCommand(AsNobody({"test", "-r", dir_ / "src/ok/f", "-a", "-w", out_})).exit_code != 0) {
      GTEST_SKIP() << "nobody cannot read " << dir_.path() << " or write " << out_;
    }
  }

  TempDir dir_;
  const std::string src_ = dir_ / "src";
  const std::string secret_ = dir_ / "src/secret";
  const std::string locked_ = dir_ / "src/locked";
  const std::string out_ = dir_ / "out";  // nobody's: where the copies go
  const std::string dst_ = out_ + "/dst";
  const std::string ro_ = dir_ / "ro";  // root's, 0755: nobody may not write it
};

// cp -r: "cp: cannot access 'src/locked': Permission denied" (and an empty dst/locked), "cp:
// cannot open 'src/secret' for reading: Permission denied", exit 1, the rest copied.
TEST_F(E2eTreeUnreadable, EachUnreadableEntryIsReportedAndTheRestCopied) {
  const RunResult r = PcopyAsNobody({"-r", src_, dst_});
  EXPECT_EQ(1, r.exit_code) << r.err;
  const Lines lines = SplitLines(r.err);
  EXPECT_EQ(3u, lines.size()) << r.err;
  EXPECT_TRUE(
      Contains(lines, "pcopy: cannot open " + Quoted(secret_) + " for reading: Permission denied"))
      << r.err;
  EXPECT_TRUE(
      Contains(lines, "pcopy: cannot open directory " + Quoted(locked_) + ": Permission denied"))
      << r.err;
  EXPECT_EQ("pcopy: 2 entries could not be copied", LastLine(r.err));
  Lines copied = DirNames(dst_);
  std::erase(copied, "locked");  // cp makes it, empty; whether pcopy does is not asserted
  EXPECT_EQ((Lines{"ok", "top"}), copied);
  EXPECT_EQ(Lines{}, DirNames(dst_ + "/locked"));
  EXPECT_EQ(Lines{}, TreeDifferences(src_ + "/ok", dst_ + "/ok"));
  EXPECT_TRUE(SameBytes(src_ + "/top", dst_ + "/top"));
  EXPECT_EQ(Lines{"dst"}, DirNames(out_));  // no hidden tree left beside it
}

// Over the chunk threshold a file is opened by the parent, not a worker: the same message.
TEST_F(E2eTreeUnreadable, AnUnreadableLargeFileIsReportedLikeASmallOne) {
  ASSERT_EQ(0, chmod(locked_.c_str(), 0755));
  ASSERT_EQ(0, unlink(secret_.c_str()));
  MakeRandomFile(secret_, 17ull << 20, 3);
  ASSERT_EQ(0, chmod(secret_.c_str(), 0));
  const RunResult r = PcopyAsNobody({"-r", src_, dst_});
  EXPECT_EQ(1, r.exit_code) << r.err;
  EXPECT_EQ("pcopy: cannot open " + Quoted(secret_) + " for reading: Permission denied\n", r.err);
  EXPECT_EQ((Lines{"locked", "ok", "top"}), DirNames(dst_));
  EXPECT_EQ(Lines{}, TreeDifferences(src_ + "/ok", dst_ + "/ok"));
  EXPECT_EQ(Lines{"dst"}, DirNames(out_));
}

// A directory that may be listed but not searched: each entry "cannot stat", as cp says it.
TEST_F(E2eTreeUnreadable, EntriesOfADirectoryWithoutSearchPermissionCannotBeStated) {
  ASSERT_EQ(0, chmod(locked_.c_str(), 0644));
  ASSERT_EQ(0, unlink(secret_.c_str()));
  const RunResult r = PcopyAsNobody({"-r", src_, dst_});
  EXPECT_EQ(1, r.exit_code) << r.err;
  EXPECT_EQ("pcopy: cannot stat " + Quoted(locked_ + "/inside") + ": Permission denied\n", r.err);
  EXPECT_EQ(Lines{}, TreeDifferences(src_ + "/ok", dst_ + "/ok"));
}

TEST_F(E2eTreeUnreadable, FailFastStopsAtTheFirstAndLeavesNoNewTree) {
  const RunResult r = PcopyAsNobody({"-r", "--fail-fast", src_, dst_});
  EXPECT_EQ(1, r.exit_code) << r.err;
  const Lines lines = SplitLines(r.err);
  ASSERT_EQ(2u, lines.size()) << r.err;
  EXPECT_TRUE(lines[0] ==
                  "pcopy: cannot open " + Quoted(secret_) + " for reading: Permission denied" ||
              lines[0] == "pcopy: cannot open directory " + Quoted(locked_) + ": Permission denied")
      << r.err;
  EXPECT_EQ("pcopy: stopped at the first error (--fail-fast)", lines[1]);
  EXPECT_FALSE(Exists(dst_));
  EXPECT_EQ(Lines{}, DirNames(out_));  // nor a hidden .pcopy-* tree
}

// cp: "cp: cannot create directory 'ro/dst': Permission denied", exit 1, for a new DEST and
// for SOURCE's name inside an existing one.
TEST_F(E2eTreeUnreadable, ADestinationNobodyMayWriteIsOneErrorAndNothingMade) {
  ASSERT_EQ(0, chmod(secret_.c_str(), 0644));
  ASSERT_EQ(0, chmod(locked_.c_str(), 0755));
  for (const auto& [dest, made] : {std::pair{ro_ + "/dst", ro_ + "/dst"}, {ro_, ro_ + "/src"}}) {
    const RunResult r = PcopyAsNobody({"-r", src_, dest});
    EXPECT_EQ(1, r.exit_code) << dest << ": " << r.err;
    EXPECT_EQ("pcopy: cannot create directory " + Quoted(made) + ": Permission denied\n", r.err);
    EXPECT_EQ(Lines{}, DirNames(ro_));
  }
}

// The control: with nothing unreadable the same run, as nobody, copies it all and exits 0.
TEST_F(E2eTreeUnreadable, WithEverythingReadableNobodyCopiesTheWholeTree) {
  ASSERT_EQ(0, chmod(secret_.c_str(), 0644));
  ASSERT_EQ(0, chmod(locked_.c_str(), 0755));
  const RunResult r = PcopyAsNobody({"-r", src_, dst_});
  EXPECT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("", r.err);
  EXPECT_EQ(Lines{}, TreeDifferences(src_, dst_));
}

}  // namespace
}  // namespace pcopy::test
