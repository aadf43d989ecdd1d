// metadata_faults_test.cc: ApplyMetadata's failure rules and order (os/metadata.h), with faults
// injected through the SysCalls seam on real files: which failures are errors, which are
// warnings, which are silent as cp keeps them, and what each message names.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "metadata_test_util.h"
#include "os/file_ref.h"
#include "os/metadata.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::Lstat;
using test::TempDir;
using test::WriteFile;

// Records every metadata call by name, fails the one named fail_call with fail_errno, and
// gives the source the xattrs of src_xattrs, whatever its file system holds; a set xattr is
// recorded in set_xattrs rather than written. With foreign_owner, fstat reports every file as
// owned by another user (so ownership always needs a chown); fstat is not recorded.
class MetadataFakes final : public SysCalls {
 public:
  MetadataFakes(std::string fail_call, int fail_errno)
      : fail_call_(std::move(fail_call)), fail_errno_(fail_errno) {}

  int fstat(int fd, struct stat* st) const override {
    const int rc = SysCalls::fstat(fd, st);
    if (rc == 0 && foreign_owner) ++st->st_uid;
    return rc;
  }
  int fchown(int fd, uid_t owner, gid_t group) const override {
    if (Call("fchown(" + std::to_string(static_cast<int>(owner)) + ")")) return Fail();
    return SysCalls::fchown(fd, owner, group);
  }
  int fchownat(int dirfd, const char* path, uid_t owner, gid_t group, int flags) const override {
    if (Call(flags == AT_SYMLINK_NOFOLLOW ? "fchownat(nofollow)" : "fchownat")) return Fail();
    return SysCalls::fchownat(dirfd, path, owner, group, flags);
  }
  int fchmod(int fd, mode_t mode) const override {
    if (Call("fchmod")) return Fail();
    return SysCalls::fchmod(fd, mode);
  }
  int fchmodat(int dirfd, const char* path, mode_t mode, int flags) const override {
    if (Call("fchmodat")) return Fail();
    return SysCalls::fchmodat(dirfd, path, mode, flags);
  }
  int futimens(int fd, const struct timespec times[2]) const override {
    if (Call("futimens")) return Fail();
    return SysCalls::futimens(fd, times);
  }
  int utimensat(int dirfd, const char* path, const struct timespec times[2],
                int flags) const override {
    if (Call(flags == AT_SYMLINK_NOFOLLOW ? "utimensat(nofollow)" : "utimensat")) return Fail();
    return SysCalls::utimensat(dirfd, path, times, flags);
  }
  ssize_t flistxattr(int, char* list, size_t size) const override {
    if (Call("flistxattr")) return Fail();
    std::string names;
    for (const auto& [name, value] : src_xattrs) names += name + '\0';
    return Answer(names, list, size);
  }
  ssize_t fgetxattr(int, const char* name, void* value, size_t size) const override {
    if (Call(std::string("fgetxattr ") + name)) return Fail();
    const auto it = src_xattrs.find(name);
    if (it == src_xattrs.end()) {
      errno = ENODATA;
      return -1;
    }
    return Answer(it->second, static_cast<char*>(value), size);
  }
  int fsetxattr(int, const char* name, const void* value, size_t size, int) const override {
    if (Call(std::string("fsetxattr ") + name)) return Fail();
    set_xattrs[name].assign(static_cast<const char*>(value), size);
    return 0;
  }

  std::map<std::string, std::string> src_xattrs;
  bool foreign_owner = true;
  mutable std::map<std::string, std::string> set_xattrs;
  mutable std::vector<std::string> calls;

 private:
  bool Call(const std::string& call) const {
    calls.push_back(call);
    return call == fail_call_;
  }
  int Fail() const {
    errno = fail_errno_;
    return -1;
  }
  static ssize_t Answer(const std::string& bytes, char* buf, size_t size) {
    if (size == 0) return static_cast<ssize_t>(bytes.size());
    if (size < bytes.size()) {
      errno = ERANGE;
      return -1;
    }
    memcpy(buf, bytes.data(), bytes.size());
    return static_cast<ssize_t>(bytes.size());
  }

  std::string fail_call_;
  int fail_errno_;
};

// A source of mode 04755 and a 0600 destination in dir, open, with metadata applied through
// fakes as display names "src" and "dst/a".
class MetadataFaultsTest : public testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "src", "data");
    WriteFile(dir_ / "dst", "data");
    ASSERT_EQ(chmod((dir_ / "src").c_str(), 04755), 0);
    ASSERT_EQ(chmod((dir_ / "dst").c_str(), 0600), 0);
    src_ = UniqueFd(open((dir_ / "src").c_str(), O_RDONLY | O_CLOEXEC));
    dst_ = UniqueFd(open((dir_ / "dst").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(src_.valid() && dst_.valid()) << strerror(errno);
  }
  Status Apply(const MetadataFakes& fakes, const PreserveSet& set, bool privileged = false) {
    return ApplyMetadata(fakes, FileRef::Open(src_.get(), "src"), Lstat(dir_ / "src"),
                         FileRef::Open(dst_.get(), "dst/a"), set,
                         MetadataEnv{.umask = 022, .chown_privileged = privileged}, &warnings_);
  }
  mode_t DstMode() { return Lstat(dir_ / "dst").st_mode & 07777; }

  TempDir dir_;
  UniqueFd src_, dst_;
  std::vector<Status> warnings_;
};

