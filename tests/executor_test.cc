// executor_test.cc: whole copies run in-process (RunCopy) over a SysCalls seam that fails one
// call inside the forked workers, or kills a worker at a chosen moment. What the user reads must
// name the operation that really failed, whichever method ran it; and a worker killed while it
// holds a unit must cost a retry, never the copy.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "app/copy_job.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::MakeRandomFile;
using test::SameBytes;
using test::TempDir;

constexpr uint64_t kMiB = 1 << 20;

// Which call fails in the workers (never in the parent, whose own opens and stats must work).
enum class Fault {
  kPread,
  kPwrite,
  kCopyFileRange,
  kSendfile,
  kSeek,
  kMmap,
  kStat,
  kOpenDirect,
  kReopen,
  kKillAtFirstWrite
};

pid_t g_parent = 0;
Fault g_fault = Fault::kPread;
std::string g_marker;  // kKillAtFirstWrite: the first worker to create this file is killed

bool InWorker() { return getpid() != g_parent; }

class FaultySysCalls final : public SysCalls {
 public:
  ssize_t pread(int fd, void* buf, size_t count, off_t offset) const override {
    if (InWorker() && g_fault == Fault::kPread) return Fail(EIO);
    return SysCalls::pread(fd, buf, count, offset);
  }
  ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const override {
    if (InWorker() && g_fault == Fault::kPwrite) return Fail(ENOSPC);
    if (InWorker() && g_fault == Fault::kKillAtFirstWrite) {
      const int made = ::open(g_marker.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
      if (made >= 0) raise(SIGKILL);  // the unit is claimed, none of its bytes written
    }
    return SysCalls::pwrite(fd, buf, count, offset);
  }
  ssize_t copy_file_range(int in, off_t* off_in, int out, off_t* off_out, size_t len,
                          unsigned flags) const override {
    if (InWorker() && g_fault == Fault::kCopyFileRange) return Fail(EIO);
    return SysCalls::copy_file_range(in, off_in, out, off_out, len, flags);
  }
  ssize_t sendfile(int out, int in, off_t* offset, size_t count) const override {
    if (InWorker() && g_fault == Fault::kSendfile) return Fail(EIO);
    return SysCalls::sendfile(out, in, offset, count);
  }
  off_t lseek(int fd, off_t offset, int whence) const override {
    if (InWorker() && g_fault == Fault::kSeek) return Fail(ESPIPE);
    return SysCalls::lseek(fd, offset, whence);
  }
  void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t off) const override {
    if (InWorker() && g_fault == Fault::kMmap) {
      errno = ENOMEM;
      return MAP_FAILED;
    }
    return SysCalls::mmap(addr, length, prot, flags, fd, off);
  }
  int fstat(int fd, struct stat* st) const override {
    if (InWorker() && g_fault == Fault::kStat) return Fail(EIO);
    return SysCalls::fstat(fd, st);
  }
  int openat(int dirfd, const char* path, int flags, mode_t mode) const override {
    if (InWorker() && g_fault == Fault::kOpenDirect && (flags & O_DIRECT) != 0) return Fail(EINVAL);
    if (InWorker() && g_fault == Fault::kReopen) return Fail(EMFILE);
    return SysCalls::openat(dirfd, path, flags, mode);
  }

 private:
  static int Fail(int err) {
    errno = err;
    return -1;
  }
};

CopyOutcome CopyWith(Fault fault, const std::string& method, const std::string& src,
                     const std::string& dst, Strategy strategy = Strategy::kDynamic,
                     unsigned retries = 0, unsigned jobs = 2) {
  g_parent = getpid();
  g_fault = fault;
  Options o;
  o.source = src;
  o.dest = dst;
  o.jobs = jobs;
  o.jobs_given = true;  // forked workers, whatever the size (app/in_process.h)
  o.strategy = strategy;
  o.retries = retries;
  o.buffer_size = method == "direct" ? kMiB : 64 << 10;
  for (Method m : {Method::kPread, Method::kCopyFileRange, Method::kSendfile, Method::kMmap,
                   Method::kDirect}) {
    if (method == MethodName(m)) o.method = m;
  }
  const FaultySysCalls sys;
  CopyOutcome outcome = test::CopyInProcess(o, sys);
  return outcome;
}

struct FaultCase {
  const char* name;
  const char* method;
  Fault fault;
  const char* message;  // with SRC and DST standing for the quoted paths
};

void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

