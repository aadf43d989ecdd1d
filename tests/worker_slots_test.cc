#include "exec/worker_slots.h"

#include <dirent.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "copy/io.h"
#include "os/child_process.h"
#include "test_util.h"

namespace pcopy {
namespace {

std::set<std::string> ShmNames() {
  std::set<std::string> names;
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d)) names.insert(e->d_name);
    closedir(d);
  }
  return names;
}

// The /proc/self/maps line of the mapping that holds address, or "" if none does.
std::string MappingOf(const void* address) {
  const auto a = reinterpret_cast<uintptr_t>(address);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    uintptr_t start = 0, end = 0;
    char dash = 0;
    in >> std::hex >> start >> dash >> end;
    if (a >= start && a < end) return line;
  }
  return "";
}

uint32_t StateOf(const WorkerSlot& slot) { return slot.state.load(std::memory_order_acquire); }

TEST(WorkerSlotsTest, CreateGivesZeroedSlots) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(5, 0, &slots));
  ASSERT_EQ(slots.size(), 5u);
  for (size_t i = 0; i < slots.size(); ++i) {
    EXPECT_EQ(slots[i].bytes_done.load(), 0u);
    EXPECT_EQ(StateOf(slots[i]), static_cast<uint32_t>(WorkerState::kStarting));
    EXPECT_EQ(slots[i].used_methods.load(), 0u);
    EXPECT_EQ(slots[i].fallback_errno.load(), -1);
    EXPECT_EQ(slots[i].error_op.load(), static_cast<uint32_t>(IoOp::kNone));
    EXPECT_EQ(slots[i].error_errno.load(), 0);
    EXPECT_EQ(slots[i].error_has_offset.load(), 0u);
  }
}

TEST(WorkerSlotsTest, SlotsAreOneCacheLineApart) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(4, 0, &slots));
  for (size_t i = 0; i < slots.size(); ++i) {
    const auto addr = reinterpret_cast<uintptr_t>(&slots[i]);
    EXPECT_EQ(addr % 64, 0u) << i;
    if (i > 0) {
      EXPECT_EQ(addr - reinterpret_cast<uintptr_t>(&slots[i - 1]), sizeof(WorkerSlot)) << i;
    }
  }
}

TEST(WorkerSlotsTest, SharedAnonymousMappingNothingInDevShm) {
  const std::set<std::string> before = ShmNames();
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(8, 0, &slots));
  const std::string line = MappingOf(&slots[0]);
  ASSERT_FALSE(line.empty());
  // Flags are the 2nd field: "rw-s" is a shared mapping, the only kind a child's writes reach.
  std::istringstream fields(line);
  std::string range, perms;
  fields >> range >> perms;
  EXPECT_EQ(perms, "rw-s") << line;
  EXPECT_EQ(line.find("/dev/shm"), std::string::npos) << line;
  for (const std::string& name : ShmNames()) {
    EXPECT_TRUE(before.count(name) > 0) << "new in /dev/shm: " << name;
  }
}

TEST(WorkerSlotsTest, MovedSlotsStayValid) {
  WorkerSlots a;
  ASSERT_OK(WorkerSlots::Create(2, 0, &a));
  a[1].bytes_done.store(99);
  WorkerSlots b = std::move(a);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].bytes_done.load(), 99u);
}

// ---------------------------------------------------------------------------------------------
// A child writes into its slot; the parent reads it after the child is reaped.

struct ChildTask {
  WorkerSlot* slot;
  uint64_t bytes;
  int kind;  // 0: succeed; 1: write ENOSPC; 2: read EIO; 3: source ended; 4: copy_file_range
};

int ChildBody(void* context) noexcept {
  const auto* task = static_cast<const ChildTask*>(context);
  WorkerSlot* slot = task->slot;
  slot->state.store(static_cast<uint32_t>(WorkerState::kRunning), std::memory_order_relaxed);
  slot->bytes_done.store(task->bytes, std::memory_order_relaxed);
  switch (task->kind) {
    case 0:
      slot->used_methods.store(MethodBit(Method::kCopyFileRange) | MethodBit(Method::kPread),
                               std::memory_order_relaxed);
      slot->fallback_errno.store(EXDEV, std::memory_order_relaxed);
      slot->state.store(static_cast<uint32_t>(WorkerState::kDone), std::memory_order_release);
      return 0;
    case 1:
      RecordFailure(slot, IoError::At(IoOp::kWrite, IoFile::kDest, ENOSPC, 4194304));
      return 3;
    case 2:
      RecordFailure(slot, IoError::At(IoOp::kRead, IoFile::kSource, EIO, 65536));
      return 3;
    case 3:
      RecordFailure(slot, SourceChanged(10000));
      return 3;
    default:
      RecordFailure(slot, IoError::At(IoOp::kCopyFileRange, IoFile::kSource, EXDEV, 0));
      return 3;
  }
}

