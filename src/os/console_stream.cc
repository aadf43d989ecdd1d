#include "os/console_stream.h"

#include <unistd.h>

#include <cerrno>

namespace pcopy {

ConsoleStream::ConsoleStream(int fd, const char* name, SignalGuard* signals, bool unbuffered)
    : writer_(fd, name, signals) {
  cookie_io_functions_t io{};
  io.write = &ConsoleStream::Write;
  file_ = fopencookie(this, "w", io);
  own_file_ = file_ != nullptr;
  if (!own_file_) {
    file_ = fd == STDERR_FILENO ? stderr : stdout;
    return;
  }
  setvbuf(file_, nullptr, unbuffered ? _IONBF : isatty(fd) ? _IOLBF : _IOFBF, BUFSIZ);
}

ConsoleStream::~ConsoleStream() {
  if (own_file_) fclose(file_);
}

ssize_t ConsoleStream::Write(void* cookie, const char* data, size_t size) {
  auto* self = static_cast<ConsoleStream*>(cookie);
  if (const Status s = self->writer_.Write(data, size); !s.ok()) {
    const int err = s.signal() != 0 ? EINTR : s.err() != 0 ? s.err() : EIO;
    if (self->error_ == 0) self->error_ = err;
    errno = err;
    return -1;
  }
  return static_cast<ssize_t>(size);
}

}  // namespace pcopy
