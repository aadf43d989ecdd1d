#include "os/child_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/signal_guard.h"

namespace pcopy {

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(std::exchange(other.reaped_, false)),
      wait_status_(other.wait_status_),
      wait_errno_(other.wait_errno_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Reset();
    pid_ = std::exchange(other.pid_, -1);
    reaped_ = std::exchange(other.reaped_, false);
    wait_status_ = other.wait_status_;
    wait_errno_ = other.wait_errno_;
  }
  return *this;
}

ChildProcess::~ChildProcess() { Reset(); }

void ChildProcess::Reset() noexcept {
  if (alive()) {
    Kill(SIGKILL);
    Wait();
  }
  pid_ = -1;
  reaped_ = false;
}

Status ChildProcess::Spawn(Body body, void* context, pid_t pgid, const std::string& name,
                           ChildProcess* out) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Status::FromErrno("fork", name, errno);
  if (pid == 0) {
    SignalGuard::ResetInChild();  // before unblocking: a pending signal must not set a flag here
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setpgid(0, pgid);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(kChildOrphaned);
    prctl(PR_SET_NAME, name.c_str());
    _exit(body(context));
  }
  // Also set the group from the parent: whichever of the two runs first wins, so the group is
  // right before the parent ever signals it (the classic job-control race).
  setpgid(pid, pgid == 0 ? pid : pgid);
  *out = ChildProcess();
  out->pid_ = pid;
  return {};
}

bool ChildProcess::succeeded() const {
  return reaped_ && wait_errno_ == 0 && WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0;
}

bool ChildProcess::TryReap() {
  if (!alive()) return reaped_;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    reaped_ = true;
    wait_status_ = status;
  } else if (r < 0) {
    // With SIGCHLD ignored the kernel reaps children itself and waitpid fails with ECHILD: the
    // child is gone, but how it ended is lost, so it cannot count as a success.
    reaped_ = true;
    wait_errno_ = errno;
  }
  return reaped_;
}

void ChildProcess::Wait() {
  if (!alive()) return;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  if (r == pid_) {
    wait_status_ = status;
  } else {
    wait_errno_ = errno;
  }
}

void ChildProcess::Kill(int signal) const {
  if (alive()) kill(pid_, signal);
}

std::string ChildProcess::DescribeExit() const {
  if (!reaped_) return "is still running";
  if (wait_errno_ != 0) {
    return std::string("could not be waited for (") + strerror(wait_errno_) + ")";
  }
  if (WIFEXITED(wait_status_)) {
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status_));
  }
  if (WIFSIGNALED(wait_status_)) {
    const int sig = WTERMSIG(wait_status_);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "ended with wait status " + std::to_string(wait_status_);
}

}  // namespace pcopy
