// unique_fd.h: the move-only owner of one file descriptor.
//
// The destructor closes quietly (for error paths); Close() reports the result where it matters,
// since close() of a written file can be where NFS or a full disk surfaces an error.
// A descriptor owned by the parent is inherited by forked workers; each process closes its own
// copy, and workers never close it at all because they leave through _exit.
#pragma once

#include <string_view>
#include <utility>

#include "base/status.h"

namespace pcopy {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  // Gives up ownership: the caller closes the descriptor (through the OS seam, say).
  int release() { return std::exchange(fd_, -1); }
  bool valid() const { return fd_ >= 0; }
  // Closes now and reports the result; path names the file in the error.
  Status Close(std::string_view path);

 private:
  int fd_ = -1;
};

}  // namespace pcopy
