#include "exec/run_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace pcopy {
namespace {

IoError OpenChecked(const SysCalls& sys, const std::string& path, int flags,
                    const FileIdentity& want, IoFile file, UniqueFd* out) {
  // O_NONBLOCK: a FIFO put in the file's place must not block the open; it is refused below
  // and the flag is cleared once the file is known to be the one examined.
  *out = UniqueFd(sys.open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!out->valid()) return IoError::NoOffset(IoOp::kOpen, file, errno);
  struct stat st;
  if (sys.fstat(out->get(), &st) != 0) return IoError::NoOffset(IoOp::kStat, file, errno);
  if (IdentityOf(st) != want) return IoError::NoOffset(IoOp::kReplaced, file, 0);
  if (sys.fcntl(out->get(), F_SETFL, flags) != 0) {
    return IoError::NoOffset(IoOp::kOpen, file, errno);
  }
  return {};
}

}  // namespace

Status RunFiles::Open(const ExecConfig& config) {
  const SysCalls& sys = *config.sys;
  for (const ExecFile& f : config.files) {
    UniqueFd src, dst;
    IoError e = OpenChecked(sys, f.src_path, O_RDONLY, f.src_id, IoFile::kSource, &src);
    if (e.ok()) e = OpenChecked(sys, f.dst_path, O_WRONLY, f.dst_id, IoFile::kDest, &dst);
    if (!e.ok()) return ToStatus(e, f.src_name, f.dst_name);
    fds_.push_back(FileFds{src.get(), dst.get()});
    open_.push_back(std::move(src));
    open_.push_back(std::move(dst));
  }
  return {};
}

}  // namespace pcopy
