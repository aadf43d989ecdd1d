#include "os/destination.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "test_util.h"

namespace pcopy {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& fragment) {
  if (text.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << fragment << "'";
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : std::string();
}

class DestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ / "src.img";
    test::WriteFile(src_, "source bytes");
  }

  // A refusal: not ok, one line, and out left without a path to write.
  Status Refused(const std::string& dest) {
    Destination out;
    Status s = ResolveDestination(src_, dest, &out);
    EXPECT_FALSE(s.ok()) << dest << " resolved to " << out.path;
    EXPECT_EQ(s.ToString().find('\n'), std::string::npos) << s.ToString();
    return s;
  }

  test::TempDir dir_;
  std::string src_;
};

TEST_F(DestinationTest, NewFile) {
  const std::string dest = dir_ / "new.img";
  Destination out;
  ASSERT_OK(ResolveDestination(src_, dest, &out));
  EXPECT_EQ(out.path, dest);
  EXPECT_FALSE(out.exists);
  EXPECT_FALSE(test::Exists(dest)) << "a lookup must create nothing";
}

TEST_F(DestinationTest, ExistingFile) {
  const std::string dest = dir_ / "old.img";
  test::WriteFile(dest, "old");
  struct stat st;
  ASSERT_EQ(stat(dest.c_str(), &st), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(src_, dest, &out));
  EXPECT_EQ(out.path, dest);
  EXPECT_TRUE(out.exists);
  EXPECT_EQ(out.dev, st.st_dev);
  EXPECT_EQ(out.ino, st.st_ino);
  EXPECT_EQ(test::ReadFile(dest), "old");
}

TEST_F(DestinationTest, ExistingDirectoryGetsTheSourceName) {
  const std::string d = dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(src_, d, &out));
  EXPECT_EQ(out.path, d + "/src.img");
  EXPECT_FALSE(out.exists);
  EXPECT_FALSE(test::Exists(d + "/src.img"));
}

TEST_F(DestinationTest, DirectoryWithTrailingSlash) {
  const std::string d = dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(src_, d + "/", &out));
  EXPECT_EQ(out.path, d + "/src.img");
}

TEST_F(DestinationTest, DirectoryWithAnExistingCopy) {
  const std::string d = dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  test::WriteFile(d + "/src.img", "older copy");
  struct stat st;
  ASSERT_EQ(stat((d + "/src.img").c_str(), &st), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(src_, d, &out));
  EXPECT_EQ(out.path, d + "/src.img");
  EXPECT_TRUE(out.exists);
  EXPECT_EQ(out.ino, st.st_ino);
}

TEST_F(DestinationTest, SourceInAnotherDirectoryUsesItsBaseName) {
  const std::string sub = dir_ / "sub";
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  const std::string nested_src = sub + "/disk.raw";
  test::WriteFile(nested_src, "x");
  const std::string d = dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(nested_src, d, &out));
  EXPECT_EQ(out.path, d + "/disk.raw");
}

TEST_F(DestinationTest, TrailingSlashOnAFile) {
  const std::string f = dir_ / "f";
  test::WriteFile(f, "x");
  const Status s = Refused(f + "/");
  EXPECT_EQ(s.err(), ENOTDIR);
  EXPECT_TRUE(Contains(s.ToString(), "Not a directory"));
  EXPECT_TRUE(Contains(s.ToString(), "'" + f + "/'"));
}

TEST_F(DestinationTest, TrailingSlashOnAMissingName) {
  const Status s = Refused(dir_ / "nothing/");
  EXPECT_TRUE(Contains(s.ToString(), "Not a directory"));
}

TEST_F(DestinationTest, SymlinkToAFileWritesThroughIt) {
  const std::string sub = dir_ / "sub";
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  const std::string target = sub + "/target.img";
  test::WriteFile(target, "target");
  const std::string link = dir_ / "link.img";
  ASSERT_EQ(symlink("sub/target.img", link.c_str()), 0);  // relative, as users write them
  struct stat st;
  ASSERT_EQ(stat(target.c_str(), &st), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(src_, link, &out));
  EXPECT_EQ(out.path, RealPath(target));
  EXPECT_TRUE(out.exists);
  EXPECT_EQ(out.dev, st.st_dev);
  EXPECT_EQ(out.ino, st.st_ino);
}

TEST_F(DestinationTest, SymlinkInsideADestinationDirectory) {
  const std::string target = dir_ / "real.img";
  test::WriteFile(target, "target");
  const std::string d = dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  ASSERT_EQ(symlink(target.c_str(), (d + "/src.img").c_str()), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(src_, d, &out));
  EXPECT_EQ(out.path, RealPath(target));
  EXPECT_TRUE(out.exists);
}

TEST_F(DestinationTest, SymlinkToADirectoryIsADirectory) {
  const std::string d = dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  const std::string link = dir_ / "dlink";
  ASSERT_EQ(symlink("d", link.c_str()), 0);
  Destination out;
  ASSERT_OK(ResolveDestination(src_, link, &out));
  EXPECT_EQ(out.path, link + "/src.img");
  EXPECT_FALSE(out.exists);
}

TEST_F(DestinationTest, DanglingSymlinkRefused) {
  const std::string link = dir_ / "dangling";
  ASSERT_EQ(symlink("does-not-exist", link.c_str()), 0);
  const Status s = Refused(link);
  EXPECT_TRUE(Contains(s.ToString(), "dangling symlink"));
  EXPECT_TRUE(Contains(s.ToString(), "'" + link + "'"));
  EXPECT_FALSE(test::Exists(dir_ / "does-not-exist"));
}

TEST_F(DestinationTest, DirectoryInTheWayRefused) {
  const std::string d = dir_ / "d";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((d + "/src.img").c_str(), 0755), 0);
  const Status s = Refused(d);
  EXPECT_TRUE(Contains(s.ToString(), "'" + d + "/src.img'"));
  EXPECT_TRUE(Contains(s.ToString(), "directory"));
}

TEST_F(DestinationTest, FifoRefused) {
  const std::string fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const Status s = Refused(fifo);
  EXPECT_TRUE(Contains(s.ToString(), "not a regular file"));
  EXPECT_TRUE(Contains(s.ToString(), "'" + fifo + "'"));
}

TEST_F(DestinationTest, DeviceRefused) {
  const Status s = Refused("/dev/null");
  EXPECT_TRUE(Contains(s.ToString(), "not a regular file"));
}

TEST_F(DestinationTest, SymlinkToAFifoRefused) {
  const std::string fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string link = dir_ / "fifolink";
  ASSERT_EQ(symlink("fifo", link.c_str()), 0);
  const Status s = Refused(link);
  EXPECT_TRUE(Contains(s.ToString(), "not a regular file"));
}

TEST_F(DestinationTest, EmptyDestRefused) {
  const Status s = Refused("");
  EXPECT_TRUE(Contains(s.ToString(), "''"));
}

}  // namespace
}  // namespace pcopy
