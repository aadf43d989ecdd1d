// metadata_test.cc: ApplyMetadata (os/metadata.h) on real files, directories, symlinks and
// FIFOs in a temporary directory, checked with lstat and the xattr calls: modes with their
// special bits, times to the nanosecond, owners (as root), user and trusted xattrs, POSIX ACLs.
#include "os/metadata.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/unique_fd.h"
#include "metadata_test_util.h"
#include "os/file_ref.h"
#include "os/special_files.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::AclBytes;
using test::ApplyBetween;
using test::Lstat;
using test::SameTime;
using test::SetTimes;
using test::SetXattr;
using test::TempDir;
using test::WriteFile;
using test::Xattrs;

constexpr uid_t kOtherUid = 12345;
constexpr gid_t kOtherGid = 23456;

mode_t ModeOf(const std::string& path) { return Lstat(path).st_mode & 07777; }

// A source file of the given mode and an owner-only destination, as pcopy's temporary is.
void MakePair(const TempDir& dir, mode_t src_mode) {
  unlink((dir / "src").c_str());
  unlink((dir / "dst").c_str());
  WriteFile(dir / "src", "data");
  WriteFile(dir / "dst", "data");
  ASSERT_EQ(chmod((dir / "src").c_str(), src_mode), 0) << strerror(errno);
  ASSERT_EQ(chmod((dir / "dst").c_str(), 0600), 0) << strerror(errno);
}

// A source directory "sdir" of the given mode and an owner-only "ddir", as a tree copier makes
// it before filling it.
void MakeDirPair(const TempDir& dir, mode_t src_mode) {
  ASSERT_EQ(mkdir((dir / "sdir").c_str(), 0700), 0) << strerror(errno);
  ASSERT_EQ(mkdir((dir / "ddir").c_str(), 0700), 0) << strerror(errno);
  ASSERT_EQ(chmod((dir / "sdir").c_str(), src_mode), 0) << strerror(errno);
}

TEST(MetadataApply, ModeKeepsSetuidSetgidAndSticky) {
  TempDir dir;
  for (mode_t mode : {04755, 02750, 06711, 01644, 0400}) {
    MakePair(dir, mode);
    ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.mode = true}));
    EXPECT_EQ(ModeOf(dir / "dst"), mode) << std::oct << mode;
  }
  MakeDirPair(dir, 03775);
  ASSERT_OK(ApplyBetween(dir / "sdir", dir / "ddir", {.mode = true}));
  EXPECT_EQ(ModeOf(dir / "ddir"), 03775u);
}

TEST(MetadataApply, WithoutModeTheUmaskAppliesAndSpecialBitsGo) {
  TempDir dir;
  MakePair(dir, 06777);
  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {}, MetadataEnv{.umask = 022}));
  EXPECT_EQ(ModeOf(dir / "dst"), 0755u);
  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {}, MetadataEnv{.umask = 027}));
  EXPECT_EQ(ModeOf(dir / "dst"), 0750u);

  // A directory keeps its sticky bit, as mkdir does.
  MakeDirPair(dir, 01777);
  ASSERT_OK(ApplyBetween(dir / "sdir", dir / "ddir", {}, MetadataEnv{.umask = 022}));
  EXPECT_EQ(ModeOf(dir / "ddir"), 01755u);
}

TEST(MetadataApply, WithoutModeADirectoryKeepsTheSetgidItInherited) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir / "parent").c_str(), 0700), 0);
  ASSERT_EQ(chmod((dir / "parent").c_str(), 02775), 0) << strerror(errno);
  ASSERT_EQ(mkdir((dir / "parent/ddir").c_str(), 0700), 0);
  ASSERT_NE(ModeOf(dir / "parent/ddir") & S_ISGID, 0u) << "mkdir did not inherit setgid";
  ASSERT_EQ(mkdir((dir / "sdir").c_str(), 0700), 0);
  ASSERT_EQ(chmod((dir / "sdir").c_str(), 0755), 0);
  ASSERT_OK(ApplyBetween(dir / "sdir", dir / "parent/ddir", {}, MetadataEnv{.umask = 022}));
  EXPECT_EQ(ModeOf(dir / "parent/ddir"), 02755u);
}

