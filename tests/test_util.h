// test_util.h: what every pcopy test shares: temporary directories, random files, byte
// comparison, running the pcopy binary, and ASSERT_OK for Status.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

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

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;      // the signal that killed it, if any
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs the built pcopy binary with args and no terminal; waits for it.
RunResult RunPcopy(const std::vector<std::string>& args);

struct ExitStatus {
  int code = -1;  // -1 if killed by a signal
  int signal = 0;
};

// Runs argv (argv[0] looked up in PATH) in its own process group with stdin from /dev/null and
// stdout and stderr written to out and err (created or truncated: a file, or a device such as
// /dev/full). Exit code 127: it could not be executed. After timeout_ms the group is killed and
// the test fails, so a hang cannot stall the suite.
ExitStatus RunWithOutputs(const std::vector<std::string>& argv, const std::string& out,
                          const std::string& err, int timeout_ms);

// Starts pcopy in the background; stdout/stderr go to files read by Finish().
class PcopyProcess {
 public:
  explicit PcopyProcess(const std::vector<std::string>& args);
  ~PcopyProcess();  // kills and reaps if still running
  pid_t pid() const { return pid_; }
  // The pids of pcopy's worker processes (its children), as /proc lists them now.
  std::vector<pid_t> Workers() const;
  // Waits until the workers together have started copying (some child exists), or timeout.
  bool WaitForWorkers(int timeout_ms) const;
  // Waits until pcopy has exited (without reaping it; Finish() still collects it), or timeout.
  bool WaitForExit(int timeout_ms) const;
  RunResult Finish();

 private:
  pid_t pid_ = -1;
  TempDir io_dir_;  // declared before the paths, which are initialized from it
  std::string out_path_, err_path_;
};

// Waits until pcopy has forked n workers; returns their pids (empty on timeout).
std::vector<pid_t> WaitForNWorkers(const PcopyProcess& p, size_t n, int timeout_ms);
// Finishes p, failing the test rather than hanging if it does not exit in time.
RunResult FinishWithin(PcopyProcess& p, int timeout_ms);
// 'path', as pcopy quotes a plain name in its messages.
std::string Quoted(const std::string& path);

// The direct children of pid, from /proc/<pid>/task/*/children.
std::vector<pid_t> ChildrenOf(pid_t pid);

bool IsRoot();

// name as a GoogleTest parameter name, which takes letters, digits and '_' only:
// "copy_file_range+pread" becomes "copy_file_range_or_pread".
std::string ParamName(std::string name);

// The names in any directory (not . and ..), sorted; empty if it cannot be read.
std::vector<std::string> ListDir(const std::string& dir);

// True when s is exactly one non-empty line ending in a newline (how pcopy reports an error).
bool IsOneLine(const std::string& s);

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
// loop mount made by mount(8) also detaches its loop device.
class LoopMount : public Mount {
 public:
  LoopMount(const std::string& dir, const std::string& type, const std::string& image_path,
            uint64_t image_size);
  ~LoopMount();

 private:
  std::string image_;
};

}  // namespace pcopy::test
