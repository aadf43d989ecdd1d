// child_process.h: the move-only owner of one forked child process.
//
// Spawn() forks; the child puts the signals the parent catches back to their default action,
// unblocks every signal (the parent keeps its own blocked, see signal_guard.h), joins the given
// process group, asks the kernel to SIGKILL it when the parent dies (then re-checks getppid(), in
// case the parent died before the request), names itself, runs the body and leaves through
// _exit, so the parent's destructors and stdio buffers never run twice.
// The parent must reap: Wait() or TryReap(). The destructor of an unreaped child kills and reaps
// it, so no error path can leave a worker running or a zombie behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "base/status.h"

namespace pcopy {

class ChildProcess {
 public:
  // The child's body: runs after fork(), returns the exit code. Must not throw.
  using Body = int (*)(void* context) noexcept;

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // pgid 0 puts the child in a new process group of its own (its pid); otherwise it joins pgid.
  // name (at most 15 bytes are kept) is what ps and top show.
  static Status Spawn(Body body, void* context, pid_t pgid, const std::string& name,
                      ChildProcess* out);

  pid_t pid() const { return pid_; }
  bool alive() const { return pid_ > 0 && !reaped_; }  // not reaped yet
  bool reaped() const { return reaped_; }
  int wait_status() const { return wait_status_; }
  bool succeeded() const;  // reaped and known to have exited with 0

  bool TryReap();  // non-blocking; true once the child is reaped
  void Wait();     // blocks until reaped
  void Kill(int signal) const;

  // "exited with status 3", "was killed by signal 9 (Killed)".
  std::string DescribeExit() const;

 private:
  void Reset() noexcept;

  pid_t pid_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  int wait_errno_ = 0;  // waitpid failed (ECHILD when SIGCHLD is ignored): outcome unknown
};

// The exit code of a child that found its parent already gone.
inline constexpr int kChildOrphaned = 125;

}  // namespace pcopy
