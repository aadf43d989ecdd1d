// e2e_small_copy_test.cc: a file with less data than kInProcessBelow, copied by pcopy's own
// process (app/in_process.h): byte-exact, with no child process, no shared mapping and nothing in
// /dev/shm (strace says so, or the process table while the copy runs), yet with the same
// temporary and rename, the same signals, errors and progress as a copy by workers; and an
// explicit -j still gets its workers.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "e2e_copy_util.h"
#include "exec/in_process_executor.h"
#include "test_util.h"

namespace pcopy::test {

// Empty when strace can trace here; otherwise why not (e2e_inject_util.cc: its header's
// constants clash with e2e_copy_util.h's).
const std::string& StraceProblem();

namespace {

constexpr char kByThisProcess[] = "copied by this process, no worker forked";

// The trace of one pcopy run under `strace -f`, with what pcopy printed.
struct TracedRun {
  RunResult result;
  std::string trace;
};

// LeakSanitizer cannot run under ptrace: in the sanitizer build it would abort pcopy at exit
// (after starting a thread of its own, which the trace would count as a fork).
const char* const kNoLeakCheck[] = {"-E", "ASAN_OPTIONS=detect_leaks=0"};

// Traces the calls that would start a process, open something in /dev/shm or /dev/mqueue, or
// map shared memory.
TracedRun RunTraced(const TempDir& t, const std::vector<std::string>& args) {
  const std::string trace = t / "trace";
  std::vector<std::string> argv = {"strace",
                                   "-f",
                                   "-o",
                                   trace,
                                   kNoLeakCheck[0],
                                   kNoLeakCheck[1],
                                   "-e",
                                   "trace=clone,clone3,fork,vfork,openat,mmap,mq_open"};
  argv.push_back(PCOPY_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  TracedRun run{RunCommand(argv), ReadFile(trace)};
  return run;
}

bool Forked(const std::string& trace) {
  for (const char* call : {"clone(", "clone3(", "fork(", "vfork("}) {
    if (trace.find(call) != std::string::npos) return true;
  }
  return false;
}

bool SharedMemory(const std::string& trace) {
  for (const char* mark : {"MAP_SHARED", "/dev/shm", "/dev/mqueue", "mq_open("}) {
    if (trace.find(mark) != std::string::npos) return true;
  }
  return false;
}

TEST(E2eSmallCopy, CopiesByteExactInThisProcess) {
  TempDir t;
  for (const uint64_t size : {uint64_t{1}, uint64_t{4095}, uint64_t{4096}, uint64_t{65539},
                              kMiB + 7, kInProcessBelow - 1}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string src = t / ("src" + std::to_string(size));
    const std::string dst = t / ("dst" + std::to_string(size));
    MakeRandomFile(src, size, size);
    const RunResult r = RunPcopy({"-v", src, dst});
    ExpectCopied(r, src, dst, /*expect_silent=*/false);
    EXPECT_NE(r.err.find(kByThisProcess), std::string::npos) << r.err;
    EXPECT_NE(LastLine(r.err).find(" in this process, method "), std::string::npos) << r.err;
  }
}

// At the threshold the workers take over, as they always did.
TEST(E2eSmallCopy, AtTheThresholdWorkersCopy) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, kInProcessBelow, 3);
  const RunResult r = RunPcopy({"-v", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.err.find(kByThisProcess), std::string::npos) << r.err;
  EXPECT_NE(LastLine(r.err).find(" with "), std::string::npos) << r.err;
}

// -j asks for worker processes: a small file split into chunks gets them.
TEST(E2eSmallCopy, ExplicitJobsStillStartWorkers) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 64 << 10, 4);
  const RunResult r = RunPcopy({"-v", "-j", "2", "--chunk-size", "4K", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_EQ(r.err.find(kByThisProcess), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("with 2 workers"), std::string::npos) << r.err;
}

// Whatever else is asked of a small copy (read back, digest, JSON progress, fsync), nothing is
// forked and no shared memory is mapped; the same run with -j 2 shows what the trace would say.
TEST(E2eSmallCopy, ForksNothingAndMapsNoSharedMemory) {
  if (const std::string& why = StraceProblem(); !why.empty()) GTEST_SKIP() << why;
  TempDir t;
  const std::string src = t / "src";
  MakeRandomFile(src, 256 << 10, 5);
  const std::vector<std::vector<std::string>> variants = {
      {}, {"--verify"}, {"--print-digest"}, {"--progress", "json"}, {"--fsync", "--verify"}};
  int n = 0;
  for (const auto& options : variants) {
    SCOPED_TRACE(testing::PrintToString(options));
    const std::string dst = t / ("dst" + std::to_string(n++));
    std::vector<std::string> args = options;
    args.insert(args.end(), {src, dst});
    const TracedRun run = RunTraced(t, args);
    EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
    EXPECT_TRUE(SameBytes(src, dst));
    EXPECT_FALSE(Forked(run.trace)) << run.trace;
    EXPECT_FALSE(SharedMemory(run.trace)) << run.trace;
  }
  const TracedRun workers = RunTraced(t, {"-j", "2", "--chunk-size", "64K", src, t / "dst-j2"});
  EXPECT_EQ(workers.result.exit_code, 0) << workers.result.err;
  EXPECT_TRUE(Forked(workers.trace)) << "the probe does not see a fork";
  EXPECT_TRUE(SharedMemory(workers.trace)) << "the probe does not see the shared mapping";
}

// --checksum and --compare of small files read them here too.
TEST(E2eSmallCopy, DigestsOfSmallFilesForkNothing) {
  if (const std::string& why = StraceProblem(); !why.empty()) GTEST_SKIP() << why;
  TempDir t;
  const std::string a = t / "a", b = t / "b";
  MakeRandomFile(a, 3 * kMiB, 6);
  MakeRandomFile(b, 3 * kMiB, 6);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--checksum", a, b}, {"--compare", a, b}}) {
    SCOPED_TRACE(args[0]);
    const TracedRun run = RunTraced(t, args);
    EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
    EXPECT_FALSE(Forked(run.trace)) << run.trace;
    EXPECT_FALSE(SharedMemory(run.trace)) << run.trace;
  }
}

// A paced copy (--bwlimit 100: each 4 KiB piece is followed by a 40 s sleep) struck by a signal
// mid-copy: it stops at once, removes its temporary and leaves DEST as it was. No child process
// exists at any point.
TEST(E2eSmallCopy, SignalMidCopyLeavesNothing) {
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(strsignal(sig));
    TempDir t;
    const std::string src = t / "src", dst = t / "dst";
    MakeRandomFile(src, 64 << 10, 7);
    WriteFile(dst, "the old DEST\n");
    PcopyProcess p({"--bwlimit", "100", src, dst});
    ASSERT_TRUE(WaitUntil("pcopy's temporary", [&] { return !Temporaries(t.path()).empty(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(p.Running()) << "the paced copy ended too soon";
    EXPECT_TRUE(ChildrenOf(p.pid()).empty()) << "a small copy started a child process";
    const auto struck = std::chrono::steady_clock::now();
    ASSERT_EQ(kill(p.pid(), sig), 0);
    const RunResult r = FinishWithin(p);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - struck).count();
    EXPECT_LT(took, 10.0) << "the signal waited for the pacing sleep";
    EXPECT_EQ(r.exit_code, 128 + sig);
    EXPECT_EQ(r.err, std::string("pcopy: interrupted by ") +
                         (sig == SIGINT ? "SIGINT" : "SIGTERM") + "; DEST left untouched\n");
    EXPECT_EQ(ReadFile(dst), "the old DEST\n");
    EXPECT_EQ(t.List(), (std::vector<std::string>{"dst", "src"}));
  }
}

// A failed write (injected by strace) is one line naming the operation, the path and the cause,
// exit 1, and leaves nothing.
TEST(E2eSmallCopy, WriteErrorIsOneLine) {
  if (const std::string& why = StraceProblem(); !why.empty()) GTEST_SKIP() << why;
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 64 << 10, 8);
  const RunResult r =
      RunCommand({"strace", "-f", "-o", "/dev/null", kNoLeakCheck[0], kNoLeakCheck[1], "-e",
                  "trace=pwrite64", "-e", "inject=pwrite64:error=EIO", PCOPY_BINARY, src, dst});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "pcopy: write " + Quoted(dst) + " at offset 0: Input/output error\n");
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

// The same through the SysCalls seam, in this process: the copy's own read fails.
class FailingPread final : public SysCalls {
 public:
  ssize_t pread(int, void*, size_t, off_t offset) const override {
    errno = EIO;
    failed_at_ = offset;
    return -1;
  }
  mutable off_t failed_at_ = -1;
};

TEST(E2eSmallCopy, ReadErrorThroughTheSeam) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 64 << 10, 9);
  Options o;
  o.source = src;
  o.dest = dst;
  o.jobs = 2;
  o.method = Method::kPread;
  const FailingPread sys;
  const CopyOutcome outcome = CopyInProcess(o, sys);
  EXPECT_EQ(sys.failed_at_, 0) << "the fake in this process was not called: was a worker forked?";
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.status.ToString(), "read " + Quoted(src) + " at offset 0: Input/output error");
  EXPECT_EQ(t.List(), std::vector<std::string>{"src"});
}

// --progress json ends with one "end" line for the one worker this process stood in for.
TEST(E2eSmallCopy, ProgressJsonEndsWithOneLine) {
  TempDir t;
  const std::string src = t / "src", dst = t / "dst";
  MakeRandomFile(src, 100000, 10);
  const RunResult r = RunPcopy({"--progress", "json", src, dst});
  ExpectCopied(r, src, dst, /*expect_silent=*/false);
  EXPECT_TRUE(IsOneLine(r.err)) << r.err;
  EXPECT_EQ(r.err.rfind("{\"type\":\"end\"", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("\"bytes_done\":100000,\"bytes_total\":100000"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"workers\":[{\"bytes\":100000,\"file\":null}],\"outcome\":\"copied\""),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace pcopy::test
