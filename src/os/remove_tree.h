// remove_tree.h: removing a directory and everything under it, as `rm -rf` does, relative to a
// directory descriptor: what a failed or interrupted tree copy does with the hidden directory
// it was building, and what the next run does with a dead run's.
//
// Depth-first with openat/unlinkat, never following a symlink and never leaving the file system
// it starts on, holding one descriptor per level: a tree deeper than PATH_MAX is removed too.
#pragma once

#include <string>

#include "base/status.h"
#include "os/sys_calls.h"

namespace pcopy {

// Removes parent_fd/name and its contents. The first error is returned (the rest is still tried).
Status RemoveTree(const SysCalls& sys, int parent_fd, const std::string& name,
                  const std::string& display);

}  // namespace pcopy
