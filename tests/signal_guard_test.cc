// signal_guard_test.cc: SignalGuard as the parent's one wait point, and Status::Interrupted.
//
// Every test that builds a guard runs in a forked child (InChild), so this process's own
// handlers and mask are never touched; the test asserts how the child exited.
#include "os/signal_guard.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "os/child_process.h"
#include "test_util.h"

namespace pcopy {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

long long MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
}

// Runs body in a forked child; what it returns (empty: success) comes back through a pipe.
// Fails the test unless the child exited 0 within 10 s with nothing to say.
void InChild(std::string (*body)()) {
  const test::ChildReport r = test::InChild(body);
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(WIFEXITED(r.wait_status))
      << "the child died of signal " << (WIFSIGNALED(r.wait_status) ? WTERMSIG(r.wait_status) : 0)
      << "; " << r.said;
  EXPECT_EQ(WIFEXITED(r.wait_status) ? WEXITSTATUS(r.wait_status) : -1, 0) << r.said;
  EXPECT_EQ(r.said, "");
}

// A child of the guard's owner that sends it a signal after a delay: {signal, delay in ms}.
struct Sender {
  int signal;
  int delay_ms;
};

int SendToParent(void* context) noexcept {
  const auto* s = static_cast<const Sender*>(context);
  usleep(static_cast<useconds_t>(s->delay_ms) * 1000);
  kill(getppid(), s->signal);
  return 0;
}

int SleepLong(void*) noexcept {
  for (int i = 0; i < 100; ++i) usleep(100000);
  return 0;
}

struct Pipe {
  Pipe() {
    if (pipe2(fd, O_CLOEXEC) != 0) fd[0] = fd[1] = -1;
  }
  ~Pipe() {
    close(fd[0]);
    close(fd[1]);
  }
  int fd[2];
};

std::string WaitReturnsReadyDescriptorsAndTimesOut() {
  SignalGuard guard;
  Pipe p;
  pollfd fds[2] = {{p.fd[0], POLLIN, 0}, {p.fd[1], POLLOUT, 0}};
  if (guard.Wait(fds, milliseconds(1000)) != 1 || fds[1].revents != POLLOUT) return "POLLOUT";
  if (write(p.fd[1], "x", 1) != 1) return "write";
  if (guard.Wait(fds, milliseconds(1000)) != 2 || fds[0].revents != POLLIN) return "POLLIN";
  pollfd quiet{p.fd[0], POLLPRI, 0};
  const auto t0 = Clock::now();
  if (guard.Wait(std::span<pollfd>(&quiet, 1), milliseconds(50)) != 0) return "no timeout";
  if (MsSince(t0) < 40) return "returned before the timeout";
  if (guard.terminating_signal() != 0) return "a signal out of nowhere";
  return "";
}

TEST(SignalGuardTest, WaitReturnsReadyDescriptorsAndTimesOut) {
  InChild(&WaitReturnsReadyDescriptorsAndTimesOut);
}

// A terminating signal sent while the guard waits on a quiet pipe for 5 s ends the wait at once,
// and every later Wait returns at once too.
template <int kSignal>
std::string SignalEndsTheWait() {
  SignalGuard guard;
  Pipe p;
  Sender sender{kSignal, 50};
  ChildProcess child;
  if (!ChildProcess::Spawn(&SendToParent, &sender, 0, "sender", &child).ok()) return "spawn";
  pollfd quiet{p.fd[0], POLLIN, 0};
  const auto t0 = Clock::now();
  // A SIGCHLD (the sender exiting) may end one wait first; it is not a terminating signal.
  while (guard.terminating_signal() == 0 && MsSince(t0) < 5000) {
    if (guard.Wait(std::span<pollfd>(&quiet, 1), milliseconds(5000)) != 0) return "ready?";
  }
  const long long took = MsSince(t0);
  child.Wait();
  if (guard.terminating_signal() != kSignal) {
    return "terminating_signal() is " + std::to_string(guard.terminating_signal());
  }
  if (took > 50 + 200) return "the wait ended " + std::to_string(took) + " ms after it began";
  const auto t1 = Clock::now();
  if (guard.Wait(std::span<pollfd>(&quiet, 1), milliseconds(2000)) != 0) return "second wait";
  if (guard.Wait(milliseconds(2000)) != kSignal) return "Wait(timeout) forgot the signal";
  if (MsSince(t1) > 100) return "a wait after the signal waited";
  return "";
}

TEST(SignalGuardTest, SigintEndsTheWait) { InChild(&SignalEndsTheWait<SIGINT>); }
TEST(SignalGuardTest, SigtermEndsTheWait) { InChild(&SignalEndsTheWait<SIGTERM>); }
TEST(SignalGuardTest, SighupEndsTheWait) { InChild(&SignalEndsTheWait<SIGHUP>); }

// A signal pending while descriptors are ready is taken by that same Wait: a caller that always
// finds a result waiting must still see it.
std::string PendingSignalIsTakenWithReadyDescriptors() {
  SignalGuard guard;
  Pipe p;
  if (write(p.fd[1], "x", 1) != 1) return "write";
  raise(SIGTERM);  // blocked: pending
  pollfd ready{p.fd[0], POLLIN, 0};
  if (guard.Wait(std::span<pollfd>(&ready, 1), milliseconds(0)) != 0) return "counted ready";
  if (ready.revents != 0) return "revents left set";
  if (guard.terminating_signal() != SIGTERM) return "not taken";
  return "";
}

