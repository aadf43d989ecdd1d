// signal_guard.h: the one place where the parent receives SIGINT, SIGTERM, SIGHUP and SIGCHLD.
//
// As ninja does (subprocess-posix.cc), the guard installs handlers that only set a flag and keeps
// the four signals blocked, except inside its one wait: ppoll() over the caller's descriptors
// with the mask the process had before, less these four. Every blocking wait of the parent goes
// through Wait() (the copy's progress tick, the process pool, verification, compare, checksum,
// the demo), so a signal is taken within one wait, never halfway through a step, and cleanup
// (kill and reap workers, unlink the temporary) always runs before the process exits with 128+N.
// A SIGCHLD only wakes the wait, so a worker's exit is seen at once.
//
// A terminating signal that was ignored when the guard was built (nohup's SIGHUP) stays ignored.
// SIGCHLD gets a handler for the guard's lifetime: an inherited SIG_IGN would make the kernel
// reap workers itself, and their exit status would be lost. Forked children go back to the
// dispositions exec would give them (ResetInChild, called by child_process.cc).
//
// Only one guard may exist at a time, and only in a process with one thread, or whose other
// threads keep the signals blocked (SignalsBlockedForThreads, below): the handlers and their
// flags are process-wide, and a signal taken by another thread would not wake the wait.
#pragma once

#include <poll.h>
#include <signal.h>

#include <chrono>
#include <span>

namespace pcopy {

class SignalGuard {
 public:
  SignalGuard();   // installs the handlers, blocks the signals
  ~SignalGuard();  // restores the previous mask (a pending signal then only sets a flag) and
                   // the previous dispositions
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

  // Waits up to timeout for one of fds to be ready (ppoll's events and revents) or a signal.
  // Returns the number of ready descriptors; 0 on a timeout, on a SIGCHLD and once a terminating
  // signal has been received (then at once, without waiting; revents are then all 0); -1 with
  // errno when ppoll fails. A signal that arrives while descriptors are ready is taken too.
  int Wait(std::span<pollfd> fds, std::chrono::milliseconds timeout);
  // Waits up to timeout for a signal. Returns the terminating signal (at once if one was already
  // received), else SIGCHLD if a child changed state since the last call, else 0 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  // Takes pending signals without waiting (a ppoll with no descriptors and a zero timeout, which
  // runs the handler of any pending signal and returns); returns terminating_signal().
  int Poll();
  // The first of SIGINT, SIGTERM, SIGHUP received so far, or 0.
  int terminating_signal() const;

  // In a freshly forked child: the guard's signals caught by a handler go back to SIG_DFL (those
  // ignored stay ignored, as across exec), so a worker dies of SIGTERM instead of setting a flag.
  static void ResetInChild();

 private:
  sigset_t set_;        // INT, TERM, HUP, CHLD
  sigset_t old_mask_;   // the mask before the guard
  sigset_t wait_mask_;  // old_mask_ without set_: the mask inside the wait
  struct sigaction old_actions_[4];
};

// 128 + N, as shells report a process ended by signal N.
inline int ExitCodeForSignal(int signal) { return 128 + signal; }

// While it lives, the guard's signals are blocked in this thread, so that the threads a library
// starts meanwhile (MPI_Init) are born with them blocked and leave them to this thread's guard.
// The mask is restored when it goes: until a guard exists, Ctrl-C still ends the process.
class SignalsBlockedForThreads {
 public:
  SignalsBlockedForThreads();
  ~SignalsBlockedForThreads();
  SignalsBlockedForThreads(const SignalsBlockedForThreads&) = delete;
  SignalsBlockedForThreads& operator=(const SignalsBlockedForThreads&) = delete;

 private:
  sigset_t before_;
};

}  // namespace pcopy
