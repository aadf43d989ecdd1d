// signal_guard.h: where the parent receives SIGINT, SIGTERM, SIGHUP and SIGCHLD.
//
// As ninja does, the parent never handles these asynchronously: the guard blocks them for its
// lifetime, and they are taken only in Wait()/Poll() (sigtimedwait), which is also the progress
// loop's tick. So a signal never interrupts a step halfway, and cleanup (kill and reap workers,
// unlink the temporary) always runs before the process exits with 128+N. Forked children unblock
// them (child_process.cc). SIGCHLD's disposition is reset to the default for the guard's lifetime:
// an inherited SIG_IGN would make the kernel reap workers itself, and their exit status would be
// lost. Only one guard may exist at a time.
#pragma once

#include <signal.h>

#include <chrono>

namespace pcopy {

class SignalGuard {
 public:
  SignalGuard();
  ~SignalGuard();  // discards pending ones and restores the previous mask
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

  // Waits up to timeout for one of the signals. Returns it, or 0 on timeout. A terminating one
  // (INT, TERM, HUP) is also remembered in terminating_signal().
  int Wait(std::chrono::milliseconds timeout);
  // Takes pending signals without waiting; returns terminating_signal().
  int Poll();
  // The first of SIGINT, SIGTERM, SIGHUP received so far, or 0.
  int terminating_signal() const { return terminating_; }

 private:
  sigset_t set_;
  sigset_t old_mask_;
  struct sigaction old_sigchld_;
  int terminating_ = 0;
};

// 128 + N, as shells report a process ended by signal N.
inline int ExitCodeForSignal(int signal) { return 128 + signal; }

}  // namespace pcopy
