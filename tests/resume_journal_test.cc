// resume_journal_test.cc: the journal of a resumable copy (exec/resume_journal.h) and the
// checkpoint that writes it (exec/checkpoint.h): what is trusted, what is not, the lock, and the
// order that makes a record safe after a crash (the data's fdatasync before the record's write).
#include "exec/resume_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "exec/checkpoint.h"
#include "exec/worker_slots.h"
#include "test_util.h"

namespace pcopy {
namespace {

using test::TempDir;

constexpr uint64_t kMiB = 1ull << 20;

struct stat FakeSource(uint64_t size) {
  struct stat st {};
  st.st_dev = 42;
  st.st_ino = 4242;
  st.st_size = static_cast<off_t>(size);
  st.st_mtim = {1700000000, 123456789};
  st.st_ctim = {1700000001, 987654321};
  return st;
}

BlockBitmap Blocks(uint64_t count, std::initializer_list<uint64_t> set) {
  BlockBitmap b(count);
  for (uint64_t i : set) b.Set(i);
  return b;
}

class ResumeJournalTest : public testing::Test {
 protected:
  std::string path() const { return dir_ / "j.journal"; }
  ResumeJournal OpenOrFail() {
    ResumeJournal j;
    ResumeJournal::Trouble trouble = ResumeJournal::Trouble::kBusy;
    EXPECT_OK(ResumeJournal::Open(path(), "dst", &j, &trouble));
    EXPECT_EQ(trouble, ResumeJournal::Trouble::kNone);
    return j;
  }
  // A journal for key, with records of each bitmap in turn; closed (unlocked) on return.
  void Write(const JournalKey& key, const std::vector<BlockBitmap>& records) {
    ResumeJournal j = OpenOrFail();
    ASSERT_OK(j.Reset(key, partial_));
    for (const BlockBitmap& b : records) ASSERT_OK(j.Record(b));
  }
  JournalVerdict Load(const JournalKey& key, BlockBitmap* durable) {
    ResumeJournal j = OpenOrFail();
    FileIdentity partial;
    const JournalVerdict v = j.Load(key, &partial, durable);
    if (v == JournalVerdict::kTrusted) {
      EXPECT_EQ(partial, partial_);
    }
    return v;
  }
  void Patch(uint64_t offset, const std::string& bytes) {
    const int fd = open(path().c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(bytes.size()));
    close(fd);
  }

