// console_stream.h: stdout and stderr as stdio streams whose writes wait in the signal guard.
//
// A job prints through stdio (digest lines, -v, progress). A plain FILE on a pipe nobody reads
// would block in write(2) with SIGINT, SIGTERM and SIGHUP blocked (signal_guard.h), and pcopy
// would not end until the reader moved. A ConsoleStream is a FILE (fopencookie) whose writes go
// through a StreamWriter (stream_io.h): a pipe or terminal is written through a non-blocking
// description of pcopy's own, and every wait for room is the guard's. A write cut short by a
// terminating signal fails (EINTR, the FILE's error flag set); the job sees the signal at its
// next check and exits 128 + N. Line-buffered on a terminal, fully buffered otherwise, or
// unbuffered when asked (stderr). Parent only: a forked worker never prints.
#pragma once

#include <cstdio>

#include "os/signal_guard.h"
#include "os/stream_io.h"

namespace pcopy {

class ConsoleStream {
 public:
  // fd is borrowed (STDOUT_FILENO, STDERR_FILENO); name is for messages ("-").
  ConsoleStream(int fd, const char* name, SignalGuard* signals, bool unbuffered);
  ~ConsoleStream();  // flushes and closes the FILE, not fd
  ConsoleStream(const ConsoleStream&) = delete;
  ConsoleStream& operator=(const ConsoleStream&) = delete;

  // The stream; the plain one (stdout, stderr) where fopencookie failed.
  FILE* file() const { return file_; }
  // The first write error's errno (EPIPE for a reader gone, EINTR for a signal), or 0.
  int error() const { return error_; }

 private:
  static ssize_t Write(void* cookie, const char* data, size_t size);

  StreamWriter writer_;
  FILE* file_ = nullptr;
  bool own_file_ = false;
  int error_ = 0;
};

}  // namespace pcopy
