// ledger_test.cc: the per-unit ledger (exec/ledger.h) and the work list it indexes
// (plan/work_list.h).
#include "exec/ledger.h"

#include <sys/mman.h>

#include <vector>

#include "exec/worker_slots.h"
#include "os/child_process.h"
#include "plan/work_list.h"
#include "test_util.h"

namespace pcopy {
namespace {

TEST(LedgerTest, ClaimDoneRelease) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(2, 5, &slots));
  Ledger& ledger = slots.ledger();
  ASSERT_EQ(ledger.size(), 5u);
  EXPECT_EQ(ledger.Remaining(), 5u);
  EXPECT_TRUE(ledger.Claim(0, 0));
  EXPECT_FALSE(ledger.Claim(0, 1)) << "a unit held by worker 0 was taken again";
  EXPECT_EQ(ledger.State(0), 1u);
  ledger.Done(0);
  EXPECT_TRUE(ledger.IsDone(0));
  EXPECT_FALSE(ledger.Claim(0, 1)) << "a done unit was taken again";
  EXPECT_TRUE(ledger.Claim(1, 1));
  EXPECT_TRUE(ledger.Claim(2, 1));
  EXPECT_TRUE(ledger.Claim(3, 0));
  ledger.Done(2);
  // Worker 1 died holding unit 1 (unit 2 it finished): exactly unit 1 comes back.
  EXPECT_EQ(ledger.Release(1), 1u);
  EXPECT_EQ(ledger.State(1), kUnitFree);
  EXPECT_TRUE(ledger.IsDone(2));
  EXPECT_EQ(ledger.State(3), 1u) << "worker 0's unit was released with worker 1's";
  EXPECT_EQ(ledger.Remaining(), 3u);
}

TEST(LedgerTest, LedgerFollowsTheSlotsInOneMapping) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(3, 1000, &slots));
  for (size_t k = 0; k < 1000; ++k) {
    slots.ledger().Wrote(k, ~uint64_t{0});
    slots.ledger().Done(k);
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(slots[i].bytes_done.load(), 0u) << "the ledger overlaps slot " << i;
    EXPECT_EQ(slots[i].state.load(), 0u) << "the ledger overlaps slot " << i;
  }
  EXPECT_EQ(slots.header().next_unit.load(), 0u);
  EXPECT_EQ(slots.ledger().Remaining(), 0u);
  for (size_t k = 0; k < 1000; ++k) ASSERT_EQ(slots.ledger().Written(k), ~uint64_t{0}) << k;
}

// A frontier only grows: a replaced worker rewriting a unit from its start does not lower it.
TEST(LedgerTest, AWrittenFrontierOnlyGrows) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(1, 4, &slots));
  Ledger& ledger = slots.ledger();
  EXPECT_EQ(ledger.Written(2), 0u);
  ledger.Wrote(2, 4096);
  ledger.Wrote(2, 1000);
  EXPECT_EQ(ledger.Written(2), 4096u);
  ledger.Wrote(2, 8192);
  EXPECT_EQ(ledger.Written(2), 8192u);
  EXPECT_EQ(ledger.Written(1), 0u);
  EXPECT_EQ(ledger.Written(3), 0u);
}

// Forked children race to claim every unit: each unit is claimed exactly once.
struct ClaimTask {
  Ledger* ledger;
  size_t worker;
  std::atomic<uint32_t>* claimed_by;  // in a shared mapping: who claimed each unit
};

int ClaimBody(void* context) noexcept {
  const auto* t = static_cast<const ClaimTask*>(context);
  for (size_t k = 0; k < t->ledger->size(); ++k) {
    if (!t->ledger->Claim(k, t->worker)) continue;
    if (t->claimed_by[k].exchange(static_cast<uint32_t>(t->worker + 1)) != 0) return 3;
    t->ledger->Done(k);
  }
  return 0;
}

