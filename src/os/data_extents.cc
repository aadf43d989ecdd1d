#include "os/data_extents.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace pcopy {
namespace {

// Errnos of a SEEK_DATA that the file system does not implement: the whole file is then data.
bool CannotSeekData(int err) { return err == EINVAL || err == EOPNOTSUPP || err == ENOSYS; }

// lseek, as a 64-bit offset or -1 with errno (EINTR cannot happen: lseek does not block).
int64_t Seek(const SysCalls& sys, int fd, uint64_t offset, int whence) {
  return static_cast<int64_t>(sys.lseek(fd, static_cast<off_t>(offset), whence));
}

}  // namespace

bool MayHaveHoles(const struct stat& st) {
  return S_ISREG(st.st_mode) &&
         static_cast<uint64_t>(st.st_blocks) * 512 < static_cast<uint64_t>(st.st_size);
}

Status DataExtents(const SysCalls& sys, int fd, uint64_t size, const std::string& name,
                   std::vector<ByteRange>* out) {
  out->clear();
  for (uint64_t offset = 0; offset < size;) {
    const int64_t data = Seek(sys, fd, offset, SEEK_DATA);
    if (data < 0) {
      const int err = errno;
      if (err == ENXIO) break;  // no data from offset to the end: a hole
      if (offset == 0 && CannotSeekData(err)) {
        out->push_back(ByteRange{0, size});
        return {};
      }
      return Status::FromErrno("cannot find the data of", name, err, offset);
    }
    if (static_cast<uint64_t>(data) >= size) break;  // data only past the part copied
    int64_t hole = Seek(sys, fd, static_cast<uint64_t>(data), SEEK_HOLE);
    if (hole < 0) {
      // ENXIO: the file shrank under us; the copy's reads will meet its new end and say so.
      if (errno != ENXIO) return Status::FromErrno("cannot find the data of", name, errno, offset);
      hole = static_cast<int64_t>(size);
    }
    const uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (end <= static_cast<uint64_t>(data)) break;  // cannot happen but for a racing truncate
    out->push_back(ByteRange{static_cast<uint64_t>(data), end - static_cast<uint64_t>(data)});
    offset = end;
  }
  return {};
}

Status SourceExtents(const SysCalls& sys, int fd, uint64_t size, SparseMode mode,
                     const std::string& name, std::vector<ByteRange>* out) {
  out->clear();
  struct stat st;
  const bool regular = mode != SparseMode::kNever && sys.fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular && (mode == SparseMode::kAlways || MayHaveHoles(st))) {
    return DataExtents(sys, fd, size, name, out);
  }
  if (size > 0) out->push_back(ByteRange{0, size});
  return {};
}

uint64_t TotalBytes(const std::vector<ByteRange>& ranges) {
  uint64_t total = 0;
  for (const ByteRange& r : ranges) total += r.length;
  return total;
}

}  // namespace pcopy