TEST(MetadataApply, TimesToTheNanosecond) {
  TempDir dir;
  MakePair(dir, 0644);
  const struct timespec atime = {1000000000, 123456789}, mtime = {1234567890, 987654321};
  SetTimes(dir / "src", atime, mtime);
  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {}));
  EXPECT_FALSE(SameTime(Lstat(dir / "dst").st_mtim, mtime)) << "times set without timestamps";

  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.mode = true, .timestamps = true}));
  const struct stat st = Lstat(dir / "dst");
  EXPECT_TRUE(SameTime(st.st_atim, atime)) << st.st_atim.tv_sec << "." << st.st_atim.tv_nsec;
  EXPECT_TRUE(SameTime(st.st_mtim, mtime)) << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;

  MakeDirPair(dir, 0755);
  SetTimes(dir / "sdir", mtime, atime);
  ASSERT_OK(ApplyBetween(dir / "sdir", dir / "ddir", {.timestamps = true}));
  EXPECT_TRUE(SameTime(Lstat(dir / "ddir").st_mtim, atime));
  EXPECT_TRUE(SameTime(Lstat(dir / "ddir").st_atim, mtime));
}

TEST(MetadataApply, OwnershipAsRoot) {
  if (!test::IsRoot()) GTEST_SKIP() << "chown to another user needs root; run the tests as root";
  TempDir dir;
  MakePair(dir, 0644);
  ASSERT_EQ(chown((dir / "src").c_str(), kOtherUid, kOtherGid), 0) << strerror(errno);
  ASSERT_EQ(chmod((dir / "src").c_str(), 06755), 0);  // after chown, which clears them
  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.mode = true, .ownership = true},
                         CurrentMetadataEnv()));
  const struct stat st = Lstat(dir / "dst");
  EXPECT_EQ(st.st_uid, kOtherUid);
  EXPECT_EQ(st.st_gid, kOtherGid);
  EXPECT_EQ(st.st_mode & 07777, 06755u) << "special bits lost although the owner was kept";

  MakePair(dir, 0644);
  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.mode = true}));
  EXPECT_EQ(Lstat(dir / "dst").st_uid, 0u) << "owner changed without ownership";
}

TEST(MetadataApply, OwnershipAsAnotherUserFailsSilentlyAndDropsSetuid) {
  if (!test::IsRoot()) GTEST_SKIP() << "needs root, to become another user in a child";
  TempDir dir;
  MakePair(dir, 04755);
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  ASSERT_EQ(chown((dir / "dst").c_str(), 65534, 65534), 0);
  const test::ChildReport child = test::InChild([&]() -> std::string {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      return std::string("cannot become nobody: ") + strerror(errno);
    }
    const MetadataEnv env = CurrentMetadataEnv();
    if (env.chown_privileged) return "still privileged";
    return ApplyBetween(dir / "src", dir / "dst", {.mode = true, .ownership = true}, env)
        .ToString();
  });
  ASSERT_EQ(child.error, "");
  ASSERT_TRUE(WIFEXITED(child.wait_status) && WEXITSTATUS(child.wait_status) == 0);
  EXPECT_EQ(child.said, "OK");
  const struct stat st = Lstat(dir / "dst");
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "setuid kept on a file of the wrong owner";
}

