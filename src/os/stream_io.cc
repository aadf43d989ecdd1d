#include "os/stream_io.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

// Waits until fd is ready for events, or a terminating signal came (then Interrupted); *revents
// (may be null) gets what poll saw; idle (may be empty) is called after each second of waiting.
// Without a guard, poll(2) waits as long as it takes.
Status WaitReady(int fd, short events, const std::string& name, SignalGuard* signals,
                 short* revents = nullptr, const std::function<void()>& idle = {}) {
  for (;;) {
    pollfd p{fd, events, 0};
    if (signals == nullptr) {
      if (poll(&p, 1, -1) >= 0 || errno == EINTR) {
        if (revents != nullptr) *revents = p.revents;
        return {};
      }
      return Status::FromErrno("poll", name, errno);
    }
    const int ready = signals->Wait(std::span<pollfd>(&p, 1), kWaitSlice);
    if (signals->terminating_signal() != 0) {
      return Status::Interrupted(signals->terminating_signal());
    }
    if (ready < 0 && errno != EINTR) return Status::FromErrno("poll", name, errno);
    // POLLHUP and POLLERR count as ready: the read or write that follows says what they mean.
    if (ready > 0) {
      if (revents != nullptr) *revents = p.revents;
      return {};
    }
    if (ready == 0 && idle) idle();
  }
}

// Whether fd is open for access (O_RDONLY or O_WRONLY).
bool Allows(int fd, int access) {
  const int mode = fcntl(fd, F_GETFL);
  return mode >= 0 && ((mode & O_ACCMODE) == O_RDWR || (mode & O_ACCMODE) == access);
}

// A pipe or a terminal reopened through /proc/self/fd as a description of our own, made
// non-blocking (see the header); invalid for anything else, or where it cannot be reopened
// (another user's, no /proc, a pipe whose other end is gone).
UniqueFd ReopenNonBlocking(int fd, int access) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || isatty(fd))) return UniqueFd();
  if (!Allows(fd, access)) return UniqueFd();  // it must fail, as the shared one does
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  return UniqueFd(open(self.c_str(), access | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
}

bool ReadyNow(int fd, short events) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, 0) > 0;
}

bool WaitsOnOthers(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

bool IsKind(int fd, mode_t kind) {
  struct stat st;
  return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == kind;
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

// A read of fd that does not block: the reopened description's, a socket's MSG_DONTWAIT, or,
// for a pipe or device that could not be reopened, one after POLLIN of no more than FIONREAD
// says is there. Returns read(2)'s result; -1 with EAGAIN when there was nothing after all.
ssize_t ReadOnce(int fd, std::span<char> buffer, bool socket, bool wait_first,
                 const std::string& name, SignalGuard* signals, const std::function<void()>& idle,
                 Status* error) {
  if (socket) return recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  size_t want = buffer.size();
  if (wait_first) {
    short revents = 0;
    if (Status s = WaitReady(fd, POLLIN, name, signals, &revents, idle); !s.ok()) {
      *error = s;
      return -1;
    }
    int available = 0;
    if (IsKind(fd, S_IFIFO) && ioctl(fd, FIONREAD, &available) == 0) {
      // Nothing there and the writers still open: another reader took it. Wait again.
      if (available == 0 && (revents & POLLHUP) == 0) {
        errno = EAGAIN;
        return -1;
      }
      if (available > 0) want = std::min(want, static_cast<size_t>(available));
    }
  }
  return read(fd, buffer.data(), want);
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
                  const std::function<Status(const char*, size_t)>& take,
                  const std::function<void()>& idle) {
  const UniqueFd own = ReopenNonBlocking(fd, O_RDONLY);
  if (own.valid()) fd = own.get();
  const bool readable = Allows(fd, O_RDONLY);
  const bool socket = readable && !own.valid() && IsKind(fd, S_IFSOCK);
  // A descriptor that may block and could not be made not to is waited for before each read.
  const bool wait_first = readable && !own.valid() && !socket && WaitsOnOthers(fd);
  std::chrono::steady_clock::time_point last_poll{};
  uint64_t offset = 0;
  for (;;) {
    if (Status s = SignalsDue(signals, &last_poll); !s.ok()) return s;
    Status waited;
    const ssize_t n = ReadOnce(fd, buffer, socket, wait_first, name, signals, idle, &waited);
    if (!waited.ok()) return waited;
    if (n < 0 && errno == EAGAIN) {
      if (!wait_first) {
        if (Status s = WaitReady(fd, POLLIN, name, signals, nullptr, idle); !s.ok()) return s;
      }
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
  const bool writable = Allows(fd_, O_WRONLY);
  socket_ = writable && !own_.valid() && IsKind(fd_, S_IFSOCK);
  // A pipe or terminal that blocks: pieces of PIPE_BUF, each after POLLOUT, which a pipe takes.
  piecewise_ = writable && !own_.valid() && !socket_ && WaitsOnOthers(fd_);
}

Status StreamWriter::Write(const char* data, size_t length) {
  // Signals are not looked at before a write that can go ahead: the line that says pcopy was
  // interrupted is written after the signal. Only a wait for room gives way to one.
  while (length > 0) {
    if (piecewise_ && !ReadyNow(fd_, POLLOUT)) {
      if (Status s = WaitReady(fd_, POLLOUT, name_, signals_, nullptr, idle_); !s.ok()) return s;
    }
    const size_t piece = piecewise_ ? std::min<size_t>(length, PIPE_BUF) : length;
    const ssize_t n =
        socket_ ? send(fd_, data, piece, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd_, data, piece);
    if (n < 0 && errno == EAGAIN) {
      if (Status s = WaitReady(fd_, POLLOUT, name_, signals_, nullptr, idle_); !s.ok()) return s;
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
