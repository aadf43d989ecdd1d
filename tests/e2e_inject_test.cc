// e2e_inject_test.cc: the real pcopy binary with syscall faults injected by strace(1)
// (`strace -f -e inject=SYSCALL:error=ERRNO:when=N`): EIO, ENOSPC and EDQUOT from the copy
// syscalls, errors from the parent's commit steps (ftruncate, fsync, fchmod, close, rename),
// EINTR on every other call, and copy_file_range refusals that --method copy_file_range+pread
// must absorb by falling back to pread/pwrite. A failure must be one line naming the operation, the
// path and the cause, exit 1, leave DEST as it was, no temporary, and the source unchanged; an
// absorbed fault must still give a byte-exact copy.
//
// How strace counts: a `when=N` counter belongs to each traced process (strace copies the
// injection settings into every process it starts tracing, forked workers included), so when=3
// hits the third call of the parent AND the third call of every worker. Only syscalls in the
// traced set are tampered with, so every run traces exactly the injected syscalls, and the trace
// goes to a file whose "(INJECTED)" marks prove the fault was really delivered.
// The dynamic loader reads the shared libraries with pread64 in the parent, so pread64 faults are
// narrowed with -P to the calls on SOURCE (an absolute, resolved path, or strace says it resolved
// it on the stderr pcopy shares).
//
// Needs strace and permission to ptrace; skips with a message otherwise.
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.h"

