#include "os/xattr_copy.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "os/growing_buffer.h"

namespace pcopy {
namespace {

// One file's extended attributes: the f* calls on an open descriptor, else the l* calls on its
// ProcPath (never following a symlink).
class XattrFile {
 public:
  XattrFile(const SysCalls& sys, const FileRef& ref)
      : sys_(sys), ref_(ref), path_(ref.open() ? std::string() : ref.ProcPath()) {}

  ssize_t List(char* buf, size_t size) const {
    return ref_.open() ? sys_.flistxattr(ref_.fd, buf, size)
                       : sys_.llistxattr(path_.c_str(), buf, size);
  }
  ssize_t Get(const char* name, char* buf, size_t size) const {
    return ref_.open() ? sys_.fgetxattr(ref_.fd, name, buf, size)
                       : sys_.lgetxattr(path_.c_str(), name, buf, size);
  }
  int Set(const char* name, const char* value, size_t size) const {
    return ref_.open() ? sys_.fsetxattr(ref_.fd, name, value, size, 0)
                       : sys_.lsetxattr(path_.c_str(), name, value, size, 0);
  }

 private:
  const SysCalls& sys_;
  const FileRef& ref_;
  std::string path_;
};

// Calls read(buf, size) until the answer fits: on ERANGE it asks read(nullptr, 0) for the size
// and tries again with that much room. The answer can grow in between, hence a few rounds.
template <typename Read>
ssize_t ReadAll(GrowingBuffer* buf, Read read) {
  for (int round = 0; round < 8; ++round) {
    const ssize_t n = read(buf->data(), buf->size());
    if (n >= 0 || errno != ERANGE) return n;
    const ssize_t needed = read(nullptr, 0);
    if (needed < 0) return needed;
    buf->Reserve(static_cast<size_t>(needed));
  }
  errno = ERANGE;
  return -1;
}

ssize_t GetValue(const XattrFile& file, const char* name, GrowingBuffer* value) {
  return ReadAll(value, [&](char* buf, size_t size) { return file.Get(name, buf, size); });
}

// Records the failures of one CopyXattrs as its contract says.
class FailurePolicy {
 public:
  FailurePolicy(bool required, std::vector<Status>* warnings)
      : required_(required), warnings_(warnings) {}
  // True when the copy must stop and return error().
  bool Stop(Status failure) {
    if (required_) {
      error_ = std::move(failure);
      return true;
    }
    const bool unsupported = failure.err() == ENOTSUP || failure.err() == ENODATA;
    if (!unsupported && warnings_ != nullptr) warnings_->push_back(std::move(failure));
    return false;
  }
  // The error that stopped the copy; OK if none did.
  Status error() const { return error_; }

 private:
  bool required_;
  std::vector<Status>* warnings_;
  Status error_;
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool IsCopiedXattr(std::string_view name) {
  if (name == "security.selinux" || name == "security.evm") return false;
  return StartsWith(name, "user.") || StartsWith(name, "trusted.") || StartsWith(name, "security.");
}

Status CopyXattrs(const SysCalls& sys, const FileRef& src, const FileRef& dst, bool required,
                  std::vector<Status>* warnings) {
  const XattrFile from(sys, src);
  const XattrFile to(sys, dst);
  FailurePolicy policy(required, warnings);
  GrowingBuffer list;
  const ssize_t listed =
      ReadAll(&list, [&](char* buf, size_t size) { return from.List(buf, size); });
  if (listed < 0) {
    if (errno == ENOTSUP || errno == ENOSYS) return {};  // no xattrs on src's file system
    policy.Stop(Status::FromErrno("listing attributes of", src.display, errno));
    return policy.error();  // OK unless required
  }
  GrowingBuffer value;
  const size_t end = static_cast<size_t>(listed);
  for (size_t at = 0; at < end;) {
    const char* name = list.data() + at;
    const size_t length = strnlen(name, end - at);
    if (at + length == end) break;  // not NUL-terminated: the kernel never lists that
    at += length + 1;
    if (!IsCopiedXattr({name, length})) continue;
    const ssize_t size = GetValue(from, name, &value);
    if (size < 0 && errno == ENODATA) continue;  // removed since the list was read
    if (size < 0) {
      if (policy.Stop(
              Status::FromErrno("getting attribute " + Quote(name) + " of", src.display, errno))) {
        return policy.error();
      }
      continue;
    }
    if (to.Set(name, value.data(), static_cast<size_t>(size)) != 0 &&
        policy.Stop(
            Status::FromErrno("setting attribute " + Quote(name) + " for", dst.display, errno))) {
      return policy.error();
    }
  }
  return {};
}

Status CopyAcls(const SysCalls& sys, const FileRef& src, const FileRef& dst, bool directory,
                bool* copied) {
  const XattrFile from(sys, src);
  const XattrFile to(sys, dst);
  GrowingBuffer value;
  struct Acl {
    const char* name;
    bool directories_only;
  };
  for (const Acl& acl :
       {Acl{"system.posix_acl_access", false}, Acl{"system.posix_acl_default", true}}) {
    if (acl.directories_only && !directory) continue;
    const char* name = acl.name;
    const ssize_t size = GetValue(from, name, &value);
    if (size < 0 && (errno == ENODATA || errno == ENOTSUP)) continue;
    if (size < 0) {
      return Status::FromErrno("getting attribute " + Quote(name) + " of", src.display, errno);
    }
    if (to.Set(name, value.data(), static_cast<size_t>(size)) != 0) {
      return Status::FromErrno("preserving permissions for", dst.display, errno);
    }
    if (copied != nullptr) *copied = true;
  }
  return {};
}

}  // namespace pcopy