std::string Expand(std::string text, const std::string& src, const std::string& dst) {
  for (const auto& [key, value] : {std::pair{std::string("SRC"), src}, {"DST", dst}}) {
    for (size_t at; (at = text.find(key)) != std::string::npos;) {
      text.replace(at, key.size(), test::Quoted(value));
    }
  }
  return text;
}

class ExecutorFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(ExecutorFaultTest, MessageNamesTheRealOperation) {
  const FaultCase& c = GetParam();
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 4 * kMiB, 9);
  // One worker: with two, either one's failure may be reported first, at either offset.
  const CopyOutcome outcome = CopyWith(c.fault, c.method, src, dst, Strategy::kDynamic, 0, 1);
  ASSERT_FALSE(outcome.status.ok()) << "the injected failure went unnoticed";
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(), Expand(c.message, src, dst));
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"}) << "something was left behind";
}

INSTANTIATE_TEST_SUITE_P(
    Executor, ExecutorFaultTest,
    testing::Values(
        FaultCase{"pread_read", "pread", Fault::kPread, "read SRC at offset 0: Input/output error"},
        FaultCase{"pread_write", "pread", Fault::kPwrite,
                  "write DST at offset 0: No space left on device"},
        FaultCase{"copy_file_range", "copy_file_range", Fault::kCopyFileRange,
                  "copy_file_range SRC to DST at offset 0: Input/output error"},
        FaultCase{"sendfile", "sendfile", Fault::kSendfile,
                  "sendfile SRC to DST at offset 0: Input/output error"},
        FaultCase{"sendfile_seek", "sendfile", Fault::kSeek, "seek DST at offset 0: Illegal seek"},
        FaultCase{"sendfile_reopen", "sendfile", Fault::kReopen,
                  "cannot reopen for sendfile DST: Too many open files"},
        FaultCase{"mmap", "mmap", Fault::kMmap, "mmap SRC at offset 0: Cannot allocate memory"},
        FaultCase{"mmap_stat", "mmap", Fault::kStat, "cannot stat SRC: Input/output error"},
        FaultCase{"mmap_write", "mmap", Fault::kPwrite,
                  "write DST at offset 0: No space left on device"},
        FaultCase{"direct_open", "direct", Fault::kOpenDirect,
                  "cannot open with O_DIRECT SRC: Invalid argument"}),
    [](const testing::TestParamInfo<FaultCase>& p) { return std::string(p.param.name); });

// A worker SIGKILLed after it claimed a unit and before it wrote a byte of it: the parent hands
// that unit back, a new worker copies it, and the copy is whole.
class ExecutorKillTest : public ::testing::TestWithParam<Strategy> {};

}  // namespace

void PrintTo(Strategy s, std::ostream* os) { *os << StrategyName(s); }

namespace {

TEST_P(ExecutorKillTest, WorkerKilledHoldingAUnitIsReplaced) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  g_marker = t / "killed";
  MakeRandomFile(src, 8 * kMiB + 12345, 10);
  const CopyOutcome outcome =
      CopyWith(Fault::kKillAtFirstWrite, "pread", src, dst, GetParam(), /*retries=*/1);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_TRUE(SameBytes(src, dst));
  ASSERT_EQ(outcome.report.retried.size(), 1u);
  EXPECT_NE(outcome.report.retried[0].find("was killed by signal 9"), std::string::npos)
      << outcome.report.retried[0];
  EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "killed", "src"}));
}

TEST_P(ExecutorKillTest, WithoutRetriesTheCopyFailsAndLeavesNothing) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  g_marker = t / "killed";
  MakeRandomFile(src, 8 * kMiB, 11);
  const CopyOutcome outcome =
      CopyWith(Fault::kKillAtFirstWrite, "pread", src, dst, GetParam(), /*retries=*/0);
  ASSERT_FALSE(outcome.status.ok());
  EXPECT_NE(outcome.status.ToString().find("was killed by signal 9 (Killed) while copying " +
                                           test::Quoted(src) + " to " + test::Quoted(dst)),
            std::string::npos)
      << outcome.status.ToString();
  EXPECT_EQ(t.List(), (std::vector<std::string>{"killed", "src"}));
}

INSTANTIATE_TEST_SUITE_P(Executor, ExecutorKillTest,
                         testing::Values(Strategy::kDynamic, Strategy::kGuided,
                                         Strategy::kContiguous, Strategy::kInterleaved),
                         [](const testing::TestParamInfo<Strategy>& p) {
                           return std::string(StrategyName(p.param));
                         });

}  // namespace
}  // namespace pcopy
