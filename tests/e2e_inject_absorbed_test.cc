// e2e_inject_absorbed_test.cc: faults pcopy must absorb and still copy byte-exact: EINTR on every
// other copy call, tiny and odd buffers, and copy_file_range refusals (or an early 0) that
// --method copy_file_range+pread answers by falling back to pread/pwrite at the exact offset
// reached. Needs strace; see e2e_inject_util.h.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "e2e_inject_util.h"
#include "test_util.h"

namespace pcopy::test {
namespace {

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
      EXPECT_TRUE(EndsWith(LastLine(run.result.err), "method copy_file_range")) << run.result.err;
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
      const std::string last = LastLine(run.result.err);
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
  const std::string last = LastLine(run.result.err);
  EXPECT_NE(last.find("method copy_file_range, then pread/pwrite with "), std::string::npos)
      << last;
  EXPECT_TRUE(EndsWith(last, " (copy_file_range copied nothing)")) << last;
}

}  // namespace
}  // namespace pcopy::test
