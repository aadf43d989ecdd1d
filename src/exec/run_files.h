// run_files.h: the descriptors of a run's files, opened by the process that runs the executor.
//
// Every file is opened by path (an executor takes paths: executor.h) and checked to be the very
// file the job examined (device and inode); a FIFO put in its place is refused without blocking.
// The workers then copy through these descriptors (inherited across fork(), or used in place by
// the parent), so a file renamed or replaced after this point does not change what is copied.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "exec/executor.h"
#include "exec/worker.h"

namespace pcopy {

class RunFiles {
 public:
  // Opens SOURCE read-only and DEST write-only for every file of config.
  Status Open(const ExecConfig& config);
  // One per config.files entry, valid while this object lives.
  const FileFds* fds() const { return fds_.data(); }

 private:
  std::vector<UniqueFd> open_;  // every file's SOURCE and DEST
  std::vector<FileFds> fds_;
};

}  // namespace pcopy
