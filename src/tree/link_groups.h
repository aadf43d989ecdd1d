// link_groups.h: hard links among the sources (--preserve=links), recreated as hard links.
//
// The first name of a file with more than one link is copied like any file; every other name
// met later becomes a hard link to that copy, made by the parent once the copy is published (a
// link to a half-written file would publish it early). Only files with st_nlink > 1 are
// remembered: one small entry each, so a tree without hard links costs nothing.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "exec/tree_task.h"
#include "os/sys_calls.h"

namespace pcopy {

// A name waiting to become a link: where it goes and how it is published.
struct LinkRequest {
  dev_t dev = 0;  // the file it links to, in the source
  ino_t ino = 0;
  size_t node = 0;  // the directory node whose completion waits for it
  UniqueFd dir;     // its destination directory
  std::string name;
  std::string src_display;
  std::string dst_display;
  Publish publish = Publish::kInPlace;
};

class LinkGroups {
 public:
  enum class Role { kCopy, kLink };
  // A regular file met in the walk: kCopy for the first name of a linked file (remembered) and
  // for any file with one link; kLink for a later name of a file already met.
  Role Classify(const struct stat& st);
  // Whether the first copy of the file is published (links can be made at once).
  bool Ready(const LinkRequest& request) const;
  // Queues request until the first copy is published.
  void Wait(LinkRequest request);
  // The first copy of (dev, ino) now exists as dir_fd/name: returns the links waiting for it.
  std::vector<LinkRequest> Published(dev_t dev, ino_t ino, int dir_fd, const std::string& name);
  // The first copy failed: the waiting names are copied as files instead, and the next name met
  // is copied too. Returns the waiting requests.
  std::vector<LinkRequest> Failed(dev_t dev, ino_t ino);
  // Makes request a hard link to its file's published copy.
  Status Link(const SysCalls& sys, const LinkRequest& request, bool no_clobber) const;

 private:
  struct Group {
    bool published = false;
    UniqueFd dir;  // the first copy's directory, once published
    std::string name;
    std::vector<LinkRequest> waiting;
  };
  std::map<std::pair<dev_t, ino_t>, Group> groups_;
};

}  // namespace pcopy
