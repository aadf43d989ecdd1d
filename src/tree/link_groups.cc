#include "tree/link_groups.h"

#include <fcntl.h>

#include <cerrno>

#include "os/leftovers.h"

namespace pcopy {

LinkGroups::Role LinkGroups::Classify(const struct stat& st) {
  if (st.st_nlink < 2) return Role::kCopy;
  const auto [it, inserted] = groups_.try_emplace({st.st_dev, st.st_ino});
  return inserted ? Role::kCopy : Role::kLink;
}

bool LinkGroups::Ready(const LinkRequest& r) const {
  const auto it = groups_.find({r.dev, r.ino});
  return it != groups_.end() && it->second.published;
}

void LinkGroups::Wait(LinkRequest request) {
  groups_[{request.dev, request.ino}].waiting.push_back(std::move(request));
}

std::vector<LinkRequest> LinkGroups::Published(dev_t dev, ino_t ino, int dir_fd,
                                               const std::string& name) {
  const auto it = groups_.find({dev, ino});
  if (it == groups_.end()) return {};
  Group& g = it->second;
  g.published = true;
  g.dir = UniqueFd(fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  g.name = name;
  return std::exchange(g.waiting, {});
}

std::vector<LinkRequest> LinkGroups::Failed(dev_t dev, ino_t ino) {
  const auto it = groups_.find({dev, ino});
  if (it == groups_.end()) return {};
  std::vector<LinkRequest> waiting = std::move(it->second.waiting);
  groups_.erase(it);
  return waiting;
}

Status LinkGroups::Link(const SysCalls& sys, const LinkRequest& r, bool no_clobber) const {
  const Group& g = groups_.at({r.dev, r.ino});
  const std::string made = r.publish == Publish::kInPlace ? r.name : TemporaryName();
  int rc = sys.linkat(g.dir.get(), g.name.c_str(), r.dir.get(), made.c_str(), 0);
  if (rc != 0 && errno == EEXIST && r.publish == Publish::kInPlace) {
    // In a hidden tree only a worker replaced halfway can have put it there: again.
    sys.unlinkat(r.dir.get(), made.c_str(), 0);
    rc = sys.linkat(g.dir.get(), g.name.c_str(), r.dir.get(), made.c_str(), 0);
  }
  if (rc != 0) return Status::FromErrno("cannot create hard link", r.dst_display, errno);
  if (r.publish == Publish::kInPlace) return {};
  if (sys.renameat2(r.dir.get(), made.c_str(), r.dir.get(), r.name.c_str(),
                    no_clobber ? RENAME_NOREPLACE : 0) != 0) {
    const int err = errno;
    sys.unlinkat(r.dir.get(), made.c_str(), 0);
    if (err == EEXIST && no_clobber) return {};
    return Status::FromErrno("cannot create hard link", r.dst_display, err);
  }
  return {};
}

}  // namespace pcopy
