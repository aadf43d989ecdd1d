#include "exec/entry_copy.h"

#include <fcntl.h>
#include <stdio.h>

#include <cerrno>

#include "copy/digest.h"
#include "os/file_ref.h"
#include "os/leftovers.h"
#include "os/metadata.h"
#include "os/new_file.h"
#include "os/special_files.h"

namespace pcopy {
namespace {

Status Make(const SysCalls& sys, const struct stat& st, const FileRef& src, const FileRef& dst) {
  if (S_ISLNK(st.st_mode)) return CopySymlink(sys, src, static_cast<size_t>(st.st_size), dst);
  return MakeSpecial(sys, st, dst);
}

}  // namespace

bool PreservesAny(const PreserveSet& p) { return p.mode || p.ownership || p.timestamps || p.xattr; }

mode_t CreationMode(const TreeWorkerConfig& config, const struct stat& src, Publish publish) {
  if (!PreservesAny(config.preserve)) return src.st_mode & 0777;
  return publish == Publish::kInPlace ? (src.st_mode & 0777) | S_IWUSR : 0600;
}

bool SettledByExisting(const TreeWorkerConfig& config, Publish publish, int dst_dir,
                       const TaskItem& item, const struct stat& src, const std::string& src_name,
                       const std::string& dst_name, ItemState* state, Status* error) {
  if (publish != Publish::kViaTemporary) return false;
  switch (CheckExisting(*config.sys, dst_dir, item.target_name().c_str(), src, config.no_clobber,
                        config.update)) {
    case Existing::kKeep:
      *state = ItemState::kSkipped;
      return true;
    case Existing::kSameFile:
      *error = SameFileError(src_name, dst_name);
      *state = ItemState::kFailed;
      return true;
    default:
      return false;
  }
}

bool AlreadyCopied(const TreeWorkerConfig& config, int dst_dir, const std::string& name, int src_fd,
                   const struct stat& src, const std::string& src_name,
                   const std::string& dst_name) {
  if (config.resume == ResumeCheck::kOff) return false;
  const SysCalls& sys = *config.sys;
  struct stat st;
  if (sys.fstatat(dst_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size != src.st_size || (st.st_dev == src.st_dev && st.st_ino == src.st_ino)) {
    return false;
  }
  if (config.resume == ResumeCheck::kTime) {
    return st.st_mtim.tv_sec == src.st_mtim.tv_sec && st.st_mtim.tv_nsec == src.st_mtim.tv_nsec;
  }
  UniqueFd dst(sys.openat(dst_dir, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0));
  bool differ = true;
  uint64_t where = 0;
  if (!dst.valid() ||
      !FirstDifference(DigestInput{src_fd, src_name}, DigestInput{dst.get(), dst_name}, 0,
                       static_cast<uint64_t>(src.st_size), &differ, &where)
           .ok() ||
      differ) {
    return false;
  }
  if (!PreservesAny(config.preserve)) return true;
  return ApplyMetadata(sys, FileRef::Open(src_fd, src_name), src,
                       FileRef::Open(dst.get(), dst_name), config.preserve, config.env)
      .ok();
}

ItemState CopySpecialEntry(const TreeWorkerConfig& config, Publish publish, int src_dir,
                           int dst_dir, const TaskItem& item, const std::string& src_name,
                           const std::string& dst_name, Status* error) {
  const SysCalls& sys = *config.sys;
  struct stat st;
  // A FIFO or device reached through a symlink (-L, -H) is recreated as what the link leads to.
  if (sys.fstatat(src_dir, item.name.c_str(), &st, item.follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
    *error = Status::FromErrno("cannot stat", src_name, errno);
    return ItemState::kFailed;
  }
  if (st.st_ino != item.ino || (config.compare_dev && st.st_dev != item.dev)) {
    *error = Status::Failure("cannot copy", src_name,
                             "it was replaced during the copy (not the file pcopy examined)");
    return ItemState::kFailed;
  }
  const std::string& target = item.target_name();
  ItemState settled;
  if (SettledByExisting(config, publish, dst_dir, item, st, src_name, dst_name, &settled, error)) {
    return settled;
  }
  const std::string made = publish == Publish::kInPlace ? target : TemporaryName();
  // Its xattrs are read from the name only when the name is the entry itself, not a link to it.
  const FileRef src =
      item.follow ? FileRef::None(src_name) : FileRef::At(src_dir, item.name.c_str(), src_name);
  const FileRef dst = FileRef::At(dst_dir, made.c_str(), dst_name);
  Status s = Make(sys, st, src, dst);
  if (!s.ok() && s.err() == EEXIST && publish == Publish::kInPlace) {
    // In a hidden tree, only a worker replaced halfway through can have made it: again.
    sys.unlinkat(dst_dir, made.c_str(), 0);
    s = Make(sys, st, src, dst);
  }
  if (!s.ok()) {
    *error = std::move(s);
    return ItemState::kFailed;
  }
  // A symlink has no mode of its own: without -p it is left as made.
  if (!S_ISLNK(st.st_mode) || PreservesAny(config.preserve)) {
    s = ApplyMetadata(sys, src, st, dst, config.preserve, config.env);
  }
  if (s.ok() && publish == Publish::kViaTemporary &&
      sys.renameat2(dst_dir, made.c_str(), dst_dir, target.c_str(),
                    config.no_clobber ? RENAME_NOREPLACE : 0) != 0) {
    if (errno == EEXIST && config.no_clobber) {
      sys.unlinkat(dst_dir, made.c_str(), 0);
      return ItemState::kSkipped;
    }
    s = errno == EISDIR ? Status::Message("cannot overwrite directory " + Quote(dst_name) +
                                          " with non-directory")
                        : Status::FromErrno("cannot create", dst_name, errno);
  }
  if (s.ok()) return ItemState::kCopied;
  sys.unlinkat(dst_dir, made.c_str(), 0);
  *error = std::move(s);
  return ItemState::kFailed;
}

}  // namespace pcopy
