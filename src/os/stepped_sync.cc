#include "os/stepped_sync.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

namespace pcopy {
namespace {

constexpr unsigned kWriteAndWait =
    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

}  // namespace

bool IsSyncRangeUnsupported(int err) {
  return err == ENOSYS || err == EINVAL || err == EOPNOTSUPP || err == ESPIPE;
}

Status SyncInSteps(const SysCalls& sys, int fd, const std::string& name, uint64_t size,
                   SignalGuard* signals, PhaseObserver* phases) {
  const PhaseReport report{phases, "syncing"};
  report(0, size);
  for (uint64_t offset = 0; offset < size;) {
    if (signals != nullptr && signals->Poll() != 0) {
      return Status::Interrupted(signals->terminating_signal());
    }
    const uint64_t length = std::min(kSyncStep, size - offset);
    if (sys.sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(length),
                            kWriteAndWait) != 0) {
      if (errno == EINTR) continue;
      if (IsSyncRangeUnsupported(errno)) break;
      return Status::FromErrno("fdatasync", name, errno);
    }
    offset += length;
    // The last step is told after the fdatasync, which may still have the metadata to write.
    if (offset < size) report(offset, size);
  }
  if (signals != nullptr && signals->Poll() != 0) {
    return Status::Interrupted(signals->terminating_signal());
  }
  int rc;
  do {
    rc = sys.fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return Status::FromErrno("fdatasync", name, errno);
  report(size, size);
  return {};
}

}  // namespace pcopy
