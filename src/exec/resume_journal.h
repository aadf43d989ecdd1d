// resume_journal.h: the journal of a resumable copy: which blocks of its partial copy are on
// stable storage, and of which copy they are.
//
// It lives beside the partial copy in DEST's directory (os/leftovers.h names both) and is
// written by the parent only: a header, written once when a copy starts afresh, then two slots
// that take each new record in turn. A record is the bitmap of durable blocks (plan/block_map.h)
// with a sequence number and an XXH3-64 checksum seeded by the header's, so a torn write spoils
// only the slot being written and the other still holds the last record; a slot of another
// journal never validates. Records only grow, and the caller writes one only after the data it
// claims was made durable (exec/checkpoint.h), so after a crash at any instant the journal never
// claims more than the partial copy holds. Anything that does not check out (a short file, a bad
// checksum, another SOURCE or DEST) is not trusted: the copy starts afresh.
//
// The journal is also the lock of its copy: flock(LOCK_EX) is held from Open to the end of the
// process, so two runs of the same copy never write one partial copy.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "os/file_identity.h"
#include "os/sys_calls.h"
#include "plan/block_map.h"

namespace pcopy {

// What a journal must match to be trusted: SOURCE as it was (device, inode, size, mtime and ctime
// to the nanosecond), the DEST it is for, the layout of the bytes, and the grid.
struct JournalKey {
  uint64_t src_dev = 0;
  uint64_t src_ino = 0;
  uint64_t src_size = 0;
  int64_t mtime_sec = 0, mtime_nsec = 0, ctime_sec = 0, ctime_nsec = 0;
  std::string dest_name;  // DEST's last component
  uint32_t layout = 0;    // the --sparse mode, as a number
  BlockGrid grid;
};

JournalKey KeyOf(const struct stat& src, const std::string& dest_name, uint32_t layout);

// Why a journal was not trusted; kTrusted when it was.
enum class JournalVerdict {
  kNew,            // empty: just created
  kTrusted,        // its key matches: *durable holds its last record
  kDamaged,        // short, bad magic or checksum
  kOtherCopy,      // another DEST, or another grid
  kSourceChanged,  // SOURCE is not the file it was, or was modified since
  kLayoutChanged,  // another --sparse mode
};
const char* Describe(JournalVerdict verdict);

class ResumeJournal {
 public:
  ResumeJournal() = default;
  ResumeJournal(ResumeJournal&&) noexcept = default;
  ResumeJournal& operator=(ResumeJournal&&) noexcept = default;

  // Why Open failed, beyond its message.
  enum class Trouble {
    kNone,
    kBusy,         // another process holds the lock: a run of the same copy
    kUnsupported,  // the file system has no flock (ENOLCK, EOPNOTSUPP, ENOSYS, EINVAL)
  };

  // Opens the journal at path, creating it (mode 0600) if missing, and takes its lock. A symbolic
  // link is refused. display is DEST as the user named it, for messages.
  static Status Open(const std::string& path, const std::string& display, ResumeJournal* out,
                     Trouble* trouble, const SysCalls& sys = RealSysCalls());
  // The same, path relative to the directory dir_fd (kept, duplicated, for Remove).
  static Status OpenAt(int dir_fd, const std::string& path, const std::string& display,
                       ResumeJournal* out, Trouble* trouble, const SysCalls& sys = RealSysCalls());

  // Reads the journal against `expected`: on kTrusted, *partial is the partial copy's identity
  // and *durable its last record.
  JournalVerdict Load(const JournalKey& expected, FileIdentity* partial, BlockBitmap* durable);

  // Starts afresh for key and the partial copy `partial`: the header and an empty record, made
  // durable.
  Status Reset(const JournalKey& key, const FileIdentity& partial);

  // Records durable (every block of the last record, and more) in the older slot, and makes it
  // durable. Nothing is written if nothing was added.
  Status Record(const BlockBitmap& durable);

  // Removes the journal's name (the lock is held until the process ends or the object goes).
  void Remove();

  const std::string& path() const { return path_; }

 private:
  Status WriteSlot(const BlockBitmap& durable);

  const SysCalls* sys_ = &RealSysCalls();
  UniqueFd fd_;
  UniqueFd dir_;  // OpenAt's directory; AT_FDCWD when not valid
  std::string path_;
  uint64_t header_sum_ = 0;
  uint64_t sequence_ = 0;  // of the last record written or read
  BlockGrid grid_;
  BlockBitmap last_;
};

}  // namespace pcopy