constexpr PreserveSet kAll = {
    .mode = true, .ownership = true, .timestamps = true, .links = true, .xattr = true};

TEST_F(MetadataFaultsTest, CpsOrderOwnerXattrsModeTimes) {
  MetadataFakes fakes("", 0);
  fakes.src_xattrs = {{"user.a", "1"}};
  ASSERT_OK(Apply(fakes, kAll, test::IsRoot()));
  const uid_t uid = Lstat(dir_ / "src").st_uid;
  const std::vector<std::string> expected = {
      "fchown(" + std::to_string(uid) + ")", "flistxattr", "fgetxattr user.a", "fsetxattr user.a",
      "fgetxattr system.posix_acl_access",   "fchmod",     "futimens"};
  EXPECT_EQ(fakes.calls, expected);
}

// As cp: a new file that already has SOURCE's owner, group and mode (a user copying their own
// files) gets no chown and no chmod; an ACL copied, or a chown made, still ends in the chmod.
TEST_F(MetadataFaultsTest, NoChownOrChmodThatWouldChangeNothing) {
  ASSERT_EQ(fchmod(dst_.get(), 04755), 0);
  MetadataFakes same("", 0);
  same.foreign_owner = false;
  ASSERT_OK(Apply(same, kAll, test::IsRoot()));
  const std::vector<std::string> expected = {"flistxattr", "fgetxattr system.posix_acl_access",
                                             "futimens"};
  EXPECT_EQ(same.calls, expected);
  EXPECT_EQ(DstMode(), 04755u);

  ASSERT_EQ(fchmod(dst_.get(), 0644), 0);
  MetadataFakes mode_differs("", 0);
  mode_differs.foreign_owner = false;
  ASSERT_OK(Apply(mode_differs, kAll, test::IsRoot()));
  EXPECT_EQ(mode_differs.calls.at(2), "fchmod");
  EXPECT_EQ(DstMode(), 04755u);

  MetadataFakes acl("", 0);
  acl.foreign_owner = false;
  acl.src_xattrs = {{"system.posix_acl_access", "x"}};
  ASSERT_OK(Apply(acl, PreserveSet{.mode = true}, test::IsRoot()));
  const std::vector<std::string> with_acl = {"fgetxattr system.posix_acl_access",
                                             "fsetxattr system.posix_acl_access", "fchmod"};
  EXPECT_EQ(acl.calls, with_acl) << "a copied ACL may move the mode: the chmod must follow";
}

TEST_F(MetadataFaultsTest, UnsupportedXattrIsAnErrorOnlyWhenRequired) {
  MetadataFakes fakes("fsetxattr user.a", ENOTSUP);
  fakes.src_xattrs = {{"user.a", "1"}, {"user.b", "2"}};
  PreserveSet required = kAll;
  required.xattr_required = true;
  const Status s = Apply(fakes, required);
  EXPECT_EQ(s.ToString(), "setting attribute 'user.a' for 'dst/a': Operation not supported");
  EXPECT_EQ(DstMode(), 0600u) << "went on after the error";

  MetadataFakes quiet("fsetxattr user.a", ENOTSUP);
  quiet.src_xattrs = fakes.src_xattrs;
  ASSERT_OK(Apply(quiet, kAll));
  EXPECT_TRUE(warnings_.empty()) << warnings_[0].ToString();
  EXPECT_EQ(quiet.set_xattrs.count("user.b"), 1u) << "stopped at the first attribute";
  EXPECT_EQ(DstMode(), 04755u);
}

TEST_F(MetadataFaultsTest, OtherXattrFailuresAreWarningsUnlessRequired) {
  MetadataFakes fakes("fgetxattr user.a", EIO);
  fakes.src_xattrs = {{"user.a", "1"}, {"user.b", "2"}};
  ASSERT_OK(Apply(fakes, kAll));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0].ToString(), "getting attribute 'user.a' of 'src': Input/output error");
  EXPECT_EQ(fakes.set_xattrs.count("user.b"), 1u);

  MetadataFakes required("flistxattr", EIO);
  const Status s = Apply(required, {.xattr = true, .xattr_required = true});
  EXPECT_EQ(s.ToString(), "listing attributes of 'src': Input/output error");
}

