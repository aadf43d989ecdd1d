#include "worker_slots.h"

#include <dirent.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "child_process.h"
#include "io.h"
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
  ASSERT_OK(WorkerSlots::Create(5, &slots));
  ASSERT_EQ(slots.size(), 5u);
  for (size_t i = 0; i < slots.size(); ++i) {
    EXPECT_EQ(slots[i].bytes_done.load(), 0u);
    EXPECT_EQ(StateOf(slots[i]), static_cast<uint32_t>(WorkerState::kStarting));
    EXPECT_EQ(slots[i].used_methods.load(), 0u);
    EXPECT_EQ(slots[i].fallback_errno.load(), -1);
    EXPECT_EQ(slots[i].error_op.load(), static_cast<uint32_t>(SlotOp::kNone));
    EXPECT_EQ(slots[i].error_errno.load(), 0);
    EXPECT_EQ(slots[i].error_has_offset.load(), 0u);
  }
}

TEST(WorkerSlotsTest, SlotsAreOneCacheLineApart) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(4, &slots));
  for (size_t i = 0; i < slots.size(); ++i) {
    const auto addr = reinterpret_cast<uintptr_t>(&slots[i]);
    EXPECT_EQ(addr % 64, 0u) << i;
    if (i > 0) {
      EXPECT_EQ(addr - reinterpret_cast<uintptr_t>(&slots[i - 1]), 64u) << i;
    }
  }
}

TEST(WorkerSlotsTest, SharedAnonymousMappingNothingInDevShm) {
  const std::set<std::string> before = ShmNames();
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(8, &slots));
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
  ASSERT_OK(WorkerSlots::Create(2, &a));
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
      slot->used_methods.store(MethodBit(Method::kCopyFileRange) | MethodBit(Method::kPread), std::memory_order_relaxed);
      slot->fallback_errno.store(EXDEV, std::memory_order_relaxed);
      slot->state.store(static_cast<uint32_t>(WorkerState::kDone), std::memory_order_release);
      return 0;
    case 1:
      RecordFailure(slot, Status::FromErrno("write", "child-dst", ENOSPC, 4194304));
      return 3;
    case 2:
      RecordFailure(slot, Status::FromErrno("read", "child-src", EIO, 65536));
      return 3;
    case 3:
      RecordFailure(slot, SourceChanged("child-src", 10000));
      return 3;
    default:
      RecordFailure(
          slot,
          Status::FromErrno("copy_file_range", "child-src", EXDEV, 0).WithSecondPath("child-dst"));
      return 3;
  }
}

TEST(WorkerSlotsTest, ForkedChildrenReportThroughTheirSlots) {
  constexpr size_t kWorkers = 5;
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(kWorkers, &slots));
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
  EXPECT_EQ(slots[0].used_methods.load(), MethodBit(Method::kCopyFileRange) | MethodBit(Method::kPread));
  EXPECT_EQ(slots[0].fallback_errno.load(), EXDEV);
  for (size_t i = 1; i < kWorkers; ++i) {
    EXPECT_EQ(StateOf(slots[i]), static_cast<uint32_t>(WorkerState::kFailed)) << i;
  }

  const std::string src = "src.img", dst = "dst.img";
  EXPECT_EQ(SlotError(slots[1], src, dst).ToString(),
            "write 'dst.img' at offset 4194304: No space left on device");
  EXPECT_EQ(SlotError(slots[1], src, dst).err(), ENOSPC);
  EXPECT_EQ(SlotError(slots[2], src, dst).ToString(),
            "read 'src.img' at offset 65536: Input/output error");
  EXPECT_EQ(SlotError(slots[3], src, dst).ToString(), SourceChanged("src.img", 10000).ToString());
  EXPECT_EQ(SlotError(slots[4], src, dst).ToString(),
            "copy_file_range 'src.img' to 'dst.img' at offset 0: Invalid cross-device link");
}

TEST(WorkerSlotsTest, RecordFailureWithoutOffset) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(1, &slots));
  RecordFailure(&slots[0], Status::FromErrno("write", "x", EIO));
  EXPECT_EQ(StateOf(slots[0]), static_cast<uint32_t>(WorkerState::kFailed));
  EXPECT_EQ(SlotError(slots[0], "s", "d").ToString(), "write 'd': Input/output error");
}

TEST(WorkerSlotsTest, SetupFailureKeepsItsErrno) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(1, &slots));
  RecordFailure(&slots[0], Status::FromErrno("allocate", "copy buffer", ENOMEM));
  const Status s = SlotError(slots[0], "s", "d");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.err(), ENOMEM);
  EXPECT_EQ(s.ToString().find('\n'), std::string::npos);
}

TEST(WorkerSlotsTest, SlotErrorQuotesPaths) {
  WorkerSlots slots;
  ASSERT_OK(WorkerSlots::Create(1, &slots));
  RecordFailure(&slots[0], Status::FromErrno("write", "ignored", ENOSPC, 1));
  EXPECT_EQ(SlotError(slots[0], "s", "a\nb").ToString(),
            "write 'a\\nb' at offset 1: No space left on device");
}

}  // namespace
}  // namespace pcopy
