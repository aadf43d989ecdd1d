// stream_io.h: reading and writing a stream (standard input or output, a pipe, a terminal, a
// socket) in order, without ever leaving the parent deaf to SIGINT, SIGTERM or SIGHUP.
//
// The guard keeps those signals blocked outside its one wait (signal_guard.h), so a read(2) or
// write(2) that blocks on a stalled pipe would hold the process until the other end moves. So:
//   - a pipe or a terminal is reopened through /proc/self/fd as an open file description of
//     pcopy's own, made non-blocking (the shared one, and with it the shell's and the other
//     end's, is left as it was): every read and write returns at once, and the waits for data or
//     room happen in the guard's wait. Other character devices are not reopened: a new
//     description would not stand where the shared one stands (/dev/kmsg, a tape).
//   - a socket is read and written with MSG_DONTWAIT, which asks the same of one call only.
//   - a pipe that cannot be reopened (another user's, or no /proc) is waited for before each read,
//     which takes no more than FIONREAD says is there, and written in pieces of PIPE_BUF after
//     POLLOUT, which a pipe takes without blocking. A terminal that cannot be reopened is waited
//     for the same way; its read or write may still block (a line not yet ended, Ctrl-S).
//   - a regular file or a block device is used as it is: it does not wait on another process.
//   - a descriptor open for the other direction only fails at once (EBADF), as cat fails.
// Reads take pending signals every 50 ms and in every wait; writes in their waits only (see
// Write). Messages name the stream by the name the caller gives ("-"). Parent only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>

#include "base/status.h"
#include "base/unique_fd.h"
#include "os/signal_guard.h"

namespace pcopy {

// The least buffer a stream is read with: a pipe gives up to 64 KiB at a time, and cat's 128 KiB
// halves the system calls of a small --buffer-size.
inline constexpr uint64_t kMinStreamBuffer = 128 << 10;

// Opens /dev/null on whichever of descriptors 0, 1 and 2 is closed, with the access that makes any
// use of it fail as the closed descriptor's would (EBADF): standard input write-only, standard
// output and error read-only. Otherwise the first file pcopy opens would take the number, and a
// line printed to stdout would land in it. Each main calls it first.
void HoldStandardDescriptors();

// Hands take() what fd gives from where it stands to its end, in order, in pieces of at most
// buffer.size(). Stops at the first error take() returns. With signals (may be null), every wait
// is the guard's, and a terminating signal ends it with Status::Interrupted; without, poll(2)
// waits. name is for messages. idle (may be empty) is called after each second the stream keeps
// pcopy waiting (with signals only), so that progress shown can say it stalls.
Status ReadStream(int fd, const std::string& name, SignalGuard* signals, std::span<char> buffer,
                  const std::function<Status(const char*, size_t)>& take,
                  const std::function<void()>& idle = {});

// Writes to fd (standard output) from where it stands, as a stream: see the file comment.
class StreamWriter {
 public:
  // name is for messages ("-"). fd is borrowed; it must outlive the writer.
  StreamWriter(int fd, std::string name, SignalGuard* signals);

  // All of data, or an error: Status::FromErrno("write", name, errno) with the offset written so
  // far, EPIPE included (broken_pipe() then says so); Status::Interrupted for a terminating
  // signal that came, or had come, while it waited for room. A write that can go ahead is made
  // even after a signal: the caller takes signals between its writes.
  Status Write(const char* data, size_t length);
  bool broken_pipe() const { return broken_pipe_; }
  // Called after each second a reader keeps a write waiting for room (as ReadStream's idle).
  void set_idle(std::function<void()> idle) { idle_ = std::move(idle); }
  uint64_t written() const { return written_; }
  // fsync(2) where the descriptor is a file; nothing for a pipe or a terminal (EINVAL, EROFS).
  Status Sync();

 private:
  int fd_;  // where the writes go: own_ when it is open, else the borrowed fd
  UniqueFd own_;
  std::string name_;
  SignalGuard* signals_;
  bool piecewise_ = false;  // a pipe or terminal not reopened: pieces of PIPE_BUF after POLLOUT
  bool socket_ = false;     // send(MSG_DONTWAIT)
  uint64_t written_ = 0;
  bool broken_pipe_ = false;
  std::function<void()> idle_;
};

}  // namespace pcopy
