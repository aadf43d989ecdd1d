// tree_options.h: what a tree copy is asked to do (its operands and options) and what it reports.
// Plain data, shared by the interface (tree_copy.h) and the run's state (tree_run.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exec/task_runner.h"
#include "exec/tree_config.h"

namespace pcopy {

// One operand, resolved by the caller.
struct TreeSource {
  std::string src;  // as the user typed it
  std::string dst;  // what it becomes: DEST, or DEST/basename(SOURCE)
  bool directory = false;
  bool follow = false;  // open the operand through a symlink (-L, -H)
};

struct TreeOptions {
  TreeWorkerConfig worker;  // sys, method, buffer, preserve, -n, -u, -L, env
  unsigned jobs = 1;
  unsigned retries = 3;
  uint64_t chunk_size = 1 << 20;
  bool one_file_system = false;  // -x
  bool fail_fast = false;
  bool verbose = false;  // 'src' -> 'dst' for each entry, as cp -v
  bool quiet = false;    // -q: no notices
  // The workers to hand tasks to (pcopy-mpi's ranks), owned by the caller; null: forked workers
  // (exec/task_pool.h).
  TaskRunner* runner = nullptr;
  // Large files split into chunks are created under hidden names, never unnamed (O_TMPFILE):
  // workers that are not the parent's children open them by name.
  bool named_files = false;
};

struct TreeReport {
  uint64_t files = 0;  // entries copied (files, links, special files)
  uint64_t dirs = 0;   // directories completed
  uint64_t bytes = 0;
  uint64_t skipped = 0;        // kept by -n or -u
  uint64_t resumed = 0;        // --resume: files found already copied
  uint64_t resumed_bytes = 0;  // their data
  uint64_t errors = 0;         // entries reported and not copied
  size_t workers = 0;
  double seconds = 0;
  std::vector<std::string> retried;
  std::vector<WriteSizeReport> write_sizes;  // per worker that tuned its chunks' write size
  uint32_t used_methods = 0;       // TaskRunner::UsedMethods: what moved the bytes (0: not known)
  std::vector<std::string> notes;  // to print after the error: what an interrupted run kept
};

}  // namespace pcopy
