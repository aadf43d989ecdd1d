#include "os/signal_guard.h"

#include <time.h>

#include <cerrno>

namespace pcopy {

SignalGuard::SignalGuard() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  sigaddset(&set_, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set_, &old_mask_);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, &old_sigchld_);
}

SignalGuard::~SignalGuard() {
  timespec zero{0, 0};
  while (sigtimedwait(&set_, nullptr, &zero) > 0) {
  }
  sigaction(SIGCHLD, &old_sigchld_, nullptr);
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

int SignalGuard::Wait(std::chrono::milliseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>(timeout.count() % 1000) * 1000000L};
  int sig;
  do {
    sig = sigtimedwait(&set_, nullptr, &ts);
  } while (sig < 0 && errno == EINTR);
  if (sig < 0) return 0;  // EAGAIN: timed out
  if (sig != SIGCHLD && terminating_ == 0) terminating_ = sig;
  return sig;
}

int SignalGuard::Poll() {
  while (Wait(std::chrono::milliseconds(0)) != 0) {
  }
  return terminating_;
}

}  // namespace pcopy
