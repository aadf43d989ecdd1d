// special_files_test.cc: symlinks, FIFOs and device nodes recreated (os/special_files.h): exact
// targets whatever their bytes and length, the readlink buffer's growth and its cap, FIFOs,
// device nodes as root, and what each failure says.
#include "os/special_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "metadata_test_util.h"
#include "os/file_ref.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::Lstat;
using test::TempDir;

std::string ReadLink(const std::string& path) {
  std::string buf(8192, '\0');
  const ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
  EXPECT_GE(n, 0) << path << ": " << strerror(errno);
  buf.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return buf;
}

class MetadataSpecialFiles : public testing::Test {
 protected:
  void SetUp() override {
    dirfd_ = UniqueFd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dirfd_.valid()) << strerror(errno);
  }
  // name in the directory, shown as dst/name. FileRef is a view: the strings live in strings_,
  // whose elements never move.
  FileRef At(const std::string& name) {
    const std::string& kept = strings_.emplace_back(name);
    const std::string& display = strings_.emplace_back("dst/" + name);
    return FileRef::At(dirfd_.get(), kept.c_str(), display);
  }

  TempDir dir_;
  UniqueFd dirfd_;
  std::deque<std::string> strings_;
};

TEST_F(MetadataSpecialFiles, SymlinkTargetsAreCopiedByteForByte) {
  const std::vector<std::string> targets = {
      "plain", "../up/and/over", "new\nline and \xff\xfe invalid UTF-8 \x01",
      std::string(4095, 'x'),  // PATH_MAX - 1: the longest Linux takes
      "/absolute/" + std::string(3000, 'y')};
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string src = "src" + std::to_string(i), dst = "dst" + std::to_string(i);
    ASSERT_EQ(symlink(targets[i].c_str(), (dir_ / src).c_str()), 0) << strerror(errno);
    for (size_t hint : {size_t{0}, static_cast<size_t>(Lstat(dir_ / src).st_size)}) {
      unlink((dir_ / dst).c_str());
      ASSERT_OK(CopySymlink(RealSysCalls(), At(src), hint, At(dst)));
      EXPECT_EQ(ReadLink(dir_ / dst), targets[i]) << "target " << i << ", hint " << hint;
    }
  }
}

// readlinkat that always fills the buffer, as a target longer than any buffer would, and
// records the sizes asked for.
class EndlessLink final : public SysCalls {
 public:
  ssize_t readlinkat(int, const char*, char* buf, size_t size) const override {
    sizes.push_back(size);
    memset(buf, 'z', size);
    return static_cast<ssize_t>(size);
  }
  mutable std::vector<size_t> sizes;
};

TEST_F(MetadataSpecialFiles, ReadlinkBufferDoublesUpToItsCap) {
  EndlessLink endless;
  std::string target;
  const Status s = ReadSymlink(endless, At("src"), 0, &target);
  EXPECT_EQ(s.ToString(), "cannot read symbolic link 'dst/src': File name too long");
  ASSERT_GE(endless.sizes.size(), 3u);
  EXPECT_EQ(endless.sizes[1], 2 * endless.sizes[0]);
  EXPECT_EQ(endless.sizes.back(), kMaxSymlinkTarget + 1);
  EXPECT_TRUE(target.empty());
}

TEST_F(MetadataSpecialFiles, SymlinkFailuresNameTheirPath) {
  Status s = CopySymlink(RealSysCalls(), At("missing"), 0, At("dst"));
  EXPECT_EQ(s.ToString(), "cannot read symbolic link 'dst/missing': No such file or directory");
  ASSERT_EQ(symlink("t", (dir_ / "src").c_str()), 0);
  ASSERT_EQ(symlink("other", (dir_ / "taken").c_str()), 0);
  s = CopySymlink(RealSysCalls(), At("src"), 0, At("taken"));
  EXPECT_EQ(s.ToString(), "cannot create symbolic link 'dst/taken': File exists");
  EXPECT_EQ(ReadLink(dir_ / "taken"), "other") << "an existing entry was replaced";
}

TEST_F(MetadataSpecialFiles, FifoIsCreatedOwnerOnly) {
  ASSERT_EQ(mkfifo((dir_ / "src").c_str(), 0600), 0);
  ASSERT_EQ(chmod((dir_ / "src").c_str(), 0666), 0);
  ASSERT_OK(MakeSpecial(RealSysCalls(), Lstat(dir_ / "src"), At("dst")));
  const struct stat st = Lstat(dir_ / "dst");
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const Status s = MakeSpecial(RealSysCalls(), Lstat(dir_ / "src"), At("dst"));
  EXPECT_EQ(s.ToString(), "cannot create fifo 'dst/dst': File exists");
}

TEST_F(MetadataSpecialFiles, DeviceNodesAsRoot) {
  if (!test::IsRoot()) GTEST_SKIP() << "mknod of a device needs root; run the tests as root";
  const struct stat null = Lstat("/dev/null");
  const Status s = MakeSpecial(RealSysCalls(), null, At("null"));
  if (s.err() == EPERM) GTEST_SKIP() << "no CAP_MKNOD here (a container?): " << s.ToString();
  ASSERT_OK(s);
  struct stat st = Lstat(dir_ / "null");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, null.st_rdev);
  EXPECT_EQ(st.st_mode & 07777, null.st_mode & S_IRWXU);

  struct stat block = null;
  block.st_mode = S_IFBLK | 0660;
  block.st_rdev = makedev(7, 0);
  ASSERT_OK(MakeSpecial(RealSysCalls(), block, At("loop")));
  st = Lstat(dir_ / "loop");
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(7, 0));
}

class NoMknod final : public SysCalls {
 public:
  int mknodat(int, const char*, mode_t, dev_t) const override {
    errno = EPERM;
    return -1;
  }
};

TEST_F(MetadataSpecialFiles, DeviceWithoutPrivilegeNamesThePath) {
  const Status s = MakeSpecial(NoMknod(), Lstat("/dev/null"), At("null"));
  EXPECT_EQ(s.ToString(), "cannot create special file 'dst/null': Operation not permitted");
}

TEST_F(MetadataSpecialFiles, SocketsAndOtherTypesAreRefused) {
  struct stat st {};
  for (mode_t type : {S_IFSOCK, S_IFREG, S_IFDIR, S_IFLNK}) {
    st.st_mode = type | 0644;
    const Status s = MakeSpecial(RealSysCalls(), st, At("sock"));
    EXPECT_EQ(s.ToString(), "cannot create special file 'dst/sock': not a FIFO or a device");
  }
  EXPECT_TRUE(dir_.List().empty()) << "something was created";
}

}  // namespace
}  // namespace pcopy