// The xattrs a test sets on src: a list and a value longer than the 1 KiB inline buffers, yet
// all within the one 4 KiB block ext4 gives an inode's xattrs.
std::map<std::string, std::string> SampleXattrs() {
  std::map<std::string, std::string> x = {{"user.plain", "1"},
                                          {"user.binary", std::string("\0\x01\xff\n", 4)},
                                          {"user.empty", ""},
                                          {"user.big", std::string(1500, 'b')}};
  for (int i = 10; i < 30; ++i) {
    std::string name = "user.long_name_";
    name.append(std::to_string(i)).append(44, 'n');
    x.emplace(name, std::string(1, static_cast<char>('a' + i % 26)));
  }
  return x;
}

TEST(MetadataApply, UserXattrsCopiedOnlyWhenAsked) {
  TempDir dir;
  MakePair(dir, 0644);
  const int err = SetXattr(dir / "src", "user.probe", "x");
  if (err == ENOTSUP) GTEST_SKIP() << dir.path() << " has no user xattrs (tmpfs before 6.6?)";
  ASSERT_EQ(err, 0) << strerror(err);
  ASSERT_EQ(lremovexattr((dir / "src").c_str(), "user.probe"), 0);
  const auto sample = SampleXattrs();
  for (const auto& [name, value] : sample) ASSERT_EQ(SetXattr(dir / "src", name, value), 0);

  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.mode = true, .timestamps = true}));
  EXPECT_TRUE(Xattrs(dir / "dst").empty()) << "xattrs copied without xattr";

  std::vector<Status> warnings;
  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.xattr = true, .xattr_required = true},
                         MetadataEnv{}, &warnings));
  EXPECT_EQ(Xattrs(dir / "dst"), sample);
  EXPECT_TRUE(warnings.empty());

  MakeDirPair(dir, 0755);
  ASSERT_EQ(SetXattr(dir / "sdir", "user.on_dir", "d"), 0);
  ASSERT_OK(ApplyBetween(dir / "sdir", dir / "ddir", {.xattr = true}));
  EXPECT_EQ(Xattrs(dir / "ddir").at("user.on_dir"), "d");
}

TEST(MetadataApply, TrustedXattrsAsRootButNoSelinuxLabel) {
  if (!test::IsRoot()) GTEST_SKIP() << "trusted.* xattrs need root; run the tests as root";
  TempDir dir;
  MakePair(dir, 0644);
  ASSERT_EQ(SetXattr(dir / "src", "trusted.pcopy", "t"), 0);
  const bool labelled = SetXattr(dir / "src", "security.selinux", "label") == 0;
  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.xattr = true, .xattr_required = true}));
  const auto copied = Xattrs(dir / "dst");
  EXPECT_EQ(copied.count("trusted.pcopy"), 1u);
  if (labelled) {
    EXPECT_EQ(copied.count("security.selinux"), 0u) << "an SELinux label copied";
  }
}

TEST(MetadataApply, AclsTravelWithTheMode) {
  TempDir dir;
  MakePair(dir, 0640);
  const std::string acl = AclBytes(4242, 6);
  const int err = SetXattr(dir / "src", "system.posix_acl_access", acl);
  if (err == ENOTSUP) GTEST_SKIP() << dir.path() << " has no POSIX ACLs";
  ASSERT_EQ(err, 0) << strerror(err);
  const mode_t with_acl = ModeOf(dir / "src");  // the ACL set the group bits to its mask

  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.xattr = true}));
  EXPECT_EQ(Xattrs(dir / "dst").count("system.posix_acl_access"), 0u) << "ACL copied without mode";

  ASSERT_OK(ApplyBetween(dir / "src", dir / "dst", {.mode = true}));
  EXPECT_EQ(Xattrs(dir / "dst").at("system.posix_acl_access"), acl);
  EXPECT_EQ(ModeOf(dir / "dst"), with_acl);

  MakeDirPair(dir, 0755);
  ASSERT_EQ(SetXattr(dir / "sdir", "system.posix_acl_default", acl), 0);
  ASSERT_OK(ApplyBetween(dir / "sdir", dir / "ddir", {.mode = true}));
  EXPECT_EQ(Xattrs(dir / "ddir").at("system.posix_acl_default"), acl);
}

