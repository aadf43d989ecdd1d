// e2e_copy_sources_test.cc: sources beyond a plain regular file: a symlink (its target is
// copied), /proc files that report size 0 (read to the end), and a block device.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "e2e_copy_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

TEST(E2eCopy, SourceSymlinkCopiesTarget) {
  TempDir t;
  const std::string real = t / "real", link = t / "link", dst = t / "dst";
  MakeRandomFile(real, 2 * kMiB + 1, 9);
  ASSERT_EQ(symlink("real", link.c_str()), 0);
  ExpectCopied(RunPcopy({"-j", "2", link, dst}), real, dst);
  struct stat st {};
  ASSERT_EQ(lstat(dst.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

// /proc files report size 0 but have content: pcopy must read them to the end.
void ExpectProcCopy(const std::string& proc_file) {
  TempDir t;
  const std::string dst = t / "copy";
  const std::string before = ReadFile(proc_file);
  const RunResult r = RunPcopy({"-j", "4", proc_file, dst});
  const std::string after = ReadFile(proc_file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_FALSE(before.empty());
  const std::string copy = ReadFile(dst);
  EXPECT_TRUE(copy == before || copy == after)
      << proc_file << ": copied " << copy.size() << " bytes, reading gives " << before.size();
  EXPECT_TRUE(Temporaries(t.path()).empty());
}

TEST(E2eCopy, ProcCpuinfoReadToTheEnd) { ExpectProcCopy("/proc/cpuinfo"); }
TEST(E2eCopy, ProcVersionReadToTheEnd) { ExpectProcCopy("/proc/version"); }

TEST(E2eCopy, BlockDeviceSource) {
  if (!IsRoot()) GTEST_SKIP() << "needs root to attach a loop device";
  TempDir t;
  const std::string image = t / "image";
  MakeRandomFile(image, 8 * kMiB, 16);
  LoopDevice loop(image);
  if (loop.device().empty()) GTEST_SKIP() << loop.error();
  struct stat st {};
  ASSERT_EQ(stat(loop.device().c_str(), &st), 0);
  ASSERT_TRUE(S_ISBLK(st.st_mode));

  const std::string dst = t / "copy";
  const RunResult r = RunPcopy({"-j", "3", loop.device(), dst});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(SameBytes(image, dst)) << "copy of " << loop.device() << " differs from its image";
  EXPECT_EQ(SizeOf(dst), 8 * kMiB);
  struct stat dst_st {};
  ASSERT_EQ(lstat(dst.c_str(), &dst_st), 0);
  EXPECT_TRUE(S_ISREG(dst_st.st_mode));
  EXPECT_EQ(dst_st.st_mode & 07777, st.st_mode & 0777 & ~CurrentUmask());
  EXPECT_TRUE(Temporaries(t.path()).empty());

  // The explicit pread method, with small chunks, from the same device.
  const std::string dst2 = t / "copy2";
  const RunResult r2 =
      RunPcopy({"-j", "7", "--chunk-size", "4K", "--method", "pread", loop.device(), dst2});
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_TRUE(SameBytes(image, dst2));
}

}  // namespace
}  // namespace pcopy::test