  TempDir dir_;
  FileIdentity partial_{7, 77};
  JournalKey key_ = KeyOf(FakeSource(10 * kMiB + 1), "dst.img", 0);
};

TEST_F(ResumeJournalTest, ANewJournalIsEmptyAndItsRecordsReadBack) {
  {
    ResumeJournal j = OpenOrFail();
    BlockBitmap none;
    FileIdentity partial;
    EXPECT_EQ(j.Load(key_, &partial, &none), JournalVerdict::kNew);
  }
  Write(key_, {Blocks(11, {0, 3}), Blocks(11, {0, 3, 4, 10})});
  BlockBitmap durable;
  ASSERT_EQ(Load(key_, &durable), JournalVerdict::kTrusted);
  EXPECT_EQ(durable, Blocks(11, {0, 3, 4, 10}));
  // The journal stays small: a header page and two slots of a page each for 11 blocks.
  struct stat st;
  ASSERT_EQ(stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 3 * 4096);
}

// A torn write spoils only the slot being written: the other holds the record before it.
TEST_F(ResumeJournalTest, ATornNewestRecordFallsBackToTheOneBefore) {
  Write(key_, {Blocks(11, {1}), Blocks(11, {1, 2})});  // sequence 1 in slot 1, 2 in slot 0
  Patch(4096 + 32, "\xff\xff");                        // slot 0's bitmap
  BlockBitmap durable;
  ASSERT_EQ(Load(key_, &durable), JournalVerdict::kTrusted);
  EXPECT_EQ(durable, Blocks(11, {1}));
}

TEST_F(ResumeJournalTest, DamageIsNeverTrusted) {
  Write(key_, {Blocks(11, {1}), Blocks(11, {1, 2})});
  BlockBitmap durable;
  Patch(4096 + 32, "\xff");
  Patch(2 * 4096 + 32, "\xff");  // both slots' bitmaps
  EXPECT_EQ(Load(key_, &durable), JournalVerdict::kDamaged);

  Write(key_, {Blocks(11, {1})});
  Patch(20, "x");  // the header
  EXPECT_EQ(Load(key_, &durable), JournalVerdict::kDamaged);

  Write(key_, {Blocks(11, {1})});
  ASSERT_EQ(truncate(path().c_str(), 100), 0);
  EXPECT_EQ(Load(key_, &durable), JournalVerdict::kDamaged);

  Write(key_, {Blocks(11, {1})});
  ASSERT_EQ(truncate(path().c_str(), 2 * 4096), 0);  // the second slot cut off
  EXPECT_EQ(Load(key_, &durable), JournalVerdict::kDamaged);
}

TEST_F(ResumeJournalTest, AnotherCopyOrAChangedSourceIsNotTrusted) {
  Write(key_, {Blocks(11, {1})});
  BlockBitmap durable;
  EXPECT_EQ(Load(KeyOf(FakeSource(10 * kMiB + 1), "other.img", 0), &durable),
            JournalVerdict::kOtherCopy);
  EXPECT_EQ(Load(KeyOf(FakeSource(12 * kMiB), "dst.img", 0), &durable),
            JournalVerdict::kSourceChanged);  // another size
  struct stat touched = FakeSource(10 * kMiB + 1);
  touched.st_mtim.tv_nsec += 1;
  EXPECT_EQ(Load(KeyOf(touched, "dst.img", 0), &durable), JournalVerdict::kSourceChanged);
  struct stat chmodded = FakeSource(10 * kMiB + 1);
  chmodded.st_ctim.tv_sec += 1;
  EXPECT_EQ(Load(KeyOf(chmodded, "dst.img", 0), &durable), JournalVerdict::kSourceChanged);
  struct stat replaced = FakeSource(10 * kMiB + 1);
  replaced.st_ino += 1;
  EXPECT_EQ(Load(KeyOf(replaced, "dst.img", 0), &durable), JournalVerdict::kSourceChanged);
  EXPECT_EQ(Load(KeyOf(FakeSource(10 * kMiB + 1), "dst.img", 1), &durable),
            JournalVerdict::kLayoutChanged);
  EXPECT_EQ(Load(key_, &durable), JournalVerdict::kTrusted);
}

// A slot copied from another journal of the same shape does not validate: its checksum is
// seeded with its own header's.
TEST_F(ResumeJournalTest, ASlotOfAnotherJournalDoesNotValidate) {
  Write(KeyOf(FakeSource(10 * kMiB + 1), "a.img", 0), {Blocks(11, {5})});
  const std::string a = test::ReadFile(path());
  Write(key_, {});
  Patch(4096, a.substr(4096));  // both of a's slots into this journal
  BlockBitmap durable;
  EXPECT_EQ(Load(key_, &durable), JournalVerdict::kDamaged);
}

TEST_F(ResumeJournalTest, TheJournalIsTheLockOfItsCopy) {
  ResumeJournal held = OpenOrFail();
  const test::ChildReport r = test::InChild([&] {
    ResumeJournal j;
    ResumeJournal::Trouble trouble = ResumeJournal::Trouble::kNone;
    const Status s = ResumeJournal::Open(path(), "dst.img", &j, &trouble);
    return std::string(trouble == ResumeJournal::Trouble::kBusy ? "busy: " : "not busy: ") +
           s.ToString();
  });
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.said,
            "busy: another pcopy is copying to 'dst.img' (it holds the lock of '" + path() + "')");
}

TEST_F(ResumeJournalTest, ASymbolicLinkIsRefused) {
  ASSERT_EQ(symlink((dir_ / "elsewhere").c_str(), path().c_str()), 0);
  ResumeJournal j;
  ResumeJournal::Trouble trouble;
  EXPECT_EQ(ResumeJournal::Open(path(), "dst", &j, &trouble).ToString(),
            "cannot create regular file 'dst': Too many levels of symbolic links");
  EXPECT_FALSE(test::Exists(dir_ / "elsewhere"));
}

// A file system without flock: the caller learns it, to copy without resuming.
TEST_F(ResumeJournalTest, AFileSystemWithoutLocksIsSaidSo) {
  const test::NoFlockSysCalls no_locks;
  ResumeJournal j;
  ResumeJournal::Trouble trouble;
  EXPECT_FALSE(ResumeJournal::Open(path(), "dst", &j, &trouble, no_locks).ok());
  EXPECT_EQ(trouble, ResumeJournal::Trouble::kUnsupported);
  EXPECT_FALSE(test::Exists(path())) << "the journal it made is left behind";
  // One an earlier run left is not removed for that.
  test::WriteFile(path(), "earlier");
  EXPECT_FALSE(ResumeJournal::Open(path(), "dst", &j, &trouble, no_locks).ok());
  EXPECT_EQ(test::ReadFile(path()), "earlier");
}

// Records the order of the checkpoint's calls: "sync N" for fdatasync, "write N" for pwrite.
class OrderedCalls final : public SysCalls {
 public:
  int fdatasync(int fd) const override {
    calls.push_back("sync " + Name(fd));
    if (fd == data_fd && fail_sync != 0) {
      errno = fail_sync;
      return -1;
    }
    return SysCalls::fdatasync(fd);
  }
  ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) const override {
    calls.push_back("write " + Name(fd));
    return SysCalls::pwrite(fd, buf, count, offset);
  }
  std::string Name(int fd) const { return fd == data_fd ? "data" : "journal"; }

