#include "app/random_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "base/random_bytes.h"
#include "base/unique_fd.h"
#include "copy/io.h"

namespace pcopy {
namespace {

// 128 KiB writes: larger ones into a new file are slow on this class of machine (README).
constexpr size_t kWriteSize = 128 << 10;

}  // namespace

Status WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed,
                       SignalGuard* signals) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::FromErrno("cannot create", path, errno);
  RandomBytes random(seed);
  std::vector<char> buffer(kWriteSize);
  for (uint64_t offset = 0; offset < size;) {
    if (signals != nullptr && signals->Poll() != 0) break;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kWriteSize, size - offset));
    random.Fill(std::span<char>(buffer.data(), n));
    if (IoError e = WriteFull(RealSysCalls(), fd.get(), IoFile::kDest, buffer.data(), n, offset);
        !e.ok()) {
      return ToStatus(e, path);
    }
    offset += n;
  }
  return fd.Close(path);
}

}  // namespace pcopy
