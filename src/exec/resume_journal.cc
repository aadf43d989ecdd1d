#include "exec/resume_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <vector>

namespace pcopy {
namespace {

constexpr char kMagic[8] = {'P', 'C', 'O', 'P', 'Y', 'R', 'J', '1'};
constexpr uint64_t kHeaderBytes = 4096;
constexpr size_t kMaxName = 255;

struct Header {
  char magic[8];
  uint64_t src_dev, src_ino, src_size;
  int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
  uint64_t partial_dev, partial_ino;
  uint64_t block, blocks;
  uint32_t layout, name_length;
  char name[kMaxName + 1];
  uint64_t checksum;  // XXH3-64 of every byte before it
};
static_assert(std::is_trivially_copyable_v<Header> && sizeof(Header) <= kHeaderBytes);

struct SlotHead {
  uint64_t sequence;
  uint64_t ones;
  uint64_t checksum;  // XXH3-64, seeded with the header's, of sequence, ones and the bitmap
  uint64_t reserved;
};

uint64_t SlotBytes(const BlockGrid& grid) {
  const uint64_t raw = sizeof(SlotHead) + (grid.count() + 7) / 8;
  return (raw + 4095) / 4096 * 4096;
}

uint64_t SlotSum(uint64_t seed, const SlotHead& head, const std::vector<uint8_t>& bits) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset_withSeed(state, seed);
  XXH3_64bits_update(state, &head.sequence, sizeof head.sequence);
  XXH3_64bits_update(state, &head.ones, sizeof head.ones);
  XXH3_64bits_update(state, bits.data(), bits.size());
  const uint64_t sum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return sum;
}

// Reads exactly size bytes at offset; false on a short file or an error.
bool ReadAt(const SysCalls& sys, int fd, void* buf, size_t size, uint64_t offset) {
  auto* p = static_cast<char*>(buf);
  for (size_t done = 0; done < size;) {
    const ssize_t n = sys.pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

int WriteAt(const SysCalls& sys, int fd, const void* buf, size_t size, uint64_t offset) {
  const auto* p = static_cast<const char*>(buf);
  for (size_t done = 0; done < size;) {
    const ssize_t n = sys.pwrite(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

bool SameSource(const Header& h, const JournalKey& k) {
  return h.src_dev == k.src_dev && h.src_ino == k.src_ino && h.src_size == k.src_size &&
         h.mtime_sec == k.mtime_sec && h.mtime_nsec == k.mtime_nsec && h.ctime_sec == k.ctime_sec &&
         h.ctime_nsec == k.ctime_nsec;
}

}  // namespace

JournalKey KeyOf(const struct stat& src, const std::string& dest_name, uint32_t layout) {
  JournalKey k;
  k.src_dev = src.st_dev;
  k.src_ino = src.st_ino;
  k.src_size = static_cast<uint64_t>(src.st_size);
  k.mtime_sec = src.st_mtim.tv_sec;
  k.mtime_nsec = src.st_mtim.tv_nsec;
  k.ctime_sec = src.st_ctim.tv_sec;
  k.ctime_nsec = src.st_ctim.tv_nsec;
  k.dest_name = dest_name.substr(0, kMaxName);
  k.layout = layout;
  k.grid = GridFor(k.src_size);
  return k;
}

const char* Describe(JournalVerdict verdict) {
  switch (verdict) {
    case JournalVerdict::kNew:
      return "it has no journal";
    case JournalVerdict::kTrusted:
      return "the journal matches";
    case JournalVerdict::kDamaged:
      return "its journal is damaged";
    case JournalVerdict::kOtherCopy:
      return "its journal is of another copy";
    case JournalVerdict::kSourceChanged:
      return "SOURCE changed since it was made";
    case JournalVerdict::kLayoutChanged:
      return "it was made with another --sparse mode";
  }
  return "?";
}

Status ResumeJournal::Open(const std::string& path, const std::string& display, ResumeJournal* out,
                           Trouble* trouble, const SysCalls& sys) {
  return OpenAt(AT_FDCWD, path, display, out, trouble, sys);
}

Status ResumeJournal::OpenAt(int dir_fd, const std::string& path, const std::string& display,
                             ResumeJournal* out, Trouble* trouble, const SysCalls& sys) {
  *trouble = Trouble::kNone;
  UniqueFd dir(dir_fd == AT_FDCWD ? -1 : fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (dir_fd != AT_FDCWD && !dir.valid()) {
    return Status::FromErrno("cannot create regular file", display, errno);
  }
  // A journal unlinked by a run that finished between our open and our lock is not the lock of
  // anything: open again until the locked file is the one the name leads to.
  for (int attempt = 0; attempt < 8; ++attempt) {
    // Created here (O_EXCL), or opened as an earlier run left it.
    bool created = true;
    UniqueFd fd(
        sys.openat(dir_fd, path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid() && errno == EEXIST) {
      created = false;
      fd = UniqueFd(sys.openat(dir_fd, path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0));
    }
    // Named as cp names a file it could not create: DEST (the journal is pcopy's affair).
    if (!fd.valid()) return Status::FromErrno("cannot create regular file", display, errno);
    if (sys.flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      // A journal made only to find that it cannot be locked is not left behind.
      if (created && err != EWOULDBLOCK) sys.unlinkat(dir_fd, path.c_str(), 0);
      if (err == EWOULDBLOCK) {
        *trouble = Trouble::kBusy;
        return Status::Message("another pcopy is copying to " + Quote(display) +
                               " (it holds the lock of " + Quote(path) + ")");
      }
      if (err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS || err == EINVAL) {
        *trouble = Trouble::kUnsupported;
      }
      return Status::FromErrno("cannot lock the resume journal", path, err);
    }
    struct stat held, named;
    if (sys.fstat(fd.get(), &held) != 0) return Status::FromErrno("cannot stat", path, errno);
    if (sys.fstatat(dir_fd, path.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        IdentityOf(held) != IdentityOf(named)) {
      continue;
    }
    if (!S_ISREG(held.st_mode) || held.st_uid != geteuid()) {
      return Status::Message("cannot use the resume journal " + Quote(path) +
                             ": not a regular file of this user");
    }
    ResumeJournal j;
    j.sys_ = &sys;
    j.fd_ = std::move(fd);
    j.path_ = path;
    j.dir_ = std::move(dir);
    *out = std::move(j);
    return {};
  }
  return Status::FromErrno("cannot lock the resume journal", path, EAGAIN);
}

JournalVerdict ResumeJournal::Load(const JournalKey& expected, FileIdentity* partial,
                                   BlockBitmap* durable) {
  struct stat st;
  if (sys_->fstat(fd_.get(), &st) != 0) return JournalVerdict::kDamaged;
  if (st.st_size == 0) return JournalVerdict::kNew;
  Header h;
  if (!ReadAt(*sys_, fd_.get(), &h, sizeof h, 0) || memcmp(h.magic, kMagic, sizeof kMagic) != 0 ||
      XXH3_64bits(&h, offsetof(Header, checksum)) != h.checksum || h.name_length > kMaxName) {
    return JournalVerdict::kDamaged;
  }
  if (std::string(h.name, h.name_length) != expected.dest_name) return JournalVerdict::kOtherCopy;
  // A SOURCE of another size has another grid: it changed, which says more than "another grid".
  if (!SameSource(h, expected)) return JournalVerdict::kSourceChanged;
  if (h.layout != expected.layout) return JournalVerdict::kLayoutChanged;
  const BlockGrid grid{h.src_size, h.block};
  if (!(grid == expected.grid) || h.blocks != grid.count()) return JournalVerdict::kOtherCopy;
  const uint64_t slot_bytes = SlotBytes(grid);
  if (static_cast<uint64_t>(st.st_size) != kHeaderBytes + 2 * slot_bytes) {
    return JournalVerdict::kDamaged;
  }
  // The newest slot whose checksum holds.
  bool found = false;
  for (uint64_t k = 0; k < 2; ++k) {
    SlotHead head;
    std::vector<uint8_t> bits((grid.count() + 7) / 8);
    const uint64_t at = kHeaderBytes + k * slot_bytes;
    if (!ReadAt(*sys_, fd_.get(), &head, sizeof head, at) ||
        !ReadAt(*sys_, fd_.get(), bits.data(), bits.size(), at + sizeof head) ||
        head.checksum != SlotSum(h.checksum, head, bits) || (found && head.sequence <= sequence_)) {
      continue;
    }
    BlockBitmap map(std::move(bits), grid.count());
    if (map.Ones() != head.ones) continue;
    found = true;
    sequence_ = head.sequence;
    last_ = std::move(map);
  }
  if (!found) return JournalVerdict::kDamaged;
  header_sum_ = h.checksum;
  grid_ = grid;
  *partial = FileIdentity{static_cast<dev_t>(h.partial_dev), static_cast<ino_t>(h.partial_ino)};
  *durable = last_;
  return JournalVerdict::kTrusted;
}

Status ResumeJournal::Reset(const JournalKey& key, const FileIdentity& partial) {
  Header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, kMagic, sizeof kMagic);
  h.src_dev = key.src_dev;
  h.src_ino = key.src_ino;
  h.src_size = key.src_size;
  h.mtime_sec = key.mtime_sec;
  h.mtime_nsec = key.mtime_nsec;
  h.ctime_sec = key.ctime_sec;
  h.ctime_nsec = key.ctime_nsec;
  h.partial_dev = partial.dev;
  h.partial_ino = partial.ino;
  h.block = key.grid.block;
  h.blocks = key.grid.count();
  h.layout = key.layout;
  h.name_length = static_cast<uint32_t>(std::min(key.dest_name.size(), kMaxName));
  memcpy(h.name, key.dest_name.data(), h.name_length);
  h.checksum = XXH3_64bits(&h, offsetof(Header, checksum));
  std::vector<char> page(kHeaderBytes, 0);
  memcpy(page.data(), &h, sizeof h);
  // Both slots zeroed (neither validates) before the header names the new copy.
  if (sys_->ftruncate(fd_.get(), 0) != 0 ||
      sys_->ftruncate(fd_.get(), static_cast<off_t>(kHeaderBytes + 2 * SlotBytes(key.grid))) != 0) {
    return Status::FromErrno("write", path_, errno);
  }
  // Its blocks reserved where the file system can: a full disk then cannot fail a later record.
  (void)sys_->fallocate(fd_.get(), 0, 0,
                        static_cast<off_t>(kHeaderBytes + 2 * SlotBytes(key.grid)));
  if (int err = WriteAt(*sys_, fd_.get(), page.data(), page.size(), 0); err != 0) {
    return Status::FromErrno("write", path_, err);
  }
  header_sum_ = h.checksum;
  grid_ = key.grid;
  sequence_ = 0;
  last_ = BlockBitmap(key.grid.count());
  return WriteSlot(last_);
}

Status ResumeJournal::Record(const BlockBitmap& durable) {
  if (durable == last_) return {};
  ++sequence_;
  return WriteSlot(durable);
}

Status ResumeJournal::WriteSlot(const BlockBitmap& durable) {
  SlotHead head{sequence_, durable.Ones(), 0, 0};
  head.checksum = SlotSum(header_sum_, head, durable.bytes());
  std::vector<char> slot(sizeof head + durable.bytes().size());
  memcpy(slot.data(), &head, sizeof head);
  memcpy(slot.data() + sizeof head, durable.bytes().data(), durable.bytes().size());
  const uint64_t at = kHeaderBytes + (sequence_ % 2) * SlotBytes(grid_);
  if (int err = WriteAt(*sys_, fd_.get(), slot.data(), slot.size(), at); err != 0) {
    return Status::FromErrno("write", path_, err);
  }
  if (sys_->fdatasync(fd_.get()) != 0) return Status::FromErrno("fdatasync", path_, errno);
  last_ = durable;
  return {};
}

void ResumeJournal::Remove() {
  if (!path_.empty()) sys_->unlinkat(dir_.valid() ? dir_.get() : AT_FDCWD, path_.c_str(), 0);
}

}  // namespace pcopy
