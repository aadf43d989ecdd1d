// tree_config.h: what every worker of a tree copy is told before it starts (it inherits it
// across fork(), or reads it as its first message: a worker started before the copy was known,
// task_pool.h Prestart, or another MPI rank): the method and buffer, what to preserve, and the
// rules for existing entries.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "copy/io.h"
#include "exec/chunk_tuning.h"
#include "os/data_extents.h"
#include "os/metadata.h"
#include "os/sys_calls.h"

namespace pcopy {

// --resume of a tree: what makes a regular file already at its DEST name count as copied, so
// that the rerun of an interrupted copy skips it. kTime: SOURCE's size and mtime to the
// nanosecond, as rsync's quick check (only a copy that preserves timestamps can match). kContent:
// its size and every byte, read back.
enum class ResumeCheck : uint8_t { kOff, kTime, kContent };

struct TreeWorkerConfig {
  const SysCalls* sys = nullptr;
  Method method = Method::kPread;  // resolved: never kAuto
  uint64_t buffer_size = 0;
  // --method auto on pread/pwrite: each worker tunes the write size of large files' chunks from
  // buffer_size up to max_write_size (exec/chunk_tuning.h); tuning.min is buffer_size.
  TuningConfig tuning;
  uint64_t max_write_size = 0;
  PreserveSet preserve;
  MetadataEnv env;            // the parent's umask and privilege, found before fork
  bool follow_links = false;  // -L: the walk follows every symlink (TaskItem::follow says which)
  bool no_clobber = false;    // -n: an existing destination entry is left alone
  bool update = false;        // -u: ... unless it is older than the source
  bool fsync = false;         // each file's data durable before it is published
  uint64_t bwlimit = 0;       // bytes per second for each worker; 0 = unlimited
  SparseMode sparse = SparseMode::kAuto;  // holes of a sparse file stay holes (data_extents.h)
  // Clone first (--reflink=auto where it can work, always): a whole file with FICLONE, a large
  // file's chunk with FICLONERANGE.
  bool clone = false;
  bool clone_required = false;  // --reflink=always: a declined clone is an error
  ResumeCheck resume = ResumeCheck::kOff;
  // Whether an entry's device number is compared with the walk's (TaskItem::dev): not on another
  // machine than the walk's (pcopy-mpi's ranks), where an NFS client numbers the same file system
  // its own way; the inode number alone is compared there.
  bool compare_dev = true;
};

// The config as bytes, for a worker that did not inherit it. sys and env are not encoded: the
// process that decodes it uses its own (RealSysCalls, CurrentMetadataEnv).
std::vector<char> EncodeTreeConfig(const TreeWorkerConfig& config);
// False if bytes is not a whole config; sys and env are set to the caller's own.
bool DecodeTreeConfig(const std::vector<char>& bytes, TreeWorkerConfig* config);

}  // namespace pcopy
