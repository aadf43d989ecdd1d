// test_util.h: what every pcopy test shares: temporary directories, random files, byte
// comparison, running the pcopy binary, waiting for a condition with a deadline, and ASSERT_OK
// for Status.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "app/copy_job.h"
#include "base/status.h"

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const ::pcopy::Status _s = (expr);                      \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                     \
  do {                                                      \
    const ::pcopy::Status _s = (expr);                      \
    EXPECT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

namespace pcopy::test {

// How long a test waits for something that should happen promptly (a process starting or
// exiting, bytes landing, a worker going idle) before it fails. It only guards against a hang,
// so it is generous enough for a loaded machine; no test measures speed against it.
inline constexpr int kHangTimeoutMs = 30000;

// Polls condition, every few milliseconds, until it holds or timeout_ms has passed; it is tried
// at least once, so a timeout of 0 asks once. The failure names what was awaited, for
// ASSERT_TRUE(WaitUntil("pcopy's 2 workers", ...)) to say what never happened.
testing::AssertionResult WaitUntil(const std::string& what, const std::function<bool()>& condition,
                                   int timeout_ms = kHangTimeoutMs);

// The names list() gives now that it still gives after they were allowed timeout_ms to go: a
// name another process holds for an instant (ctest -j runs test processes side by side) goes; a
// leaked one stays. Empty at once when list() is empty.
std::vector<std::string> LingeringNames(const std::function<std::vector<std::string>()>& list,
                                        int timeout_ms = kHangTimeoutMs);

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // Names in the directory (not . and ..), sorted.
  std::vector<std::string> List() const;

 private:
  std::string path_;
};

// Writes size pseudo-random bytes (reproducible from seed).
void MakeRandomFile(const std::string& path, uint64_t size, uint64_t seed = 1);
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
bool Exists(const std::string& path);
// cmp(1): true when both files exist and hold the same bytes.
bool SameBytes(const std::string& a, const std::string& b);
// The names in dir that look like pcopy temporaries (".pcopy-*.tmp").
std::vector<std::string> Temporaries(const std::string& dir);
// The bytes the pcopy temporaries in dir hold on storage (their allocated blocks: a temporary is
// sized up front, so its length says nothing about how far the copy has got).
uint64_t TemporaryBytes(const std::string& dir);

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal, or if it could not be run or collected
  int signal = 0;      // the signal that killed it, if any
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs the built pcopy binary with args and no terminal; waits for it. The launched pcopy has
// only stdin (/dev/null), stdout and stderr open: no other descriptor of the test process. A
// pcopy that cannot be started, or whose exit status cannot be collected, fails the test.
RunResult RunPcopy(const std::vector<std::string>& args);

struct ExitStatus {
  int code = -1;  // -1 if killed by a signal
  int signal = 0;
};

// Runs argv (argv[0] looked up in PATH) in its own process group with stdin from /dev/null,
// stdout and stderr written to out and err (created or truncated: a file, or a device such as
// /dev/full) and no other descriptor. Exit code 127: it could not be executed. After timeout_ms
// the group is killed and the test fails, so a hang cannot stall the suite.
ExitStatus RunWithOutputs(const std::vector<std::string>& argv, const std::string& out,
                          const std::string& err, int timeout_ms = kHangTimeoutMs);

// What a forked child said and how it ended.
struct ChildReport {
  std::string said;     // what its body returned, sent back through a pipe
  int wait_status = 0;  // as waitpid gives it
  std::string error;    // why the child could not be run or reaped; empty if it was
};

// Runs body in a forked child, which sends back what body returns and exits 0 (3 if it cannot
// send it). With alarm_s > 0 a child that hangs is ended by SIGALRM after that many seconds.
ChildReport InChild(const std::function<std::string()>& body, unsigned alarm_s = 10);

// RunCopy in this process, as main runs it but quiet (no progress; stdout and stderr lines go to
// /dev/null), with its own SignalGuard, through sys (forked workers inherit a fake).
CopyOutcome CopyInProcess(Options o, const SysCalls& sys = RealSysCalls());

// The copy command line `pcopy args...` (trees included: RunCopyCommand) in this process through
// sys, without progress; *err gets what it wrote on stderr (stdout goes to /dev/null).
CopyOutcome CopyCommandInProcess(const std::vector<std::string>& args, const SysCalls& sys,
                                 std::string* err);

// A file system without flock (ENOLCK), as some network file systems are.
class NoFlockSysCalls final : public SysCalls {
 public:
  int flock(int, int) const override;
};

// RunWithOutputs with the outputs collected: exit status, stdout and stderr.
RunResult RunCommand(const std::vector<std::string>& argv, int timeout_ms = kHangTimeoutMs);

// Starts pcopy in the background, as RunPcopy runs it; stdout/stderr go to files read by
// Finish(). If it cannot be started the test fails and pid() is -1.
class PcopyProcess {
 public:
  explicit PcopyProcess(const std::vector<std::string>& args);
  ~PcopyProcess();  // kills and reaps if still running
  pid_t pid() const { return pid_; }
  // The pids of pcopy's worker processes (its children), as /proc lists them now.
  std::vector<pid_t> Workers() const;
  // Waits until the workers together have started copying (some child exists), or timeout.
  bool WaitForWorkers(int timeout_ms = kHangTimeoutMs) const;
  // Waits until pcopy has exited (without reaping it; Finish() still collects it), or timeout.
  // True at once if it never started.
  bool WaitForExit(int timeout_ms = kHangTimeoutMs) const;
  // Not exited yet (asks once, without waiting).
  bool Running() const { return !WaitForExit(0); }
  RunResult Finish();

 private:
  pid_t pid_ = -1;
  TempDir io_dir_;  // declared before the paths, which are initialized from it
  std::string out_path_, err_path_;
};

// Waits until pcopy has forked n workers; returns their pids (empty on timeout).
std::vector<pid_t> WaitForNWorkers(const PcopyProcess& p, size_t n,
                                   int timeout_ms = kHangTimeoutMs);
// Waits until p's temporaries in dir hold at least bytes: the copy is under way and has got that
// far. Fails if pcopy exits first (the test then proves nothing) or the deadline passes.
testing::AssertionResult WaitUntilCopied(const PcopyProcess& p, const std::string& dir,
                                         uint64_t bytes, int timeout_ms = kHangTimeoutMs);
// Finishes p, failing the test rather than hanging if it does not exit in time.
RunResult FinishWithin(PcopyProcess& p, int timeout_ms = kHangTimeoutMs);
// 'path', as pcopy quotes a plain name in its messages.
std::string Quoted(const std::string& path);

// The direct children of pid, from /proc/<pid>/task/*/children.
std::vector<pid_t> ChildrenOf(pid_t pid);

// The state letter in /proc/<pid>/stat (R running, S sleeping, D disk wait, T stopped, Z zombie,
// ...), or '\0' once the process is gone. A thread id works too.
char ProcessState(pid_t pid);
// Exists and is not a zombie (a zombie has already died; only its reaping is pending).
bool Alive(pid_t pid);
// Gone for good: reaped, not merely dead (a zombie still answers kill(pid, 0)).
bool Gone(pid_t pid);

// Kills the given processes if the test is still running after limit: every call that waits on
// them then returns (with an error) instead of hanging, and the test fails on time.
class Watchdog {
 public:
  Watchdog(std::vector<pid_t> pids, std::chrono::milliseconds limit);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  bool fired();

 private:
  std::vector<pid_t> pids_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

bool IsRoot();

// name as a GoogleTest parameter name, which takes letters, digits and '_' only:
// "copy_file_range+pread" becomes "copy_file_range_or_pread".
std::string ParamName(std::string name);

// The names in any directory (not . and ..), sorted; empty if it cannot be read.
std::vector<std::string> ListDir(const std::string& dir);

// True when s is exactly one non-empty line ending in a newline (how pcopy reports an error).
bool IsOneLine(const std::string& s);
// The last line of text, without its newline.
std::string LastLine(const std::string& text);
// What -v leaves on stdout: only cp -v's "'SRC' -> 'DST'" lines, at least one (its diagnostics
// go to stderr).
testing::AssertionResult OnlyCopiedLines(const std::string& out);
bool EndsWith(std::string_view s, std::string_view suffix);

// Environment variables set for a scope (a test fixture's life), then put back as they were:
// the suite runs many tests in one process (PCOPY_TEST_SHARDS), and test_main fails a test that
// leaves the environment changed.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  void Set(const std::string& name, const std::string& value);

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;  // before the first Set
};

// A file system mounted on an existing directory for the lifetime of the object (root only).
// Always unmounted, lazily if still busy.
class Mount {
 public:
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }  // why it is not mounted

 protected:
  explicit Mount(const std::string& dir) : dir_(dir) {}
  ~Mount();  // not virtual: only the derived mounts are ever owned
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// A tmpfs, so a test can provide a full or read-only file system.
class TmpfsMount : public Mount {
 public:
  // options as for mount -o, e.g. "size=1m"; flags e.g. MS_RDONLY.
  TmpfsMount(const std::string& dir, const std::string& options, unsigned long flags = 0);
};

// A fresh file system of the given type: mkfs.TYPE (which must be installed) on a sparse image
// of image_size bytes at image_path, loop-mounted. The image is removed at the end; unmounting a
// loop mount made by mount(8) also detaches its loop device. mkfs_options go before the image
// (e.g. {"-m", "reflink=1"} for xfs).
class LoopMount : public Mount {
 public:
  LoopMount(const std::string& dir, const std::string& type, const std::string& image_path,
            uint64_t image_size, const std::vector<std::string>& mkfs_options = {});
  ~LoopMount();

 private:
  std::string image_;
};

// A loop device over an image file (losetup -f --show), detached on destruction. Needs root;
// device() is empty and error() says why when it could not be attached.
class LoopDevice {
 public:
  explicit LoopDevice(const std::string& image);
  ~LoopDevice();
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  const std::string& device() const { return device_; }
  const std::string& error() const { return error_; }

 private:
  std::string device_;
  std::string error_;
};

}  // namespace pcopy::test