TEST_F(MetadataFaultsTest, SourceWithoutXattrSupportOrAVanishedNameIsFine) {
  MetadataFakes unsupported("flistxattr", ENOTSUP);
  ASSERT_OK(Apply(unsupported, {.xattr = true, .xattr_required = true}));
  MetadataFakes vanished("fgetxattr user.gone", ENODATA);
  vanished.src_xattrs = {{"user.gone", "x"}, {"user.kept", "y"}};
  ASSERT_OK(Apply(vanished, {.xattr = true, .xattr_required = true}));
  EXPECT_EQ(vanished.set_xattrs, (std::map<std::string, std::string>{{"user.kept", "y"}}));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(MetadataFaultsTest, OnlyCopiedNamespacesAreSet) {
  MetadataFakes fakes("", 0);
  fakes.src_xattrs = {{"user.a", "1"},
                      {"trusted.t", "2"},
                      {"security.capability", "3"},
                      {"security.selinux", "4"},
                      {"system.foo", "5"}};
  ASSERT_OK(Apply(fakes, {.xattr = true}));
  EXPECT_EQ(fakes.set_xattrs,
            (std::map<std::string, std::string>{
                {"user.a", "1"}, {"trusted.t", "2"}, {"security.capability", "3"}}));
}

TEST_F(MetadataFaultsTest, TimesFailureNamesTheDestination) {
  MetadataFakes fakes("futimens", EPERM);
  const Status s = Apply(fakes, kAll);
  EXPECT_EQ(s.ToString(), "preserving times for 'dst/a': Operation not permitted");
}

TEST_F(MetadataFaultsTest, ModeFailureNamesTheDestination) {
  MetadataFakes fakes("fchmod", EROFS);
  const Status s = Apply(fakes, {.mode = true, .timestamps = true});
  EXPECT_EQ(s.ToString(), "preserving permissions for 'dst/a': Read-only file system");
  EXPECT_EQ(fakes.calls.back(), "fchmod") << "went on after the error";
}

TEST_F(MetadataFaultsTest, AclOnAFileSystemWithoutAclsIsAnError) {
  MetadataFakes fakes("fsetxattr system.posix_acl_access", ENOTSUP);
  fakes.src_xattrs = {{"system.posix_acl_access", "acl"}};
  const Status s = Apply(fakes, {.mode = true});
  EXPECT_EQ(s.ToString(), "preserving permissions for 'dst/a': Operation not supported");
}

TEST_F(MetadataFaultsTest, UnprivilegedChownFailureIsSilentAndDropsSpecialBits) {
  const gid_t gid = Lstat(dir_ / "src").st_gid;
  for (int err : {EPERM, EINVAL}) {
    const uid_t uid = Lstat(dir_ / "src").st_uid;
    MetadataFakes fakes("fchown(" + std::to_string(uid) + ")", err);
    ASSERT_OK(Apply(fakes, kAll));
    EXPECT_EQ(fakes.calls.at(1), "fchown(-1)") << "the group alone was not tried";
    EXPECT_EQ(DstMode(), 0755u) << "setuid kept on a file whose owner was not";
  }
  EXPECT_EQ(Lstat(dir_ / "dst").st_gid, gid);
}

TEST_F(MetadataFaultsTest, ChownFailureIsAnErrorWithPrivilegeOrOtherErrno) {
  const uid_t uid = Lstat(dir_ / "src").st_uid;
  MetadataFakes privileged("fchown(" + std::to_string(uid) + ")", EPERM);
  Status s = Apply(privileged, kAll, /*privileged=*/true);
  EXPECT_EQ(s.ToString(), "failed to preserve ownership for 'dst/a': Operation not permitted");
  EXPECT_EQ(privileged.calls.size(), 1u) << "went on after the error";

  MetadataFakes io("fchown(" + std::to_string(uid) + ")", EIO);
  s = Apply(io, kAll);
  EXPECT_EQ(s.ToString(), "failed to preserve ownership for 'dst/a': Input/output error");
}

TEST(MetadataFaults, SymlinkGetsNoModeAndIsNeverFollowed) {
  TempDir dir;
  WriteFile(dir / "target", "t");
  ASSERT_EQ(symlink("target", (dir / "src").c_str()), 0);
  ASSERT_EQ(symlink("target", (dir / "dst").c_str()), 0);
  UniqueFd d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  MetadataFakes fakes("", 0);
  ASSERT_OK(ApplyMetadata(fakes, FileRef::None("src"), Lstat(dir / "src"),
                          FileRef::At(d.get(), "dst", "dst"), kAll, CurrentMetadataEnv()));
  EXPECT_EQ(fakes.calls, (std::vector<std::string>{"fchownat(nofollow)", "utimensat(nofollow)"}));
}

}  // namespace
}  // namespace pcopy
