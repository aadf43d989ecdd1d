#include "base/unique_fd.h"

#include <unistd.h>

#include <cerrno>

namespace pcopy {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Status UniqueFd::Close(std::string_view path) {
  if (fd_ < 0) return {};
  // Linux releases the descriptor even when close() fails, EINTR included: never retry.
  int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0) return Status::FromErrno("close", path, errno);
  return {};
}

}  // namespace pcopy
