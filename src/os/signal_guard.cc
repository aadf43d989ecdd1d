#include "os/signal_guard.h"

#include <time.h>

#include <algorithm>
#include <cerrno>

namespace pcopy {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};

// Set only by the handlers, which run only inside ppoll (the signals are blocked elsewhere), so
// the code outside the wait reads them without a race.
volatile sig_atomic_t g_terminating = 0;
volatile sig_atomic_t g_child_changed = 0;

extern "C" void OnTerminating(int signal) {
  if (g_terminating == 0) g_terminating = signal;
}

extern "C" void OnChild(int) { g_child_changed = 1; }

timespec ToTimespec(std::chrono::milliseconds timeout) {
  const long long ms = std::max<long long>(timeout.count(), 0);
  return timespec{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
}

}  // namespace

SignalGuard::SignalGuard() {
  g_terminating = 0;
  g_child_changed = 0;
  sigemptyset(&set_);
  for (int sig : kSignals) sigaddset(&set_, sig);
  sigprocmask(SIG_BLOCK, &set_, &old_mask_);
  wait_mask_ = old_mask_;
  for (int sig : kSignals) sigdelset(&wait_mask_, sig);
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    sigaction(kSignals[i], nullptr, &old_actions_[i]);
    // nohup's SIGHUP (or any terminating signal the caller ignores) stays ignored.
    if (kSignals[i] != SIGCHLD && old_actions_[i].sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = kSignals[i] == SIGCHLD ? &OnChild : &OnTerminating;
    action.sa_mask = set_;  // one handler at a time
    action.sa_flags = kSignals[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
    sigaction(kSignals[i], &action, nullptr);
  }
}

SignalGuard::~SignalGuard() {
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    sigaction(kSignals[i], &old_actions_[i], nullptr);
  }
}

int SignalGuard::Wait(std::span<pollfd> fds, std::chrono::milliseconds timeout) {
  for (pollfd& p : fds) p.revents = 0;
  if (g_terminating != 0) return 0;
  const timespec ts = ToTimespec(timeout);
  const int ready = ppoll(fds.data(), fds.size(), &ts, &wait_mask_);
  if (ready < 0 && errno != EINTR) return -1;
  if (ready > 0) {
    // ppoll returns ready descriptors without running the handler of a signal that is pending
    // meanwhile; a caller that always finds a result waiting would never see the signal.
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
        sigismember(&pending, SIGHUP) == 1) {
      Poll();
    }
  }
  if (g_terminating != 0) {
    for (pollfd& p : fds) p.revents = 0;
    return 0;
  }
  return std::max(ready, 0);
}

int SignalGuard::Wait(std::chrono::milliseconds timeout) {
  if (g_terminating == 0 && g_child_changed == 0) Wait(std::span<pollfd>(), timeout);
  if (g_terminating != 0) return g_terminating;
  if (g_child_changed != 0) {
    g_child_changed = 0;
    return SIGCHLD;
  }
  return 0;
}

int SignalGuard::Poll() {
  const timespec zero{0, 0};
  ppoll(nullptr, 0, &zero, &wait_mask_);  // 0, or -1 with EINTR once a handler ran
  return g_terminating;
}

int SignalGuard::terminating_signal() const { return g_terminating; }

SignalsBlockedForThreads::SignalsBlockedForThreads() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, &before_);
}

SignalsBlockedForThreads::~SignalsBlockedForThreads() {
  pthread_sigmask(SIG_SETMASK, &before_, nullptr);
}

void SignalGuard::ResetInChild() {
  for (int sig : kSignals) {
    struct sigaction now {};
    if (sigaction(sig, nullptr, &now) == 0 && now.sa_handler != SIG_IGN &&
        now.sa_handler != SIG_DFL) {
      signal(sig, SIG_DFL);
    }
  }
}

}  // namespace pcopy