TEST(WorkerSlotsTest, ForkedChildrenReportThroughTheirSlots) {
  constexpr size_t kWorkers = 5;
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(kWorkers, 0, &slots));
  ChildTask tasks[kWorkers];
  ChildProcess children[kWorkers];
  for (size_t i = 0; i < kWorkers; ++i) {
    tasks[i] = ChildTask{&slots[i], 1000 * (i + 1) + 7, static_cast<int>(i)};
    ASSERT_OK(ChildProcess::Spawn(&ChildBody, &tasks[i], 0, "slot-test", &children[i]));
  }
  for (ChildProcess& c : children) c.Wait();

  EXPECT_TRUE(children[0].succeeded()) << children[0].DescribeExit();
  for (size_t i = 1; i < kWorkers; ++i) {
    EXPECT_EQ(children[i].DescribeExit(), "exited with status 3") << i;
  }
  for (size_t i = 0; i < kWorkers; ++i) {
    EXPECT_EQ(slots[i].bytes_done.load(), 1000 * (i + 1) + 7) << i;
  }
  EXPECT_EQ(StateOf(slots[0]), static_cast<uint32_t>(WorkerState::kDone));
  EXPECT_EQ(slots[0].used_methods.load(),
            MethodBit(Method::kCopyFileRange) | MethodBit(Method::kPread));
  EXPECT_EQ(slots[0].fallback_errno.load(), EXDEV);
  for (size_t i = 1; i < kWorkers; ++i) {
    EXPECT_EQ(StateOf(slots[i]), static_cast<uint32_t>(WorkerState::kFailed)) << i;
  }

  const std::string src = "src.img", dst = "dst.img";
  EXPECT_EQ(ToStatus(SlotError(slots[1]), src, dst).ToString(),
            "write 'dst.img' at offset 4194304: No space left on device");
  EXPECT_EQ(ToStatus(SlotError(slots[1]), src, dst).err(), ENOSPC);
  EXPECT_EQ(ToStatus(SlotError(slots[2]), src, dst).ToString(),
            "read 'src.img' at offset 65536: Input/output error");
  EXPECT_EQ(ToStatus(SlotError(slots[3]), src, dst).ToString(),
            ToStatus(SourceChanged(10000), src, dst).ToString());
  EXPECT_EQ(ToStatus(SlotError(slots[4]), src, dst).ToString(),
            "copy_file_range 'src.img' to 'dst.img' at offset 0: Invalid cross-device link");
}

TEST(WorkerSlotsTest, RecordFailureWithoutOffset) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(1, 0, &slots));
  RecordFailure(&slots[0], IoError::NoOffset(IoOp::kWrite, IoFile::kDest, EIO));
  EXPECT_EQ(StateOf(slots[0]), static_cast<uint32_t>(WorkerState::kFailed));
  EXPECT_EQ(ToStatus(SlotError(slots[0]), "s", "d").ToString(), "write 'd': Input/output error");
}

TEST(WorkerSlotsTest, SetupFailureKeepsItsErrno) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(1, 0, &slots));
  RecordFailure(&slots[0], IoError::NoOffset(IoOp::kAllocate, IoFile::kDest, ENOMEM));
  const Status s = ToStatus(SlotError(slots[0]), "s", "d");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.err(), ENOMEM);
  EXPECT_EQ(s.ToString().find('\n'), std::string::npos);
}

TEST(WorkerSlotsTest, SlotErrorQuotesPaths) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(1, 0, &slots));
  RecordFailure(&slots[0], IoError::At(IoOp::kWrite, IoFile::kDest, ENOSPC, 1));
  EXPECT_EQ(ToStatus(SlotError(slots[0]), "s", "a\nb").ToString(),
            "write 'a\\nb' at offset 1: No space left on device");
}

// ---------------------------------------------------------------------------------------------
// The header's next_unit cursor: one fetch_add hands out one unit index, across processes.

TEST(WorkerSlotsTest, HeaderIsSeparateAndStartsAtZero) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(3, 0, &slots));
  EXPECT_EQ(slots.header().next_unit.load(), 0u);
  const auto header = reinterpret_cast<uintptr_t>(&slots.header());
  const auto first = reinterpret_cast<uintptr_t>(&slots[0]);
  EXPECT_EQ(header % 64, 0u);
  EXPECT_GE(first, header + sizeof(SharedHeader)) << "the header overlaps slot 0";
  EXPECT_EQ(MappingOf(&slots.header()), MappingOf(&slots[0]));
  slots[0].bytes_done.store(~0ull);
  slots[0].unit_offset.store(~0ull);
  EXPECT_EQ(slots.header().next_unit.load(), 0u);
  slots.header().next_unit.store(5);
  EXPECT_EQ(slots[0].bytes_done.load(), ~0ull);
}

