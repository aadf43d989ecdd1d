#include "os/metadata.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "os/xattr_copy.h"

namespace pcopy {
namespace {

// cp's words, in cp's order (its usage lists them so).
constexpr std::string_view kWords[] = {"mode",    "timestamps", "ownership", "links",
                                       "context", "xattr",      "all"};

// The word that name stands for (itself, or the one word it is a prefix of), or an error.
Status MatchWord(std::string_view name, const char* option, std::string_view* word) {
  int found = 0;
  for (std::string_view w : kWords) {
    if (w == name) {
      *word = w;
      return {};
    }
    if (w.substr(0, name.size()) == name) {
      *word = w;
      ++found;
    }
  }
  if (found == 1) return {};
  std::string valid;
  for (std::string_view w : kWords) valid += (valid.empty() ? "'" : ", '") + std::string(w) + "'";
  return Status::Message(std::string(found == 0 ? "invalid" : "ambiguous") + " argument " +
                         Quote(name) + " for '" + option + "'; valid arguments are " + valid);
}

Status SetWord(std::string_view word, bool value, PreserveSet* set) {
  if (word == "mode") set->mode = value;
  if (word == "timestamps") set->timestamps = value;
  if (word == "ownership") set->ownership = value;
  if (word == "links") set->links = value;
  if (word == "xattr") set->xattr = set->xattr_required = value;
  if (word == "all") {
    set->mode = set->timestamps = set->ownership = set->links = set->xattr = value;
    if (!value) set->xattr_required = false;
  }
  if (word == "context" && value) {
    return Status::Message("cannot preserve security context: pcopy does not copy SELinux labels");
  }
  return {};
}

int Chown(const SysCalls& sys, const FileRef& dst, uid_t uid, gid_t gid) {
  return dst.open() ? sys.fchown(dst.fd, uid, gid)
                    : sys.fchownat(dst.dirfd, dst.name, uid, gid, AT_SYMLINK_NOFOLLOW);
}

// Step 1. *owned: dst now has src's owner and group. *changed: a chown was made (which clears
// setuid and setgid, so a stat taken before it no longer tells the mode). now: dst's stat where
// one was taken: a dst that already has the owner and group (the usual new file of a user
// copying their own files) needs no chown, as cp skips it.
Status PreserveOwnership(const SysCalls& sys, const struct stat& src_st, const FileRef& dst,
                         const MetadataEnv& env, const struct stat* now, bool* owned,
                         bool* changed) {
  if (now != nullptr && now->st_uid == src_st.st_uid && now->st_gid == src_st.st_gid) {
    *owned = true;
    return {};
  }
  *changed = true;
  *owned = Chown(sys, dst, src_st.st_uid, src_st.st_gid) == 0;
  if (*owned) return {};
  const int err = errno;
  if ((err == EPERM || err == EINVAL) && !env.chown_privileged) {
    (void)Chown(sys, dst, static_cast<uid_t>(-1), src_st.st_gid);  // the group, if allowed
    return {};
  }
  return Status::FromErrno("failed to preserve ownership for", dst.display, err);
}

// Step 3, for anything but a symlink. special_bits: which of setuid, setgid and sticky may be
// set (none once ownership was not preserved). now: dst's stat, still true of its mode, where
// one was taken: a mode already right needs no chmod (a chmod to the same mode changes nothing).
Status PreserveMode(const SysCalls& sys, const FileRef& src, const struct stat& src_st,
                    const FileRef& dst, const PreserveSet& set, const MetadataEnv& env,
                    mode_t special_bits, const struct stat* now) {
  const bool directory = S_ISDIR(src_st.st_mode);
  mode_t mode = 0;
  if (set.mode) {
    bool acl = false;
    if (src.reachable()) {
      Status s = CopyAcls(sys, src, dst, directory, &acl);
      if (!s.ok()) return s;
    }
    if (acl) now = nullptr;
    mode = src_st.st_mode & 07777;
  } else {
    mode = src_st.st_mode & (directory ? 01777 : 0777) & ~env.umask;
    if (directory) {  // keep the setgid bit a setgid parent passed on at mkdir
      struct stat dir_st;
      if (now == nullptr) {
        const int rc = dst.open() ? sys.fstat(dst.fd, &dir_st)
                                  : sys.fstatat(dst.dirfd, dst.name, &dir_st, AT_SYMLINK_NOFOLLOW);
        if (rc != 0) return Status::FromErrno("cannot stat", dst.display, errno);
        now = &dir_st;
      }
      mode |= now->st_mode & S_ISGID;
    }
  }
  mode &= 0777 | special_bits;
  if (now != nullptr && (now->st_mode & 07777) == mode) return {};
  const int rc = dst.open() ? sys.fchmod(dst.fd, mode)
                            : sys.fchmodat(dst.dirfd, dst.name, mode, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return Status::FromErrno("preserving permissions for", dst.display, errno);
  return {};
}

}  // namespace

Status ParsePreserveList(std::string_view list, bool value, PreserveSet* set) {
  const char* option = value ? "--preserve" : "--no-preserve";
  PreserveSet parsed = *set;
  for (size_t start = 0;;) {
    const size_t comma = list.find(',', start);
    const std::string_view name =
        list.substr(start, comma == std::string_view::npos ? comma : comma - start);
    std::string_view word;
    Status s = MatchWord(name, option, &word);
    if (s.ok()) s = SetWord(word, value, &parsed);
    if (!s.ok()) return s;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  *set = parsed;
  return {};
}

MetadataEnv CurrentMetadataEnv() {
  MetadataEnv env;
  env.umask = umask(0);
  umask(env.umask);
  env.chown_privileged = geteuid() == 0;
  return env;
}

Status ApplyMetadata(const SysCalls& sys, const FileRef& src, const struct stat& src_st,
                     const FileRef& dst, const PreserveSet& set, const MetadataEnv& env,
                     std::vector<Status>* warnings) {
  // One fstat of an open dst (no path walk) saves the chown and chmod that would change
  // nothing: each costs more than the fstat (a tree of small files copied with -a spent 4% of
  // its time in them). A dst reached by name keeps the plain calls: an fstatat costs as much.
  struct stat dst_st;
  const struct stat* now = nullptr;
  if (dst.open() && sys.fstat(dst.fd, &dst_st) == 0) now = &dst_st;
  mode_t special_bits = S_ISUID | S_ISGID | S_ISVTX;
  if (set.ownership) {
    bool owned = false, changed = false;
    Status s = PreserveOwnership(sys, src_st, dst, env, now, &owned, &changed);
    if (!s.ok()) return s;
    if (!owned) special_bits = 0;  // as cp: no setuid file owned by the wrong user
    if (changed) now = nullptr;
  }
  if (set.xattr && src.reachable()) {
    Status s = CopyXattrs(sys, src, dst, set.xattr_required, warnings);
    if (!s.ok()) return s;
  }
  if (!S_ISLNK(src_st.st_mode)) {
    Status s = PreserveMode(sys, src, src_st, dst, set, env, special_bits, now);
    if (!s.ok()) return s;
  }
  if (set.timestamps) {
    const struct timespec times[2] = {src_st.st_atim, src_st.st_mtim};
    const int rc = dst.open() ? sys.futimens(dst.fd, times)
                              : sys.utimensat(dst.dirfd, dst.name, times, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return Status::FromErrno("preserving times for", dst.display, errno);
  }
  return {};
}

}  // namespace pcopy
