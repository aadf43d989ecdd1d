#include "metadata_test_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"
#include "os/file_ref.h"
#include "os/sys_calls.h"

namespace pcopy::test {

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path << ": " << strerror(errno);
  return st;
}

void SetTimes(const std::string& path, struct timespec atime, struct timespec mtime) {
  const struct timespec times[2] = {atime, mtime};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
      << path << ": " << strerror(errno);
}

bool SameTime(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

std::map<std::string, std::string> Xattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  std::string names(65536, '\0');
  const ssize_t n = llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) {
    EXPECT_TRUE(errno == ENOTSUP) << path << ": " << strerror(errno);
    return out;
  }
  for (size_t at = 0; at < static_cast<size_t>(n);) {
    const std::string name(names.data() + at);
    at += name.size() + 1;
    std::string value(65536, '\0');
    const ssize_t len = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    EXPECT_GE(len, 0) << path << " " << name << ": " << strerror(errno);
    value.resize(len < 0 ? 0 : static_cast<size_t>(len));
    out[name] = value;
  }
  return out;
}

int SetXattr(const std::string& path, const std::string& name, const std::string& value) {
  return lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

std::string AclBytes(uint32_t uid, uint16_t perms) {
  std::string out;
  auto put32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto entry = [&](uint16_t tag, uint16_t perm, uint32_t id) {
    out.append(reinterpret_cast<const char*>(&tag), 2);
    out.append(reinterpret_cast<const char*>(&perm), 2);
    put32(id);
  };
  const uint32_t kNoId = 0xffffffff;
  put32(2);               // POSIX_ACL_XATTR_VERSION; entries in the kernel's order, by tag then id
  entry(0x01, 7, kNoId);  // ACL_USER_OBJ rwx
  entry(0x02, perms, uid);  // ACL_USER
  entry(0x04, 5, kNoId);    // ACL_GROUP_OBJ r-x
  entry(0x10, 7, kNoId);    // ACL_MASK rwx
  entry(0x20, 4, kNoId);    // ACL_OTHER r--
  return out;
}

Status ApplyBetween(const std::string& src, const std::string& dst, const PreserveSet& set,
                    const MetadataEnv& env, std::vector<Status>* warnings) {
  UniqueFd in(open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  UniqueFd out(open(dst.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in.valid()) return Status::FromErrno("open", src, errno);
  if (!out.valid()) return Status::FromErrno("open", dst, errno);
  return ApplyMetadata(RealSysCalls(), FileRef::Open(in.get(), src), Lstat(src),
                       FileRef::Open(out.get(), dst), set, env, warnings);
}

}  // namespace pcopy::test