// Applies src's metadata to the entry dst_name of dir, reached by name.
Status ApplyAt(const TempDir& dir, const std::string& src_name, const std::string& dst_name,
               const PreserveSet& set) {
  UniqueFd d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return ApplyMetadata(RealSysCalls(), FileRef::At(d.get(), src_name.c_str(), src_name),
                       Lstat(dir / src_name), FileRef::At(d.get(), dst_name.c_str(), dst_name), set,
                       CurrentMetadataEnv());
}

TEST(MetadataApply, SymlinkItselfGetsTimesAndOwnerNotItsTarget) {
  TempDir dir;
  WriteFile(dir / "target", "t");
  ASSERT_EQ(symlink("target", (dir / "src").c_str()), 0);
  ASSERT_EQ(symlink("target", (dir / "dst").c_str()), 0);
  const struct timespec atime = {1111111111, 111}, mtime = {1222222222, 999999999};
  SetTimes(dir / "src", atime, mtime);
  const bool root = test::IsRoot();
  if (root) {
    ASSERT_EQ(lchown((dir / "src").c_str(), kOtherUid, kOtherGid), 0);
  }
  const struct stat target_before = Lstat(dir / "target");

  ASSERT_OK(ApplyAt(dir, "src", "dst", {.mode = true, .ownership = true, .timestamps = true}));
  const struct stat st = Lstat(dir / "dst");
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(SameTime(st.st_atim, atime));
  EXPECT_TRUE(SameTime(st.st_mtim, mtime));
  if (root) {
    EXPECT_EQ(st.st_uid, kOtherUid);
    EXPECT_EQ(st.st_gid, kOtherGid);
  }
  const struct stat target_after = Lstat(dir / "target");
  EXPECT_TRUE(SameTime(target_after.st_mtim, target_before.st_mtim)) << "followed the symlink";
  EXPECT_EQ(target_after.st_mode, target_before.st_mode);
  EXPECT_EQ(target_after.st_uid, target_before.st_uid);
}

TEST(MetadataApply, SymlinkXattrsThroughTheDirectory) {
  if (!test::IsRoot()) GTEST_SKIP() << "symlinks take only trusted.* or security.* xattrs: root";
  TempDir dir;
  WriteFile(dir / "target", "t");
  ASSERT_EQ(symlink("target", (dir / "src").c_str()), 0);
  ASSERT_EQ(symlink("target", (dir / "dst").c_str()), 0);
  ASSERT_EQ(SetXattr(dir / "src", "trusted.on_link", "L"), 0);
  ASSERT_OK(ApplyAt(dir, "src", "dst", {.xattr = true, .xattr_required = true}));
  EXPECT_EQ(Xattrs(dir / "dst").at("trusted.on_link"), "L");
  EXPECT_EQ(Xattrs(dir / "target").count("trusted.on_link"), 0u) << "followed the symlink";
}

TEST(MetadataApply, FifoGetsModeAndTimesByName) {
  TempDir dir;
  ASSERT_EQ(mkfifo((dir / "src").c_str(), 0600), 0);
  ASSERT_EQ(chmod((dir / "src").c_str(), 0641), 0);
  const struct timespec atime = {1300000000, 5}, mtime = {1400000000, 6};
  SetTimes(dir / "src", atime, mtime);
  UniqueFd d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_OK(MakeSpecial(RealSysCalls(), Lstat(dir / "src"), FileRef::At(d.get(), "dst", "dst")));
  EXPECT_EQ(ModeOf(dir / "dst"), 0600u) << "a new FIFO is owner-only until its metadata is set";

  ASSERT_OK(ApplyAt(dir, "src", "dst", {.mode = true, .timestamps = true}));
  const struct stat st = Lstat(dir / "dst");
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0641u);
  EXPECT_TRUE(SameTime(st.st_mtim, mtime));
}

}  // namespace
}  // namespace pcopy
