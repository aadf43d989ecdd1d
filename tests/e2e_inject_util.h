// e2e_inject_util.h: what the fault-injection tests share. They run the real pcopy binary with
// syscall faults injected by strace(1)
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
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.h"

namespace pcopy::test {

inline constexpr uint64_t kKiB = 1ull << 10;
inline constexpr uint64_t kMiB = 1ull << 20;
inline constexpr uint64_t kSourceSize = 6 * kMiB;
inline constexpr uint64_t kBufferSize = 32 * kKiB;  // pcopy's default --buffer-size
inline constexpr int kCommandTimeoutMs = 60000;
inline constexpr char kOldContent[] = "the old DEST, which a failed copy must leave alone\n";

// Concatenation by append(): g++ 12 raises a false -Wrestrict on some `"literal" + std::string`
// chains.
std::string Cat(std::initializer_list<std::string_view> parts);

// Empty when strace can trace and inject here; otherwise why not (the skip message).
const std::string& StraceProblem();

// How many times needle occurs in text.
// err without strace's own diagnostics ("strace: Failed to tamper with process N: unexpectedly
// got no error", when a traced call it meant to fail races with a worker's exit): they are the
// tracer's, not pcopy's, and pcopy's message is what a test checks.
std::string WithoutStraceLines(const std::string& err);
size_t CountOf(const std::string& text, std::string_view needle);

// s is a non-empty run of decimal digits.
bool AllDigits(std::string_view s);

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

// A SOURCE of kSourceSize random bytes and no DEST in a fresh directory (skips without strace);
// Run() copies SOURCE to DEST under strace, and the Expect* helpers check the outcome.
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
    run.result = RunCommand(argv, kCommandTimeoutMs);
    run.result.err = WithoutStraceLines(run.result.err);
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

  // After a success: DEST is byte-exact, no temporary, SOURCE intact, stderr empty (with -v: only
  // -v's lines, no warning and no retried worker).
  void ExpectExactCopy(const InjectedRun& run) {
    const RunResult& r = run.result;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.out.empty()) {
      EXPECT_EQ(r.err, "");
    } else {
      EXPECT_TRUE(OnlyCopiedLines(r.out)) << r.err;
      EXPECT_NE(r.err.find("pcopy: copied "), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("pcopy: warning: "), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("pcopy: retried: "), std::string::npos) << r.err;
    }
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

}  // namespace pcopy::test