namespace pcopy::test {
namespace {

constexpr uint64_t kKiB = 1ull << 10;
constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kSourceSize = 6 * kMiB;
constexpr uint64_t kBufferSize = 32 * kKiB;  // pcopy's default --buffer-size
constexpr int kCommandTimeoutMs = 60000;
const char kOldContent[] = "the old DEST, which a failed copy must leave alone\n";

// Concatenation by append(): g++ 12 raises a false -Wrestrict on some `"literal" + std::string`
// chains.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null and no terminal; collects its
// exit status, stdout and stderr. Exit code 127: it could not be executed. Killed (and reported)
// after kCommandTimeoutMs, so a hang fails the test instead of stalling the suite.
RunResult RunCommand(const std::vector<std::string>& argv) {
  TempDir io;
  const std::string out = io / "stdout", err = io / "stderr";
  const ExitStatus status = RunWithOutputs(argv, out, err, kCommandTimeoutMs);
  RunResult r;
  r.exit_code = status.code;
  r.signal = status.signal;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

// Empty when strace can trace and inject here; otherwise why not (the skip message).
const std::string& StraceProblem() {
  static const std::string problem = [] {
    const RunResult r = RunCommand({"strace", "-f", "-o", "/dev/null", "true"});
    if (r.exit_code == 127) {
      return std::string(
          "strace is not installed (scripts/install-deps.sh installs it as root): cannot inject "
          "syscall faults");
    }
    if (r.exit_code != 0) {
      return Cat(
          {"strace cannot trace here (is ptrace permitted? a container may forbid it): "
           "`strace -f -o /dev/null true` failed: ",
           r.err});
    }
    return std::string();
  }();
  return problem;
}

size_t CountOf(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A pcopy run under strace: what it printed, and the trace of the injected syscalls.
struct InjectedRun {
  RunResult result;
  std::string trace;
  size_t injected = 0;  // how many calls strace tampered with
};

// The error line a failed copy must print: "pcopy: <head>[ at offset N]: <cause>\n".
struct ExpectedError {
  std::string head;  // the operation and the path(s), e.g. "read '/t/src'"
  bool offset;       // followed by " at offset N"
  std::string cause;
};

class InjectTest : public testing::Test {
 protected:
  void SetUp() override {
    if (const std::string& why = StraceProblem(); !why.empty()) GTEST_SKIP() << why;
    src_ = dir_ / "src";
    dst_ = dir_ / "dst";
    MakeRandomFile(src_, kSourceSize, 1234);
    original_ = ReadFile(src_);
    ASSERT_EQ(original_.size(), kSourceSize);
    char* resolved = realpath(src_.c_str(), nullptr);
    ASSERT_NE(resolved, nullptr) << "realpath " << src_ << ": " << strerror(errno);
    real_src_ = resolved;
    free(resolved);
  }

  // Runs `strace -f -qq -o TRACE -e trace=<traced> <strace_options> pcopy <options> SRC DST`.
  // traced must name every injected syscall: strace tampers only with traced ones.
  InjectedRun Run(const std::string& traced, const std::vector<std::string>& strace_options,
                  const std::vector<std::string>& options) {
    const std::string trace_path = trace_dir_ / "trace";
    // LeakSanitizer cannot run under ptrace: in the sanitizer build it would abort pcopy at exit.
    std::vector<std::string> argv = {"strace",
                                     "-f",
                                     "-qq",
                                     "-o",
                                     trace_path,
                                     "-e",
                                     Cat({"trace=", traced}),
                                     "-E",
                                     "ASAN_OPTIONS=detect_leaks=0"};
    argv.insert(argv.end(), strace_options.begin(), strace_options.end());
    argv.push_back(PCOPY_BINARY);
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(src_);
    argv.push_back(dst_);
    InjectedRun run;
    run.result = RunCommand(argv);
    run.trace = ReadFile(trace_path);
    run.injected = CountOf(run.trace, "(INJECTED)");
    return run;
  }

  // pread64 faults only on SOURCE's descriptor (not the dynamic loader's reads).
  std::vector<std::string> OnSource(std::vector<std::string> strace_options) const {
    strace_options.insert(strace_options.begin(), {"-P", real_src_});
    return strace_options;
  }

  // The run failed cleanly with exactly `expected`: exit 1, nothing on stdout, one line on
  // stderr. Returns the offset it names (0 when it names none).
  uint64_t ExpectError(const InjectedRun& run, const ExpectedError& expected) {
    const RunResult& r = run.result;
    EXPECT_GT(run.injected, 0u) << "strace injected nothing; trace:\n" << run.trace;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(IsOneLine(r.err)) << "not one line: [" << r.err << "]";
    const std::string prefix = Cat({"pcopy: ", expected.head});
    const std::string suffix = Cat({": ", expected.cause, "\n"});
    if (!expected.offset) {
      EXPECT_EQ(r.err, Cat({prefix, suffix}));
      return 0;
    }
    const std::string at = Cat({prefix, " at offset "});
    const bool framed = r.err.rfind(at, 0) == 0 && EndsWith(r.err, suffix) &&
                        r.err.size() > at.size() + suffix.size();
    EXPECT_TRUE(framed) << "expected [" << at << "N" << suffix << "], got [" << r.err << "]";
    if (!framed) return 0;
    const std::string number = r.err.substr(at.size(), r.err.size() - at.size() - suffix.size());
    EXPECT_TRUE(AllDigits(number)) << "offset [" << number << "] in " << r.err;
    if (!AllDigits(number)) return 0;
    const uint64_t offset = std::stoull(number);
    EXPECT_LT(offset, kSourceSize) << r.err;
    return offset;
  }

  // After a failure: DEST as it was (absent, or its old content), no temporary, SOURCE intact.
  void ExpectUntouched(bool had_dest) {
    if (had_dest) {
      EXPECT_TRUE(ReadFile(dst_) == kOldContent) << "a failed copy changed the existing DEST";
    } else {
      EXPECT_FALSE(Exists(dst_)) << "a failed copy left DEST behind";
    }
    EXPECT_TRUE(Temporaries(dir_.path()).empty())
        << "left behind: " << testing::PrintToString(Temporaries(dir_.path()));
    EXPECT_TRUE(ReadFile(src_) == original_) << "the source changed";
  }

  // After a success: DEST is byte-exact, no temporary, SOURCE intact, stderr empty.
  void ExpectExactCopy(const InjectedRun& run) {
    const RunResult& r = run.result;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(SameBytes(src_, dst_)) << "DEST differs from SOURCE";
    EXPECT_TRUE(Temporaries(dir_.path()).empty())
        << "left behind: " << testing::PrintToString(Temporaries(dir_.path()));
    EXPECT_TRUE(ReadFile(src_) == original_) << "the source changed";
  }

  // Runs the fault twice, first with no DEST and then with an existing DEST, and checks both
  // fail cleanly. Returns the offsets reported.
  std::vector<uint64_t> ExpectCleanFailure(const std::string& traced,
                                           const std::vector<std::string>& strace_options,
                                           const std::vector<std::string>& options,
                                           const ExpectedError& expected) {
    std::vector<uint64_t> offsets;
    for (const bool had_dest : {false, true}) {
      SCOPED_TRACE(had_dest ? "DEST existed" : "no DEST");
      unlink(dst_.c_str());
      if (had_dest) WriteFile(dst_, kOldContent);
      const InjectedRun run = Run(traced, strace_options, options);
      offsets.push_back(ExpectError(run, expected));
      ExpectUntouched(had_dest);
    }
    unlink(dst_.c_str());
    return offsets;
  }

  TempDir dir_;
  TempDir trace_dir_;  // apart from dir_, whose listing the tests check
  std::string src_, dst_, real_src_, original_;
};

// ---------------------------------------------------------------------------------------------
// I/O errors from the copy syscalls, in the workers.

class E2eInjectCopyErrors : public InjectTest {};

TEST_F(E2eInjectCopyErrors, PreadEio) {
  // Each worker's third read of SOURCE fails: 256 KiB into the 1 MiB chunk it holds.
  const auto offsets = ExpectCleanFailure(
      "pread64", OnSource({"-e", "inject=pread64:error=EIO:when=3"}),
      {"-j", "2", "--method", "pread"}, {Cat({"read ", Quoted(src_)}), true, "Input/output error"});
  for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 2 * kBufferSize);
}

TEST_F(E2eInjectCopyErrors, CopyFileRangeEio) {
  // One copy_file_range call per 1 MiB chunk: each worker's third starts a chunk.
  const auto offsets = ExpectCleanFailure(
      "copy_file_range", {"-e", "inject=copy_file_range:error=EIO:when=3"},
      {"-j", "2", "--method", "copy_file_range"},
      {Cat({"copy_file_range ", Quoted(src_), " to ", Quoted(dst_)}), true, "Input/output error"});
  for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 0u);
}

TEST_F(E2eInjectCopyErrors, CopyFileRangeRefusalIsAnErrorWhenAskedFor) {
  // --method copy_file_range does not fall back: EXDEV is reported, at the first call.
  const auto offsets = ExpectCleanFailure(
      "copy_file_range", {"-e", "inject=copy_file_range:error=EXDEV:when=1"},
      {"-j", "2", "--method", "copy_file_range"},
      {Cat({"copy_file_range ", Quoted(src_), " to ", Quoted(dst_)}), true, strerror(EXDEV)});
  for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 0u);
}

TEST_F(E2eInjectCopyErrors, PwriteNoSpaceAndQuota) {
  for (const int err : {ENOSPC, EDQUOT}) {
    SCOPED_TRACE(strerrorname_np(err));
    const auto offsets = ExpectCleanFailure(
        "pwrite64", {"-e", Cat({"inject=pwrite64:error=", strerrorname_np(err), ":when=3"})},
        {"-j", "2", "--method", "pread"}, {Cat({"write ", Quoted(dst_)}), true, strerror(err)});
    for (uint64_t offset : offsets) EXPECT_EQ(offset % kMiB, 2 * kBufferSize);
  }
}

TEST_F(E2eInjectCopyErrors, CopyFileRangeNoSpaceIsAWriteErrorNotAFallback) {
  // ENOSPC is not one of the refusals copy_file_range+pread falls back on, and it reads as the
  // write it is.
  ExpectCleanFailure("copy_file_range", {"-e", "inject=copy_file_range:error=ENOSPC:when=2"},
                     {"-j", "2", "--method", "copy_file_range+pread"},
                     {Cat({"write ", Quoted(dst_)}), true, strerror(ENOSPC)});
}

// ---------------------------------------------------------------------------------------------
// Errors in the parent, around the commit of the temporary.

class E2eInjectCommitErrors : public InjectTest {};

TEST_F(E2eInjectCommitErrors, FsyncEio) {
  // --fsync: the parent fsyncs the temporary before it renames it; no worker calls fsync.
  ExpectCleanFailure("fsync", {"-e", "inject=fsync:error=EIO"}, {"-j", "2", "--fsync"},
                     {Cat({"fsync ", Quoted(dst_)}), false, "Input/output error"});
}

TEST_F(E2eInjectCommitErrors, FtruncateFchmodRename) {
  ExpectCleanFailure("ftruncate", {"-e", "inject=ftruncate:error=EFBIG"}, {"-j", "2"},
                     {Cat({"cannot set the size of ", Quoted(dst_)}), false, strerror(EFBIG)});
  ExpectCleanFailure("fchmod", {"-e", "inject=fchmod:error=EPERM"}, {"-j", "2"},
                     {Cat({"set permissions of ", Quoted(dst_)}), false, strerror(EPERM)});
  // glibc's renameat2(flags 0) is the renameat syscall on x86_64; "?" skips names an
  // architecture lacks.
  ExpectCleanFailure(
      "?rename,renameat,renameat2", {"-e", "inject=?rename,renameat,renameat2:error=EIO"},
      {"-j", "2"},
      {Cat({"cannot rename temporary file to ", Quoted(dst_)}), false, "Input/output error"});
}

// The 1-based index, among the close calls of pcopy's parent (the first process in the trace),
// of the close of its temporary, from an `strace -f -e trace=openat,close` trace; 0 if absent.
int TemporaryCloseIndex(const std::string& trace) {
  std::string parent;
  std::string temp_fd;
  int closes = 0;
  size_t start = 0;
  while (start < trace.size()) {
    size_t end = trace.find('\n', start);
    if (end == std::string::npos) end = trace.size();
    const std::string line = trace.substr(start, end - start);
    start = end + 1;
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string pid = line.substr(0, space);
    if (parent.empty()) parent = pid;
    if (pid != parent) continue;
    const std::string call = line.substr(line.find_first_not_of(' ', space));
    if (call.rfind("openat(", 0) == 0 && call.find("/.pcopy-") != std::string::npos &&
        call.find(".tmp\"") != std::string::npos) {
      const size_t eq = call.rfind(") = ");
      if (eq != std::string::npos) temp_fd = call.substr(eq + 4);
      continue;
    }
    if (call.rfind("close(", 0) != 0) continue;
    ++closes;
    const std::string fd_part = call.substr(6);
    if (!temp_fd.empty() && fd_part.rfind(temp_fd, 0) == 0 && fd_part.size() > temp_fd.size() &&
        (fd_part[temp_fd.size()] == ')' || fd_part[temp_fd.size()] == ' ')) {
      return closes;
    }
  }
  return 0;
}

TEST_F(E2eInjectCommitErrors, CloseOfTheTemporaryEio) {
  // close is called for many descriptors (the dynamic loader's, a directory's), so the close of
  // the temporary is found first: a clean run under the same conditions is traced, and the
  // position of the temporary's close among the parent's closes becomes `when`. The count is per
  // process; workers using pread/pwrite close nothing, so only the parent's close is hit.
  for (const bool had_dest : {false, true}) {
    SCOPED_TRACE(had_dest ? "DEST existed" : "no DEST");
    const std::vector<std::string> options = {"-j", "2", "--method", "pread"};
    unlink(dst_.c_str());
    if (had_dest) WriteFile(dst_, kOldContent);
    const InjectedRun probe = Run("openat,close", {}, options);
    ASSERT_EQ(probe.result.exit_code, 0) << probe.result.err;
    const int when = TemporaryCloseIndex(probe.trace);
    ASSERT_GT(when, 0) << "no close of the temporary in the trace:\n" << probe.trace;

    unlink(dst_.c_str());
    if (had_dest) WriteFile(dst_, kOldContent);
    const InjectedRun run =
        Run("close", {"-e", Cat({"inject=close:error=EIO:when=", std::to_string(when)})}, options);
    EXPECT_EQ(run.injected, 1u) << run.trace;
    ExpectError(run, {Cat({"close ", Quoted(dst_)}), false, "Input/output error"});
    ExpectUntouched(had_dest);
  }
}

TEST_F(E2eInjectCommitErrors, FsyncOfTheDirectoryAfterTheRename) {
  // --fsync: fsync #1 is the temporary's, fsync #2 the directory's, after the rename. The rename
  // has happened, so DEST is the complete new copy, but pcopy exits 1 because the rename may not
  // be durable. (README's exit-status table says exit 1 leaves DEST "as it was before"; this is
  // the one failure after which it is not.)
  for (const bool had_dest : {false, true}) {
    SCOPED_TRACE(had_dest ? "DEST existed" : "no DEST");
    unlink(dst_.c_str());
    if (had_dest) WriteFile(dst_, kOldContent);
    const InjectedRun run =
        Run("fsync", {"-e", "inject=fsync:error=EIO:when=2"}, {"-j", "2", "--fsync"});
    ExpectError(run, {Cat({"fsync directory ", Quoted(dir_.path())}), false, "Input/output error"});
    EXPECT_TRUE(SameBytes(src_, dst_)) << "DEST is neither the old file nor the complete copy";
    EXPECT_TRUE(Temporaries(dir_.path()).empty());
    EXPECT_TRUE(ReadFile(src_) == original_) << "the source changed";
  }
}

// ---------------------------------------------------------------------------------------------
// Faults that must be absorbed: EINTR, and small I/O.

class E2eInjectRetry : public InjectTest {};

TEST_F(E2eInjectRetry, EintrOnEveryOtherCopyCall) {
  struct Case {
    const char* name;
    std::string traced;
    std::vector<std::string> strace_options;
    std::vector<std::string> options;
  };
  const std::vector<Case> cases = {
      {"pread64",
       "pread64",
       OnSource({"-e", "inject=pread64:error=EINTR:when=1+2"}),
       {"-j", "2", "--method", "pread"}},
      {"pwrite64",
       "pwrite64",
       {"-e", "inject=pwrite64:error=EINTR:when=1+2"},
       {"-j", "2", "--method", "pread"}},
      {"copy_file_range",
       "copy_file_range",
       {"-e", "inject=copy_file_range:error=EINTR:when=1+2"},
       {"-j", "2", "--method", "copy_file_range"}},
      // copy_file_range+pread must retry EINTR, not take it for a refusal and fall back.
      {"copy_file_range+pread",
       "copy_file_range",
       {"-e", "inject=copy_file_range:error=EINTR:when=1+2"},
       {"-j", "2", "--method", "copy_file_range+pread", "-v"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    unlink(dst_.c_str());
    const InjectedRun run = Run(c.traced, c.strace_options, c.options);
    ExpectExactCopy(run);
    // Every other call failed: as many EINTRs as calls that did the work (one per chunk for
    // copy_file_range, one per buffer for pread/pwrite).
    EXPECT_GE(run.injected, kSourceSize / kMiB) << run.trace;
    if (c.options.back() == "-v") {
      EXPECT_TRUE(EndsWith(LastLine(run.result.out), "method copy_file_range")) << run.result.out;
    }
  }
}

// strace cannot shorten a read or a write (it can only fail a call or replace its return value
// without doing the I/O), so short counts themselves are covered by io_test's fake SysCalls.
// Here, tiny and odd buffer sizes make every read and write small and unaligned.
TEST(E2eInjectSmallIo, TinyAndOddBuffers) {
  TempDir t;
  const std::string src = t / "src";
  constexpr uint64_t kSize = kMiB + 3;
  MakeRandomFile(src, kSize, 99);
  const std::string original = ReadFile(src);
  for (const char* buffer : {"1", "4095"}) {
    SCOPED_TRACE(Cat({"--buffer-size ", buffer}));
    const std::string dst = t / Cat({"dst-", buffer});
    const RunResult r =
        RunPcopy({"-j", "2", "--method", "pread", "--buffer-size", buffer, src, dst});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(SameBytes(src, dst));
    EXPECT_TRUE(Temporaries(t.path()).empty());
    EXPECT_TRUE(ReadFile(src) == original);
  }
}

// ---------------------------------------------------------------------------------------------
// --method copy_file_range+pread (what auto picks on xfs, btrfs, nfs...): copy_file_range refusals
// fall back to pread/pwrite at the exact offset reached.

class E2eInjectFallback : public InjectTest {};

TEST_F(E2eInjectFallback, RefusalsFallBackToPreadPwrite) {
  // 512 KiB chunks: 12 chunks, one copy_file_range call each, so some worker reaches its third
  // call and falls back in the middle of its work.
  const std::vector<std::string> options = {
      "-j", "2", "--method", "copy_file_range+pread", "--chunk-size", "512K", "-v"};
  for (const int err : {EXDEV, EOPNOTSUPP, ENOSYS, EINVAL, EPERM}) {
    for (const int when : {1, 3}) {
      SCOPED_TRACE(Cat({strerrorname_np(err), " at call ", std::to_string(when)}));
      unlink(dst_.c_str());
      const InjectedRun run = Run("copy_file_range",
                                  {"-e", Cat({"inject=copy_file_range:error=", strerrorname_np(err),
                                              ":when=", std::to_string(when)})},
                                  options);
      ExpectExactCopy(run);
      EXPECT_GT(run.injected, 0u) << run.trace;
      const std::string last = LastLine(run.result.out);
      const std::string used = when == 1 ? "method pread/pwrite with "
                                         : "method copy_file_range, then pread/pwrite with ";
      EXPECT_NE(last.find(used), std::string::npos) << last;
      EXPECT_TRUE(EndsWith(last, Cat({" (copy_file_range: ", strerror(err), ")"}))) << last;
      if (when == 1) {
        EXPECT_EQ(last.find("copy_file_range, then"), std::string::npos) << last;
      }
    }
  }
}

TEST_F(E2eInjectFallback, EarlyZeroFallsBack) {
  // copy_file_range answering 0 before the end (a file system that copies nothing): the rest is
  // copied with pread/pwrite, which reads the real data.
  const InjectedRun run =
      Run("copy_file_range", {"-e", "inject=copy_file_range:retval=0:when=2"},
          {"-j", "2", "--method", "copy_file_range+pread", "--chunk-size", "512K", "-v"});
  ExpectExactCopy(run);
  EXPECT_GT(run.injected, 0u) << run.trace;
  const std::string last = LastLine(run.result.out);
  EXPECT_NE(last.find("method copy_file_range, then pread/pwrite with "), std::string::npos)
      << last;
  EXPECT_TRUE(EndsWith(last, " (copy_file_range copied nothing)")) << last;
}

}  // namespace
}  // namespace pcopy::test
