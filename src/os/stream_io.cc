#include "os/stream_io.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace pcopy {
namespace {

constexpr std::chrono::seconds kWaitSlice{1};
// How often a stream that never waits still takes signals: a ppoll per read or write would cost
// as much as the read or write itself.
constexpr std::chrono::milliseconds kPollEvery{50};

// Waits until fd is ready for events, or a terminating signal came (then Interrupted). Without a
// guard, poll(2) waits as long as it takes.
Status WaitReady(int fd, short events, const std::string& name, SignalGuard* signals) {
  for (;;) {
    pollfd p{fd, events, 0};
    if (signals == nullptr) {
      if (poll(&p, 1, -1) >= 0 || errno == EINTR) return {};
      return Status::FromErrno("poll", name, errno);
    }
    const int ready = signals->Wait(std::span<pollfd>(&p, 1), kWaitSlice);
    if (signals->terminating_signal() != 0) {
      return Status::Interrupted(signals->terminating_signal());
    }
    if (ready < 0 && errno != EINTR) return Status::FromErrno("poll", name, errno);
    // POLLHUP and POLLERR count as ready: the read or write that follows says what they mean.
    if (ready > 0) return {};
  }
}

// A pipe or a terminal reopened through /proc/self/fd as a description of our own, made
// non-blocking (see the header); invalid for anything else, or where it cannot be reopened (a
// socket, a pipe whose other end is gone).
UniqueFd ReopenNonBlocking(int fd, int access) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) return UniqueFd();
  // Not for more than fd allows: a read-only standard output (HoldStandardDescriptors) must fail.
  const int mode = fcntl(fd, F_GETFL);
  if (mode < 0 || ((mode & O_ACCMODE) != O_RDWR && (mode & O_ACCMODE) != access)) {
    return UniqueFd();
  }
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  return UniqueFd(open(self.c_str(), access | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
}

bool WaitsOnOthers(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

// Takes signals (signals->Poll) when kPollEvery has passed since *last: Interrupted when a
// terminating one came.
Status SignalsDue(SignalGuard* signals, std::chrono::steady_clock::time_point* last) {
  if (signals == nullptr) return {};
  const auto now = std::chrono::steady_clock::now();
  if (now - *last < kPollEvery) return {};
  *last = now;
  if (signals->Poll() == 0) return {};
  return Status::Interrupted(signals->terminating_signal());
}

}  // namespace

void HoldStandardDescriptors() {
  for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // open() takes the lowest free number, which is fd: the ones below it are open. Not
    // O_CLOEXEC: it stands for a standard descriptor, which a child inherits.
    const int held = open("/dev/null", (fd == STDIN_FILENO ? O_WRONLY : O_RDONLY) | O_NOCTTY);
    if (held >= 0 && held != fd) close(held);
  }
}

Status ReadStream(int fd, const std::string& name, SignalGuard* signals, std::span<char> buffer,
                  const std::function<Status(const char*, size_t)>& take) {
  const UniqueFd own = ReopenNonBlocking(fd, O_RDONLY);
  // A descriptor that may block and could not be made not to is waited for before each read.
  const bool wait_first = !own.valid() && WaitsOnOthers(fd);
  if (own.valid()) fd = own.get();
  std::chrono::steady_clock::time_point last_poll{};
  uint64_t offset = 0;
  for (;;) {
    if (Status s = SignalsDue(signals, &last_poll); !s.ok()) return s;
    if (wait_first) {
      if (Status s = WaitReady(fd, POLLIN, name, signals); !s.ok()) return s;
    }
    const ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EAGAIN) {
      if (Status s = WaitReady(fd, POLLIN, name, signals); !s.ok()) return s;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read", name, errno, offset);
    if (n == 0) return {};
    if (Status s = take(buffer.data(), static_cast<size_t>(n)); !s.ok()) return s;
    offset += static_cast<uint64_t>(n);
  }
}

StreamWriter::StreamWriter(int fd, std::string name, SignalGuard* signals)
    : fd_(fd), own_(ReopenNonBlocking(fd, O_WRONLY)), name_(std::move(name)), signals_(signals) {
  if (own_.valid()) fd_ = own_.get();
  // The borrowed fd of a socket or pipe blocks: pieces of PIPE_BUF, each after POLLOUT, do not.
  piecewise_ = !own_.valid() && WaitsOnOthers(fd_);
}

Status StreamWriter::Write(const char* data, size_t length) {
  while (length > 0) {
    if (Status s = SignalsDue(signals_, &last_poll_); !s.ok()) return s;
    if (piecewise_) {
      if (Status s = WaitReady(fd_, POLLOUT, name_, signals_); !s.ok()) return s;
    }
    const size_t piece = piecewise_ ? std::min<size_t>(length, PIPE_BUF) : length;
    const ssize_t n = write(fd_, data, piece);
    if (n < 0 && errno == EAGAIN) {
      if (Status s = WaitReady(fd_, POLLOUT, name_, signals_); !s.ok()) return s;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      broken_pipe_ = errno == EPIPE;
      return Status::FromErrno("write", name_, errno, written_);
    }
    data += n;
    length -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  return {};
}

Status StreamWriter::Sync() {
  if (fsync(fd_) == 0 || errno == EINVAL || errno == EROFS) return {};
  return Status::FromErrno("fsync", name_, errno);
}

}  // namespace pcopy
