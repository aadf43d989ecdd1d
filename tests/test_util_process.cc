// test_util_process.cc: the process half of test_util.h: launching pcopy (or another program)
// with only stdin, stdout and stderr, collecting its exit, watching its workers and the bytes
// they land, and reading process states from /proc.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "app/options.h"
#include "app/tree_job.h"
#include "test_util.h"

namespace pcopy::test {

namespace {

// Why a launched child did not get to run its program; written by the child to the parent.
struct LaunchFailure {
  int step;  // an index into kLaunchSteps
  int error;
};
constexpr const char* kLaunchSteps[] = {"open /dev/null", "open the stdout file",
                                        "open the stderr file", "dup2", "execvp"};
constexpr int kExecStep = 4;

[[noreturn]] void FailLaunch(int report_fd, int step) {
  const LaunchFailure f{step, errno};
  ssize_t n;
  do {
    n = write(report_fd, &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  _exit(127);
}

// What Launch started, or why it could not.
struct Launched {
  pid_t pid = -1;            // -1 if nothing runs
  bool exec_failed = false;  // the program itself could not be executed (not installed...)
  std::string error;         // why nothing runs
};

// Forks and executes argv (looked up in PATH) with stdin from /dev/null and stdout and stderr on
// out and err; in a process group of its own if own_group. The child gets those three
// descriptors and no other: whatever the test process has open, with or without O_CLOEXEC, is
// closed at exec. Returns once the program runs (exec succeeded) or has failed to start.
Launched Launch(std::vector<std::string> argv, const std::string& out, const std::string& err,
                bool own_group) {
  Launched launched;
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // For the fallback below when close_range cannot mark every descriptor close-on-exec.
  rlimit files{};
  const int max_fd = getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < (1u << 20)
                         ? static_cast<int>(files.rlim_cur)
                         : 1 << 20;
  // The child reports a failure on this pipe; the write end closes at exec, so end of file
  // means the program runs.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    launched.error = std::string("pipe2: ") + strerror(errno);
    return launched;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    launched.error = std::string("fork: ") + strerror(errno);
    close(report[0]);
    close(report[1]);
    return launched;
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec: the test process may have threads.
    if (own_group) setpgid(0, 0);
    const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) FailLaunch(report[1], 0);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (o < 0) FailLaunch(report[1], 1);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (e < 0) FailLaunch(report[1], 2);
    // dup2 clears close-on-exec on the copies it makes.
    if (dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) FailLaunch(report[1], 3);
    // Every descriptor above stderr, including any the test opened without O_CLOEXEC, closes at
    // exec (the report pipe too, but only then, so a failed exec can still be reported).
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < max_fd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    execvp(args[0], args.data());
    FailLaunch(report[1], kExecStep);
  }
  close(report[1]);
  LaunchFailure failure{};
  ssize_t n;
  do {
    n = read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n != static_cast<ssize_t>(sizeof failure)) {
    launched.pid = pid;  // end of file: the program runs
    return launched;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool known = failure.step >= 0 && failure.step <= kExecStep;
  launched.exec_failed = failure.step == kExecStep;
  launched.error = std::string(known ? kLaunchSteps[failure.step] : "start") + " " + argv[0] +
                   ": " + strerror(failure.error);
  return launched;
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> argv = {PCOPY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const Launched launched = Launch(std::move(argv), out, err, /*own_group=*/false);
  if (launched.pid < 0) ADD_FAILURE() << "cannot start pcopy: " << launched.error;
  return launched.pid;
}

// Reaps pid and reads what it wrote. A pcopy that never started (pid -1: Spawn has failed the
// test) or whose exit status cannot be collected is reported as no exit at all (exit_code -1).
RunResult Collect(pid_t pid, const std::string& out, const std::string& err) {
  RunResult r;
  if (pid > 0) {
    int status = 0;
    pid_t got;
    do {
      got = waitpid(pid, &status, 0);
    } while (got < 0 && errno == EINTR);
    if (got == pid) {
      if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    } else {
      ADD_FAILURE() << "waitpid(" << pid << ") failed: " << strerror(errno)
                    << "; pcopy's exit status is unknown";
    }
  }
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

}  // namespace

RunResult RunPcopy(const std::vector<std::string>& args) {
  TempDir io;
  const std::string out = io / "stdout", err = io / "stderr";
  return Collect(Spawn(args, out, err), out, err);
}

ChildReport InChild(const std::function<std::string()>& body, unsigned alarm_s) {
  ChildReport r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + strerror(errno);
    return r;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    r.error = std::string("fork: ") + strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return r;
  }
  if (pid == 0) {
    close(fds[0]);
    if (alarm_s > 0) alarm(alarm_s);
    const std::string said = body();
    const bool sent = write(fds[1], said.data(), said.size()) == static_cast<ssize_t>(said.size());
    _exit(sent ? 0 : 3);
  }
  close(fds[1]);
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    r.said.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  if (waitpid(pid, &r.wait_status, 0) != pid) r.error = std::string("waitpid: ") + strerror(errno);
  return r;
}

CopyOutcome CopyInProcess(Options o, const SysCalls& sys) {
  o.progress = ProgressMode::kNone;
  FILE* sink = fopen("/dev/null", "we");
  if (sink == nullptr) {
    ADD_FAILURE() << "cannot open /dev/null: " << strerror(errno);
    return {};
  }
  CopyOutcome outcome;
  {
    SignalGuard signals;
    outcome = RunCopy(o, signals, Console{sink, sink}, sys);
  }
  fclose(sink);
  return outcome;
}

CopyOutcome CopyCommandInProcess(const std::vector<std::string>& args, const SysCalls& sys,
                                 std::string* err) {
  std::vector<const char*> argv = {"pcopy"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  CommandLine cmd;
  if (Status s = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), &cmd); !s.ok()) {
    ADD_FAILURE() << s.ToString();
    return {};
  }
  cmd.options.progress = ProgressMode::kNone;
  TempDir io;
  FILE* out = fopen("/dev/null", "we");
  FILE* errors = fopen((io / "err").c_str(), "we");
  if (out == nullptr || errors == nullptr) {
    ADD_FAILURE() << "cannot open the outputs: " << strerror(errno);
    if (out != nullptr) fclose(out);
    if (errors != nullptr) fclose(errors);
    return {};
  }
  CopyOutcome outcome;
  {
    SignalGuard signals;
    outcome = RunCopyCommand(cmd.options, signals, Console{out, errors}, sys);
  }
  fclose(out);
  fclose(errors);
  *err = ReadFile(io / "err");
  return outcome;
}

int NoFlockSysCalls::flock(int, int) const {
  errno = ENOLCK;
  return -1;
}

RunResult RunCommand(const std::vector<std::string>& argv, int timeout_ms) {
  TempDir io;
  const std::string out = io / "stdout", err = io / "stderr";
  const ExitStatus status = RunWithOutputs(argv, out, err, timeout_ms);
  RunResult r;
  r.exit_code = status.code;
  r.signal = status.signal;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

ExitStatus RunWithOutputs(const std::vector<std::string>& argv, const std::string& out,
                          const std::string& err, int timeout_ms) {
  ExitStatus result;
  const Launched launched = Launch(argv, out, err, /*own_group=*/true);
  if (launched.exec_failed) {
    result.code = 127;
    return result;
  }
  if (launched.pid < 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << launched.error;
    return result;
  }
  const pid_t pid = launched.pid;
  int status = 0;
  int wait_error = 0;
  const testing::AssertionResult exited = WaitUntil(
      argv[0] + " to exit",
      [&] {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done < 0 && errno != EINTR) wait_error = errno;
        return done == pid || wait_error != 0;
      },
      timeout_ms);
  if (wait_error != 0) {
    ADD_FAILURE() << "waitpid: " << strerror(wait_error);
    return result;
  }
  if (!exited) {
    ADD_FAILURE() << exited.message() << "; killed";
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (WIFEXITED(status)) result.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

PcopyProcess::PcopyProcess(const std::vector<std::string>& args)
    : out_path_(io_dir_ / "stdout"), err_path_(io_dir_ / "stderr") {
  pid_ = Spawn(args, out_path_, err_path_);
}

PcopyProcess::~PcopyProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
}

std::vector<pid_t> PcopyProcess::Workers() const { return ChildrenOf(pid_); }

bool PcopyProcess::WaitForWorkers(int timeout_ms) const {
  return WaitUntil(
      "pcopy's workers", [this] { return !Workers().empty(); }, timeout_ms);
}

bool PcopyProcess::WaitForExit(int timeout_ms) const {
  if (pid_ <= 0) return true;
  return WaitUntil(
      "pcopy to exit",
      [this] {
        siginfo_t info{};
        return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid_;
      },
      timeout_ms);
}

RunResult PcopyProcess::Finish() {
  RunResult r = Collect(pid_, out_path_, err_path_);
  pid_ = -1;
  return r;
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> kids;
  std::error_code ec;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(task_dir, ec)) {
    std::ifstream in(t.path() / "children");
    pid_t k;
    while (in >> k) kids.push_back(k);
  }
  return kids;
}

std::vector<pid_t> WaitForNWorkers(const PcopyProcess& p, size_t n, int timeout_ms) {
  std::vector<pid_t> workers;
  const bool started = WaitUntil(
      "pcopy's workers",
      [&] {
        workers = p.Workers();
        return workers.size() >= n;
      },
      timeout_ms);
  return started ? workers : std::vector<pid_t>{};
}

uint64_t TemporaryBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const std::string& name : Temporaries(dir)) {
    struct stat st {};
    if (stat((dir + "/" + name).c_str(), &st) == 0)
      bytes += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return bytes;
}

testing::AssertionResult WaitUntilCopied(const PcopyProcess& p, const std::string& dir,
                                         uint64_t bytes, int timeout_ms) {
  bool exited = false;
  uint64_t landed = 0;
  testing::AssertionResult copied = WaitUntil(
      "pcopy's temporary in " + dir + " to hold " + std::to_string(bytes) + " bytes",
      [&] {
        landed = TemporaryBytes(dir);
        if (landed >= bytes) return true;
        exited = !p.Running();
        return exited;
      },
      timeout_ms);
  if (exited) {
    return testing::AssertionFailure()
           << "pcopy exited before its temporary in " << dir << " held " << bytes << " bytes";
  }
  if (!copied) return copied << " (it holds " << landed << ")";
  return copied;
}

RunResult FinishWithin(PcopyProcess& p, int timeout_ms) {
  if (!p.WaitForExit(timeout_ms)) {
    ADD_FAILURE() << "pcopy (pid " << p.pid() << ") did not exit within " << timeout_ms << " ms";
    kill(p.pid(), SIGKILL);
  }
  return p.Finish();
}

char ProcessState(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the last ')' ends it.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return '\0';
  return stat[paren + 2];
}

bool Alive(pid_t pid) {
  const char state = ProcessState(pid);
  return state != '\0' && state != 'Z' && state != 'X';
}

bool Gone(pid_t pid) { return kill(pid, 0) == -1 && errno == ESRCH; }

Watchdog::Watchdog(std::vector<pid_t> pids, std::chrono::milliseconds limit)
    : pids_(std::move(pids)), thread_([this, limit] {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
        fired_ = true;
        for (pid_t p : pids_) kill(p, SIGKILL);
      }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool Watchdog::fired() {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

}  // namespace pcopy::test
