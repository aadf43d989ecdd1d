// e2e_copy_dest_rules_test.cc: where DEST goes and what becomes of what is there: a directory
// takes SOURCE's basename, an existing file is replaced whole (or kept with -n), a symlink's
// target is replaced, the mode follows SOURCE and the umask, --fsync, and odd names.
#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

// Sets the umask for a scope; pcopy inherits it from the test process.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

TEST(E2eCopy, DestDirectoryGetsBasename) {
  TempDir t;
  const std::string src = t / "data.bin";
  MakeRandomFile(src, kMiB + 7, 2);
  ASSERT_EQ(mkdir((t / "out").c_str(), 0755), 0);
  ExpectCopied(RunPcopy({"-j", "3", "--chunk-size", "4K", src, t / "out"}), src,
               t / "out/data.bin");
  EXPECT_EQ(ListDir(t / "out"), std::vector<std::string>{"data.bin"});

  // With a trailing slash too.
  ASSERT_EQ(mkdir((t / "out2").c_str(), 0755), 0);
  ExpectCopied(RunPcopy({"-j", "2", src, t / "out2/"}), src, t / "out2/data.bin");
  EXPECT_EQ(ListDir(t / "out2"), std::vector<std::string>{"data.bin"});
}

TEST(E2eCopy, ReplacesLongerExistingDest) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 3);
  MakeRandomFile(dst, 3 * kMiB + 1, 4);  // longer, different bytes
  ExpectCopied(RunPcopy({"-j", "3", "--chunk-size", "4K", src, dst}), src, dst);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, ReplacesShorterExistingDest) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 5);
  WriteFile(dst, "old and short");
  ExpectCopied(RunPcopy({"-j", "2", "--chunk-size", "4K", src, dst}), src, dst);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, NoClobberKeepsExistingDest) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 6);
  WriteFile(dst, "precious old content");
  ASSERT_EQ(chmod(dst.c_str(), 0600), 0);
  struct stat before {};
  ASSERT_EQ(stat(dst.c_str(), &before), 0);

  RunResult r = RunPcopy({"-n", "-j", "2", src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(dst), "precious old content");
  struct stat after {};
  ASSERT_EQ(stat(dst.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_TRUE(Temporaries(t.path()).empty());

  r = RunPcopy({"--no-clobber", "-v", src, dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("not replacing"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dst), "precious old content");
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, NoClobberCopiesWhenDestMissing) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 7);
  ExpectCopied(RunPcopy({"-n", "-j", "3", "--chunk-size", "4K", src, dst}), src, dst);
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
}

TEST(E2eCopy, DestSymlinkToFileReplacesTarget) {
  TempDir t;
  const std::string src = t / "src", target = t / "target", link = t / "link";
  MakeRandomFile(src, 3 * 4096 + 5, 8);
  WriteFile(target, "old target");
  ASSERT_EQ(symlink("target", link.c_str()), 0);
  ExpectCopied(RunPcopy({"-j", "2", "--chunk-size", "4K", src, link}), src, target);
  struct stat st {};
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the symlink itself was replaced";
  EXPECT_TRUE(SameBytes(src, link));
}

TEST(E2eCopy, ModeFollowsSourceAndUmask) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kMiB + 7, 10);
  ASSERT_EQ(chmod(src.c_str(), 0777), 0);
  {
    ScopedUmask mask(027);
    const RunResult r = RunPcopy({"-j", "2", "--chunk-size", "4K", src, dst});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(PermissionsOf(dst), 0750u);
  }
  EXPECT_TRUE(SameBytes(src, dst));
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

TEST(E2eCopy, FsyncCopies) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 2 * kMiB + 11, 14);
  ExpectCopied(RunPcopy({"--fsync", "-j", "3", src, dst}), src, dst);
  const std::string dst2 = t / "dst2";
  const RunResult r = RunPcopy({"--fsync", "-v", "-j", "2", src, dst2});
  ExpectCopied(r, src, dst2, /*expect_silent=*/false);
  EXPECT_NE(r.err.find(", fsync"), std::string::npos) << r.err;
}

TEST(E2eCopy, NamesWithSpacesAndNewline) {
  TempDir t;
  const std::string name = "my file\nwith newline.bin";
  const std::string src = t / name;
  MakeRandomFile(src, kMiB + 7, 15);
  ASSERT_EQ(mkdir((t / "out dir").c_str(), 0755), 0);

  // Into a directory: the odd basename is kept as it is.
  RunResult r = RunPcopy({"-v", "-j", "3", "--chunk-size", "4K", src, t / "out dir"});
  ExpectCopied(r, src, t / ("out dir/" + name), /*expect_silent=*/false);
  EXPECT_EQ(ListDir(t / "out dir"), std::vector<std::string>{name});
  // -v quotes the names, so the newline cannot split the "SRC -> DEST" line.
  EXPECT_NE(r.out.find("my file\\nwith newline.bin' -> '"), std::string::npos) << r.out;

  // To an explicit odd name.
  const std::string dst = t / "copy with\nnewline too";
  ExpectCopied(RunPcopy({"-j", "2", src, dst}), src, dst);
}

}  // namespace
}  // namespace pcopy::test