TEST(SignalGuardTest, PendingSignalIsTakenWithReadyDescriptors) {
  InChild(&PendingSignalIsTakenWithReadyDescriptors);
}

// Outside the wait the signals stay blocked; Poll takes a pending one without waiting.
std::string PollTakesAPendingSignal() {
  SignalGuard guard;
  raise(SIGINT);
  if (guard.terminating_signal() != 0) return "taken outside a wait";
  if (guard.Poll() != SIGINT) return "Poll did not take it";
  raise(SIGTERM);
  if (guard.Poll() != SIGINT) return "the first signal must stay the one reported";
  return "";
}

TEST(SignalGuardTest, PollTakesAPendingSignal) { InChild(&PollTakesAPendingSignal); }

// A child's exit wakes a wait on descriptors, and Wait(timeout) reports it as SIGCHLD.
std::string ChildExitWakesTheWait() {
  SignalGuard guard;
  Pipe p;
  Sender nothing{0, 30};  // kill(ppid, 0) sends nothing
  ChildProcess child;
  if (!ChildProcess::Spawn(&SendToParent, &nothing, 0, "exiter", &child).ok()) return "spawn";
  pollfd quiet{p.fd[0], POLLIN, 0};
  const auto t0 = Clock::now();
  if (guard.Wait(std::span<pollfd>(&quiet, 1), milliseconds(5000)) != 0) return "ready?";
  if (MsSince(t0) > 1000) return "not woken by SIGCHLD";
  if (guard.Wait(milliseconds(0)) != SIGCHLD) return "Wait(timeout) did not say SIGCHLD";
  if (guard.Wait(milliseconds(0)) != 0) return "SIGCHLD reported twice";
  if (!child.TryReap() || !child.succeeded()) return "child not reaped cleanly";
  if (guard.terminating_signal() != 0) return "a terminating signal out of nowhere";
  return "";
}

TEST(SignalGuardTest, ChildExitWakesTheWait) { InChild(&ChildExitWakesTheWait); }

// nohup: a terminating signal ignored before the guard stays ignored, during and after it.
std::string IgnoredSignalStaysIgnored() {
  signal(SIGHUP, SIG_IGN);
  {
    SignalGuard guard;
    raise(SIGHUP);
    if (guard.Poll() != 0) return "an ignored SIGHUP was taken";
  }
  struct sigaction now {};
  sigaction(SIGHUP, nullptr, &now);
  if (now.sa_handler != SIG_IGN) return "SIGHUP no longer ignored";
  return "";
}

TEST(SignalGuardTest, IgnoredSignalStaysIgnored) { InChild(&IgnoredSignalStaysIgnored); }

// The destructor restores the mask and the dispositions; a signal still pending then is taken
// by the guard's handler, not by the default action.
std::string DestructorRestoresMaskAndHandlers() {
  {
    SignalGuard guard;
    raise(SIGINT);
  }
  sigset_t mask;
  sigprocmask(SIG_SETMASK, nullptr, &mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
    if (sigismember(&mask, sig) == 1) return "signal " + std::to_string(sig) + " still blocked";
    struct sigaction now {};
    sigaction(sig, nullptr, &now);
    if (now.sa_handler != SIG_DFL) return "signal " + std::to_string(sig) + " not SIG_DFL";
  }
  return "";
}

TEST(SignalGuardTest, DestructorRestoresMaskAndHandlers) {
  InChild(&DestructorRestoresMaskAndHandlers);
}

// Children forked under a guard die of SIGTERM: they get the default action back, not a handler
// that would only set a flag.
std::string ChildrenDieOfTerminatingSignals() {
  SignalGuard guard;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    ChildProcess child;
    if (!ChildProcess::Spawn(&SleepLong, nullptr, 0, "sleeper", &child).ok()) return "spawn";
    usleep(20000);  // let it reach its body; a signal before that is also fatal
    child.Kill(sig);
    child.Wait();
    if (!WIFSIGNALED(child.wait_status()) || WTERMSIG(child.wait_status()) != sig) {
      return "signal " + std::to_string(sig) + ": the child " + child.DescribeExit();
    }
  }
  return "";
}

TEST(SignalGuardTest, ChildrenDieOfTerminatingSignals) {
  InChild(&ChildrenDieOfTerminatingSignals);
}

TEST(SignalGuardTest, InterruptedStatusCarriesTheSignal) {
  const Status s = Status::Interrupted(SIGINT, "DEST left untouched");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.signal(), SIGINT);
  EXPECT_EQ(s.ToString(), "interrupted by SIGINT; DEST left untouched");
  EXPECT_EQ(Status::Interrupted(SIGTERM).ToString(), "interrupted by SIGTERM");
  EXPECT_EQ(Status::Message("x").signal(), 0);
  EXPECT_EQ(Status().signal(), 0);
  EXPECT_EQ(ExitCodeForSignal(SIGHUP), 129);
}

}  // namespace
}  // namespace pcopy
