// source_file.h: opening SOURCE and learning what it is and how big.
//
// The source is opened first and examined with fstat() on the open descriptor, so what is sized
// is what is read (no stat-then-open race). O_NONBLOCK keeps open() from hanging on a FIFO, which
// is then refused. The descriptor is O_CLOEXEC and shared read-only with the workers.
// A file on a pseudo file system (procfs, sysfs, debugfs, ...) gets size 0 whatever st_size says:
// /sys/devices/system/cpu/online reports 4096 bytes and holds four, so only reading to the end
// tells how much there is.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "os/sys_calls.h"

namespace pcopy {

// kStream: standard input ('-'), read once, in order, from where it stands (os/stream_io.h).
enum class SourceKind { kRegular, kBlockDevice, kStream };

struct SourceFile {
  UniqueFd fd;
  SourceKind kind = SourceKind::kRegular;
  uint64_t size = 0;  // 0 for a regular file may still hold data (/proc files): read to the end
  mode_t mode = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};

// What SOURCE is opened for, which the refusal of another kind of file names: "source is a
// directory; pcopy copies ...", "it is a directory; --compare compares ...", "...; digests are
// made of ..." (--checksum, --check, pcopy-mpi --checksum).
enum class SourceUse { kCopy, kCompare, kDigest };

Status OpenSource(const std::string& path, SourceFile* out, SourceUse use = SourceUse::kCopy,
                  const SysCalls& sys = RealSysCalls());

// Standard input as SOURCE ('-'), whatever it is (a pipe, a terminal, a redirected file): a
// kStream of size 0 with its own O_CLOEXEC descriptor (a dup of 0), read from where it stands as
// cat would. A directory is refused in one line; a closed standard input (held on /dev/null,
// write-only: os/stream_io.h) fails at its first read, EBADF.
Status OpenStandardInput(SourceFile* out, const SysCalls& sys = RealSysCalls());

// True for a file system whose files' sizes mean nothing (statfs f_type: procfs, sysfs, ...).
bool IsPseudoFileSystem(unsigned long magic);

}  // namespace pcopy