  int data_fd = -1;
  int fail_sync = 0;
  mutable std::vector<std::string> calls;
};

class CheckpointTest : public ResumeJournalTest {
 protected:
  void SetUp() override {
    data_ = open((dir_ / "data").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(data_, 0);
    sys_.data_fd = data_;
    ResumeJournal::Trouble trouble;
    ASSERT_OK(ResumeJournal::Open(path(), "dst", &journal_, &trouble, sys_));
    ASSERT_OK(journal_.Reset(key_, partial_));
    // Four units of 2 MiB and a last of 2 MiB + 1 over the 11 blocks of key_'s grid.
    for (uint64_t k = 0; k < 5; ++k) {
      work_.units.push_back(WorkUnit{0, k * 2 * kMiB, k == 4 ? 2 * kMiB + 1 : 2 * kMiB});
    }
    work_.workers = 1;
    ASSERT_OK(WorkerSlots::Create(1, work_.units.size(), &slots_));
    sys_.calls.clear();
  }
  void TearDown() override { close(data_); }

  int data_ = -1;
  OrderedCalls sys_;
  ResumeJournal journal_;
  WorkList work_;
  WorkerSlots slots_;
};

// The bytes a record claims were made durable before the record was written: fdatasync of the
// data, then the journal's write and its own fdatasync.
TEST_F(CheckpointTest, TheDataIsSyncedBeforeTheRecordIsWritten) {
  JournalCheckpoint checkpoint(sys_, data_, "dst", &journal_, key_.grid, BlockBitmap(11));
  slots_.ledger().Wrote(0, 2 * kMiB);      // blocks 0 and 1
  slots_.ledger().Wrote(1, kMiB + 4096);   // block 2, and a little of 3
  slots_.ledger().Wrote(4, 2 * kMiB + 1);  // blocks 8, 9 and 10
  ASSERT_OK(checkpoint.Record(work_, slots_.ledger(), true));
  EXPECT_EQ(sys_.calls, (std::vector<std::string>{"sync data", "write journal", "sync journal"}));
  EXPECT_EQ(checkpoint.durable(), Blocks(11, {0, 1, 2, 8, 9, 10}));
  // Nothing new: no sync, no record.
  sys_.calls.clear();
  ASSERT_OK(checkpoint.Record(work_, slots_.ledger(), true));
  EXPECT_TRUE(sys_.calls.empty());
  // Between intervals nothing is done, even with new bytes.
  slots_.ledger().Wrote(1, 2 * kMiB);
  ASSERT_OK(checkpoint.Record(work_, slots_.ledger(), false));
  EXPECT_TRUE(sys_.calls.empty());
  ASSERT_OK(checkpoint.Record(work_, slots_.ledger(), true));
  EXPECT_EQ(checkpoint.durable(), Blocks(11, {0, 1, 2, 3, 8, 9, 10}));
  journal_ = ResumeJournal();  // unlocked, so the load below can take the lock
  BlockBitmap durable;
  ASSERT_EQ(Load(key_, &durable), JournalVerdict::kTrusted);
  EXPECT_EQ(durable, Blocks(11, {0, 1, 2, 3, 8, 9, 10}));
}

// A failed fdatasync of the data records nothing: the journal never claims what may be lost.
TEST_F(CheckpointTest, AFailedSyncRecordsNothing) {
  JournalCheckpoint checkpoint(sys_, data_, "dst", &journal_, key_.grid, Blocks(11, {5}));
  sys_.fail_sync = EIO;
  slots_.ledger().Wrote(0, 2 * kMiB);
  const Status s = checkpoint.Record(work_, slots_.ledger(), true);
  EXPECT_EQ(s.ToString(), "fdatasync 'dst': Input/output error");
  EXPECT_EQ(sys_.calls, std::vector<std::string>{"sync data"});
  EXPECT_EQ(checkpoint.durable(), Blocks(11, {5}));
}

}  // namespace
}  // namespace pcopy