// Shared by the parent and its children (an anonymous shared mapping of its own), so each
// index's taker is seen by all.
struct CursorShared {
  std::atomic<uint32_t> ready{0};
  std::atomic<uint32_t> go{0};
  std::atomic<uint32_t>* owner = nullptr;  // kCursorTotal entries: 0 untaken, else child + 1
};

constexpr size_t kCursorChildren = 6;
constexpr uint64_t kCursorTakesPerChild = 50000;
constexpr uint64_t kCursorTotal = kCursorChildren * kCursorTakesPerChild;

struct CursorTask {
  WorkerSlots* slots;
  CursorShared* shared;
  uint32_t id;
};

// Takes kCursorTakesPerChild indices with fetch_add, as UnitSource does, and marks each as its
// own. Records in its slot how many it took (bytes_done), their sum (unit_offset) and how many
// some other child had already marked (error_offset).
int CursorBody(void* context) noexcept {
  const auto* task = static_cast<const CursorTask*>(context);
  WorkerSlot& slot = (*task->slots)[task->id];
  std::atomic<uint64_t>& cursor = task->slots->header().next_unit;
  CursorShared& shared = *task->shared;
  shared.ready.fetch_add(1);
  while (shared.go.load(std::memory_order_acquire) == 0) sched_yield();
  uint64_t taken = 0, sum = 0, duplicates = 0;
  for (uint64_t i = 0; i < kCursorTakesPerChild; ++i) {
    const uint64_t k = cursor.fetch_add(1, std::memory_order_relaxed);
    if (k >= kCursorTotal) {  // more handed out than taken in all: the cursor is not shared
      ++duplicates;
      continue;
    }
    ++taken;
    sum += k;
    if (shared.owner[k].exchange(task->id + 1, std::memory_order_relaxed) != 0) ++duplicates;
    if (i % 1024 == 0) sched_yield();  // interleave the children even on few CPUs
  }
  slot.bytes_done.store(taken, std::memory_order_relaxed);
  slot.unit_offset.store(sum, std::memory_order_relaxed);
  slot.error_offset.store(duplicates, std::memory_order_relaxed);
  slot.state.store(static_cast<uint32_t>(WorkerState::kDone), std::memory_order_release);
  return 0;
}

TEST(WorkerSlotsTest, NextUnitCursorIsSharedByForkedChildren) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(kCursorChildren, 0, &slots));
  const size_t bytes = 64 + kCursorTotal * sizeof(std::atomic<uint32_t>);
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto* shared = new (map) CursorShared;
  shared->owner = new (static_cast<char*>(map) + 64) std::atomic<uint32_t>[kCursorTotal]();

  CursorTask tasks[kCursorChildren];
  ChildProcess children[kCursorChildren];
  for (size_t i = 0; i < kCursorChildren; ++i) {
    tasks[i] = CursorTask{&slots, shared, static_cast<uint32_t>(i)};
    ASSERT_OK(ChildProcess::Spawn(&CursorBody, &tasks[i], 0, "cursor-test", &children[i]));
  }
  // All start together, to contend for the cursor.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (shared->ready.load() < kCursorChildren && std::chrono::steady_clock::now() < deadline) {
    sched_yield();
  }
  EXPECT_EQ(shared->ready.load(), kCursorChildren);
  shared->go.store(1, std::memory_order_release);
  for (ChildProcess& c : children) c.Wait();

  uint64_t total = 0, sum = 0;
  for (size_t i = 0; i < kCursorChildren; ++i) {
    EXPECT_TRUE(children[i].succeeded()) << children[i].DescribeExit();
    EXPECT_EQ(StateOf(slots[i]), static_cast<uint32_t>(WorkerState::kDone)) << i;
    EXPECT_EQ(slots[i].error_offset.load(), 0u) << "child " << i << " took indices twice given";
    EXPECT_EQ(slots[i].bytes_done.load(), kCursorTakesPerChild) << i;
    total += slots[i].bytes_done.load();
    sum += slots[i].unit_offset.load();
  }
  // The parent sees every fetch_add of every child.
  EXPECT_EQ(slots.header().next_unit.load(), kCursorTotal);
  // Every index taken exactly once: the counts add up, and each index was marked by the one
  // child that counted it.
  EXPECT_EQ(total, kCursorTotal);
  EXPECT_EQ(sum, kCursorTotal * (kCursorTotal - 1) / 2);
  std::vector<uint64_t> per_child(kCursorChildren, 0);
  uint64_t untaken = 0;
  for (uint64_t k = 0; k < kCursorTotal; ++k) {
    const uint32_t o = shared->owner[k].load();
    if (o == 0 || o > kCursorChildren) {
      ++untaken;
    } else {
      ++per_child[o - 1];
    }
  }
  EXPECT_EQ(untaken, 0u);
  for (size_t i = 0; i < kCursorChildren; ++i) {
    EXPECT_EQ(per_child[i], kCursorTakesPerChild) << i;
  }
  munmap(map, bytes);
}

}  // namespace
}  // namespace pcopy
