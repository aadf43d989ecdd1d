#include "os/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/unique_fd.h"

namespace pcopy {
namespace {

struct Level {
  DIR* dir = nullptr;  // the directory being emptied
  std::string name;    // its name in the level above
};

DIR* OpenDir(const SysCalls& sys, int parent, const char* name) {
  const int fd = sys.openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  DIR* d = fdopendir(fd);
  if (d == nullptr) sys.close(fd);
  return d;
}

}  // namespace

Status RemoveTree(const SysCalls& sys, int parent_fd, const std::string& name,
                  const std::string& display) {
  Status first;
  auto note = [&](const char* what, int err) {
    if (first.ok()) first = Status::FromErrno(what, display, err);
  };
  std::vector<Level> stack;
  DIR* top = OpenDir(sys, parent_fd, name.c_str());
  if (top == nullptr) {
    if (errno != ENOENT) note("cannot remove", errno);
    return first;
  }
  stack.push_back(Level{top, name});
  while (!stack.empty()) {
    Level& level = stack.back();
    errno = 0;
    dirent* e = readdir(level.dir);
    if (e != nullptr) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      const int fd = dirfd(level.dir);
      if (sys.unlinkat(fd, e->d_name, 0) == 0) continue;
      if (errno != EISDIR && errno != EPERM) {
        if (errno != ENOENT) note("cannot remove", errno);
        continue;
      }
      if (DIR* child = OpenDir(sys, fd, e->d_name)) {
        stack.push_back(Level{child, e->d_name});
      } else {
        note("cannot remove", errno);
      }
      continue;
    }
    if (errno != 0) note("cannot read directory", errno);
    const std::string done = std::move(level.name);
    closedir(level.dir);
    stack.pop_back();
    const int parent = stack.empty() ? parent_fd : dirfd(stack.back().dir);
    if (sys.unlinkat(parent, done.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      note("cannot remove", errno);
    }
  }
  return first;
}

}  // namespace pcopy
