// copy_job_guard_test.cc: RunGuarded, which turns an exception escaping a job (std::bad_alloc
// above all) into a failed outcome, exit 1, after unwinding has removed the temporary.
#include <sys/types.h>

#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/copy_job.h"
#include "os/temp_file.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::TempDir;

TEST(CopyJobGuardTest, OutcomePassesThrough) {
  const CopyOutcome outcome = RunGuarded([] { return CopyOutcome{{}, 3, {}}; });
  EXPECT_TRUE(outcome.status.ok());
  EXPECT_EQ(outcome.exit_code, 3);
}

TEST(CopyJobGuardTest, BadAllocIsOutOfMemory) {
  const CopyOutcome outcome = RunGuarded([]() -> CopyOutcome { throw std::bad_alloc(); });
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(), "out of memory");
}

TEST(CopyJobGuardTest, OtherExceptionsAreUnexpectedErrors) {
  CopyOutcome outcome = RunGuarded([]() -> CopyOutcome { throw std::runtime_error("boom"); });
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(), "unexpected error: boom");
  outcome = RunGuarded([]() -> CopyOutcome { throw 42; });
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(), "unexpected error: an exception of unknown type");
}

TEST(CopyJobGuardTest, UnwindingRemovesTheTemporary) {
  TempDir t;
  const CopyOutcome outcome = RunGuarded([&]() -> CopyOutcome {
    TempFile temp;
    if (Status s = TempFile::Create(t.path(), "dst", &temp); !s.ok()) return {s, 9, {}};
    EXPECT_EQ(test::Temporaries(t.path()).size(), 1u);
    throw std::bad_alloc();  // as a failed allocation would
  });
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(), "out of memory");
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());
}

class ThrowingPread final : public SysCalls {
 public:
  ssize_t pread(int, void*, size_t, off_t) const override { throw std::bad_alloc(); }
};

// RunCopy itself is guarded: an allocation failure inside it (here in the parent, which reads a
// source of unknown size itself, after the temporary exists) is "out of memory", exit 1, and
// leaves nothing.
TEST(CopyJobGuardTest, RunCopyTurnsBadAllocIntoAFailure) {
  TempDir t;
  const std::string dst = t / "dst";
  const ThrowingPread sys;
  Options o;
  o.source = "/proc/version";
  o.dest = dst;
  o.jobs = 2;
  const CopyOutcome outcome = test::CopyInProcess(o, sys);
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.status.ToString(), "out of memory");
  EXPECT_TRUE(t.List().empty()) << testing::PrintToString(t.List());
}

}  // namespace
}  // namespace pcopy
