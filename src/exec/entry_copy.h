// entry_copy.h: the entries of a tree that are not regular files (symlinks, FIFOs, device nodes),
// recreated by a tree worker, and the mode a new regular file is created with.
//
// Each entry appears whole, like a file (new_file.h): under its own name inside a new tree's
// hidden directory, or made under a hidden name and renamed over its name (which -n keeps)
// otherwise. Its metadata (special_files.h, metadata.h) is applied before it appears. Runs in a
// forked worker; nothing here keeps state.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/status.h"
#include "exec/tree_config.h"
#include "exec/tree_task.h"

namespace pcopy {

// Whether anything beyond cp's default (the mode less the umask) is preserved.
bool PreservesAny(const PreserveSet& p);

// The mode a regular file is created with. Nothing preserved: its final mode (open(2) applies
// the umask, which is what cp gives a new file), so no fchmod is needed. Preserving, in a new
// tree's hidden directory (kInPlace: mode 0700 until the tree is published, so no one else can
// reach the file): SOURCE's permission bits plus u+w (ApplyMetadata must still be able to set
// xattrs), so that ApplyMetadata finds the mode already right for most files and skips the
// fchmod. Anywhere else, 0600 until ApplyMetadata: the file may be reachable by name before its
// owner is set.
mode_t CreationMode(const TreeWorkerConfig& config, const struct stat& src, Publish publish);

// Into an existing directory (kViaTemporary): whether what is at item's name already ends the
// entry here, as -n or -u keeping it (*state kSkipped) or as SOURCE itself (kFailed, with cp's
// "are the same file" in *error). One fstatat; nothing to check in a new tree's hidden directory.
bool SettledByExisting(const TreeWorkerConfig& config, Publish publish, int dst_dir,
                       const TaskItem& item, const struct stat& src, const std::string& src_name,
                       const std::string& dst_name, ItemState* state, Status* error);

// --resume: whether the regular file at dst_dir/name is already SOURCE's copy (src, open as
// src_fd) by config.resume's check; false when it is off. A copy found by content gets SOURCE's
// metadata where it is preserved (its bytes are right; its mode or times may not be). Reads both
// files whole for kContent, so the caller runs it in a worker.
bool AlreadyCopied(const TreeWorkerConfig& config, int dst_dir, const std::string& name, int src_fd,
                   const struct stat& src, const std::string& src_name,
                   const std::string& dst_name);

// Recreates the symlink, FIFO or device node `item` of src_dir in dst_dir.
ItemState CopySpecialEntry(const TreeWorkerConfig& config, Publish publish, int src_dir,
                           int dst_dir, const TaskItem& item, const std::string& src_name,
                           const std::string& dst_name, Status* error);

}  // namespace pcopy