TEST(LedgerTest, ForkedWorkersClaimEachUnitOnce) {
  constexpr size_t kWorkers = 4, kUnits = 20000;
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(kWorkers, kUnits, &slots));
  const size_t bytes = kUnits * sizeof(std::atomic<uint32_t>);
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto* claimed_by = new (map) std::atomic<uint32_t>[kUnits]();
  ClaimTask tasks[kWorkers];
  ChildProcess children[kWorkers];
  for (size_t i = 0; i < kWorkers; ++i) {
    tasks[i] = ClaimTask{&slots.ledger(), i, claimed_by};
    ASSERT_OK(ChildProcess::Spawn(&ClaimBody, &tasks[i], 0, "ledger-test", &children[i]));
  }
  for (ChildProcess& c : children) c.Wait();
  for (ChildProcess& c : children) EXPECT_TRUE(c.succeeded()) << c.DescribeExit();
  EXPECT_EQ(slots.ledger().Remaining(), 0u);
  size_t unclaimed = 0;
  for (size_t k = 0; k < kUnits; ++k) unclaimed += claimed_by[k].load() == 0 ? 1 : 0;
  EXPECT_EQ(unclaimed, 0u);
  munmap(map, bytes);
}

TEST(WorkListTest, StaticPlanGivesEachWorkerItsRun) {
  const CopyPlan plan = MakePlan(10 * 4096, 3, 4096, Strategy::kInterleaved);
  const WorkList w = MakeWorkList(plan, 7);
  ASSERT_FALSE(w.shared());
  ASSERT_EQ(w.workers, 3u);
  ASSERT_EQ(w.first.size(), 4u);
  EXPECT_EQ(w.units.size(), 10u);
  EXPECT_EQ(w.bytes, 10u * 4096);
  uint64_t total = 0;
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(w.first[i + 1] - w.first[i], plan.workers[i].ranges.size());
    for (size_t k = w.first[i]; k < w.first[i + 1]; ++k) {
      const ByteRange& r = plan.workers[i].ranges[k - w.first[i]];
      EXPECT_EQ(w.units[k], (WorkUnit{7, r.offset, r.length}));
    }
    EXPECT_EQ(w.PlannedBytes(i), plan.workers[i].bytes());
    total += w.PlannedBytes(i);
  }
  EXPECT_EQ(total, w.bytes);
}

TEST(WorkListTest, SelfScheduledPlanIsOneSharedList) {
  const CopyPlan plan = MakePlan(5 * 1000 + 1, 2, 1000, Strategy::kDynamic);
  const WorkList w = MakeWorkList(plan);
  ASSERT_TRUE(w.shared());
  ASSERT_EQ(w.units.size(), plan.queue.size());
  for (size_t k = 0; k < w.units.size(); ++k) {
    EXPECT_EQ(w.units[k], (WorkUnit{0, plan.queue[k].offset, plan.queue[k].length}));
  }
  EXPECT_EQ(w.PlannedBytes(0), w.bytes / 2);
}

// A resumable copy across ranks splits long units: each worker keeps its bytes, in order, in
// pieces no longer than asked; a shared list stays shared.
TEST(WorkListTest, SplitUnitsKeepsEachWorkersBytesInOrder) {
  const CopyPlan plan = MakePlan(10 * 4096 + 5, 2, 4096, Strategy::kContiguous);
  const WorkList w = MakeWorkList(plan, 3);
  const WorkList split = SplitUnits(w, 4096);
  ASSERT_FALSE(split.shared());
  ASSERT_EQ(split.first.size(), 3u);
  EXPECT_EQ(split.bytes, w.bytes);
  EXPECT_EQ(split.units.size(), 11u) << "5 pages, then 5 pages and 5 bytes, cut into pages";
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(split.PlannedBytes(i), w.PlannedBytes(i));
    uint64_t at = w.units[w.first[i]].offset;
    for (size_t k = split.first[i]; k < split.first[i + 1]; ++k) {
      EXPECT_EQ(split.units[k].file, 3u);
      EXPECT_EQ(split.units[k].offset, at) << "consecutive, in order";
      EXPECT_LE(split.units[k].length, 4096u);
      EXPECT_GT(split.units[k].length, 0u);
      at += split.units[k].length;
    }
    EXPECT_EQ(at, w.units[w.first[i + 1] - 1].offset + w.units[w.first[i + 1] - 1].length);
  }
  const WorkList shared =
      SplitUnits(MakeWorkList(MakePlan(3 * 8192, 2, 8192, Strategy::kDynamic)), 4096);
  ASSERT_TRUE(shared.shared());
  EXPECT_EQ(shared.units.size(), 6u);
  EXPECT_EQ(shared.units[1], (WorkUnit{0, 4096, 4096}));
}

}  // namespace
}  // namespace pcopy
