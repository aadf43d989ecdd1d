// worker_test.cc: one copy worker run in-process (exec/worker.h): which units it takes from the
// ledger, and that it records a failure as an error record naming the real operation.
#include "exec/worker.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "base/unique_fd.h"
#include "copy/io_error.h"
#include "plan/plan.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::MakeRandomFile;
using test::SameBytes;
using test::TempDir;

constexpr uint64_t kUnit = 64 << 10;

// A source of `units` random units, a DEST of the same size, the descriptors a worker uses.
class WorkerTest : public ::testing::Test {
 protected:
  void Prepare(uint64_t units, Strategy strategy, unsigned jobs) {
    src_ = dir_ / "src";
    dst_ = dir_ / "dst";
    MakeRandomFile(src_, units * kUnit, 5);
    src_fd_ = UniqueFd(open(src_.c_str(), O_RDONLY | O_CLOEXEC));
    dst_fd_ = UniqueFd(open(dst_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(src_fd_.valid() && dst_fd_.valid());
    ASSERT_EQ(ftruncate(dst_fd_.get(), static_cast<off_t>(units * kUnit)), 0);
    work_ = MakeWorkList(MakePlan(units * kUnit, jobs, kUnit, strategy));
    fds_ = FileFds{src_fd_.get(), dst_fd_.get()};
    config_.sys = &RealSysCalls();
    config_.files.push_back(ExecFile{src_, dst_, src_, dst_, {}, {}});
    config_.method = Method::kPread;
    config_.buffer_size = 16 << 10;
    ASSERT_OK(WorkerSlots::Create(work_.workers, work_.units.size(), &slots_));
  }

  WorkerTask Task(size_t index) {
    WorkerTask t;
    t.work = &work_;
    t.config = &config_;
    t.fds = &fds_;
    t.index = index;
    t.next_unit = &slots_.header().next_unit;
    t.ledger = &slots_.ledger();
    return t;
  }

  // Copies unit k in the test itself, as a worker that finished it would have.
  void CopyByHand(size_t k) {
    std::string buf(work_.units[k].length, '\0');
    const auto off = static_cast<off_t>(work_.units[k].offset);
    ASSERT_EQ(pread(src_fd_.get(), buf.data(), buf.size(), off), static_cast<ssize_t>(buf.size()));
    ASSERT_EQ(pwrite(dst_fd_.get(), buf.data(), buf.size(), off), static_cast<ssize_t>(buf.size()));
  }

  TempDir dir_;
  std::string src_, dst_;
  UniqueFd src_fd_, dst_fd_;
  WorkList work_;
  FileFds fds_;
  ExecConfig config_;
  WorkerSlots slots_;
};

// A dynamic worker took units 0-2 from the cursor and was killed before it claimed them: they
// are still free in the ledger, and the next worker to run out of cursor takes them.
TEST_F(WorkerTest, UnitsTakenFromTheCursorButNeverClaimedAreCopied) {
  Prepare(8, Strategy::kDynamic, 2);
  slots_.header().next_unit.store(3);
  EXPECT_EQ(RunWorker(Task(1), &slots_[1]), kWorkerOk);
  EXPECT_EQ(slots_.ledger().Remaining(), 0u);
  EXPECT_EQ(slots_[1].completed_bytes.load(), 8 * kUnit);
  EXPECT_TRUE(SameBytes(src_, dst_));
}

// Worker 0 of a static plan finished its first unit and died holding its second: the parent
// releases what it held, and its replacement copies exactly what is not done.
TEST_F(WorkerTest, ReplacementOfAStaticWorkerTakesWhatItHeld) {
  Prepare(8, Strategy::kInterleaved, 2);
  Ledger& ledger = slots_.ledger();
  const size_t first = work_.first[0];
  ASSERT_TRUE(ledger.Claim(first, 0));
  CopyByHand(first);
  ledger.Done(first);
  ASSERT_TRUE(ledger.Claim(first + 1, 0));
  EXPECT_EQ(ledger.Release(0), 1u);
  EXPECT_EQ(RunWorker(Task(0), &slots_[0]), kWorkerOk);
  EXPECT_EQ(slots_[0].completed_bytes.load(), 3 * kUnit) << "worker 0 owns 4 units, 1 was done";
  EXPECT_EQ(RunWorker(Task(1), &slots_[1]), kWorkerOk);
  EXPECT_EQ(ledger.Remaining(), 0u);
  EXPECT_TRUE(SameBytes(src_, dst_));
}

// A static worker never takes another worker's units, even when they are free.
TEST_F(WorkerTest, StaticWorkerKeepsToItsOwnUnits) {
  Prepare(6, Strategy::kInterleaved, 3);
  EXPECT_EQ(RunWorker(Task(1), &slots_[1]), kWorkerOk);
  EXPECT_EQ(slots_.ledger().Remaining(), 4u);
  for (size_t k = work_.first[1]; k < work_.first[2]; ++k) EXPECT_TRUE(slots_.ledger().IsDone(k));
}

// The error record names the operation, the file and the offset where the call failed.
class FailingPwrite final : public SysCalls {
 public:
  ssize_t pwrite(int, const void*, size_t, off_t) const override {
    errno = ENOSPC;
    return -1;
  }
};

TEST_F(WorkerTest, FailureIsRecordedAsTheRealOperation) {
  Prepare(4, Strategy::kDynamic, 1);
  const FailingPwrite sys;
  config_.sys = &sys;
  EXPECT_EQ(RunWorker(Task(0), &slots_[0]), kWorkerFailed);
  EXPECT_EQ(slots_[0].state.load(), static_cast<uint32_t>(WorkerState::kFailed));
  const IoError e = SlotError(slots_[0]);
  EXPECT_EQ(e.op, IoOp::kWrite);
  EXPECT_EQ(e.file, IoFile::kDest);
  EXPECT_EQ(e.err, ENOSPC);
  EXPECT_EQ(ToStatus(e, "a", "b").ToString(), "write 'b' at offset 0: No space left on device");
  EXPECT_EQ(slots_.ledger().State(0), 1u) << "the failed unit is still held by worker 0";
}

}  // namespace
}  // namespace pcopy
