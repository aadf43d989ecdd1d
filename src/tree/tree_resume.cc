// The --resume half of TreeRun (tree_run.h). A new tree copied with --resume is built under a
// name of its own (leftovers.h PartialNamesFor: ".pcopy-partial-<hex>.tree" beside DEST), locked
// with flock for the run and kept when the run is interrupted. The rerun locks it again and walks
// SOURCE into it as a new run would, except that:
//   - a regular file already there counts as copied when it passes the worker's check
//     (exec/entry_copy.h AlreadyCopied: size and mtime where timestamps are preserved, its bytes
//     otherwise), so only the others are written;
//   - a large file split into chunks has a journal beside it (exec/resume_journal.h): the chunks
//     answered are recorded once an fdatasync made them durable, and the rerun copies only the
//     blocks not recorded;
//   - what SOURCE no longer has is removed from each directory when it completes, so the
//     published tree holds SOURCE alone whatever earlier runs left.
// --resume implies --fsync: a file is durable before it appears under its name, so a file that
// passes the check after a power cut holds its data. Runs in the parent only.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec/checkpoint.h"
#include "exec/entry_copy.h"
#include "os/leftovers.h"
#include "os/remove_tree.h"
#include "os/temp_file.h"
#include "tree/tree_run.h"

namespace pcopy {
namespace {

int Dup(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

}  // namespace

// --resume: the new tree is built under the kept tree's name (leftovers.h), which an earlier,
// interrupted run of the same copy may have left (*existed), and locked for this run.
bool TreeRun::OpenKeptTree(size_t r, UniqueFd* dst, bool* existed) {
  RootState& root = roots_[r];
  const std::string name = PartialNamesFor(root.name).tree;
  const std::string shown = JoinDisplay(DirName(root.source.dst), name);
  *existed = sys_.mkdirat(root.parent_dir.get(), name.c_str(), 0700) != 0;
  if (*existed && errno != EEXIST) {
    ReportError(Status::FromErrno("cannot create directory", root.source.dst, errno).ToString());
    return false;
  }
  UniqueFd fd(sys_.openat(root.parent_dir.get(), name.c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0));
  struct stat st;
  Status s;
  if (!fd.valid() || sys_.fstat(fd.get(), &st) != 0) {
    s = Status::FromErrno("cannot open directory", shown, errno);
  } else if (st.st_uid != geteuid()) {
    s = Status::Failure("cannot resume into", shown, "it belongs to another user");
  } else if (sys_.flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    s = errno == EWOULDBLOCK
            ? Status::Failure("cannot copy to", root.source.dst, "another pcopy is copying to it")
            : Status::FromErrno("cannot lock", shown, errno);
  } else if (*existed && (sys_.fchmod(fd.get(), 0700) != 0 || sys_.futimens(fd.get(), nullptr))) {
    // Writable again (a finished directory has its final mode), and young: leftovers.h ages it.
    s = Status::FromErrno("cannot resume into", shown, errno);
  }
  if (!s.ok()) {
    // One made here and never used goes (a file system without flock would keep one per try).
    if (!*existed) sys_.unlinkat(root.parent_dir.get(), name.c_str(), AT_REMOVEDIR);
    ReportError(s.ToString());
    return false;
  }
  root.lock = UniqueFd(Dup(fd.get()));
  root.hidden = name;
  root.kept = true;
  *dst = std::move(fd);
  return true;
}

// A copy that does not resume removes the tree an earlier run of it kept, unless a running pcopy
// holds it.
void TreeRun::DiscardKeptTree(size_t r) {
  RootState& root = roots_[r];
  const std::string name = PartialNamesFor(root.name).tree;
  UniqueFd fd(sys_.openat(root.parent_dir.get(), name.c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0));
  if (!fd.valid() || sys_.flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return;
  if (RemoveTree(sys_, root.parent_dir.get(), name, JoinDisplay(DirName(root.source.dst), name))
          .ok()) {
    if (!o_.quiet) {
      Notice("removed the partial tree of " + Quote(root.source.dst) +
             " that an interrupted run kept");
    }
  }
}

// A directory of a kept tree: every name in it is stale until SOURCE shows it.
void TreeRun::ReadStale(DirNode& node) {
  node.prune = true;
  const int copy = Dup(node.dst.get());
  DIR* d = copy < 0 ? nullptr : fdopendir(copy);
  if (d == nullptr) {
    if (copy >= 0) close(copy);
    node.prune = false;  // nothing is removed that was not seen
    return;
  }
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) node.stale.emplace(e->d_name);
  }
  closedir(d);
}

// A name already taken in a kept tree: an earlier run's directory, filled again; anything else
// there is replaced by one.
bool TreeRun::OpenExistingChild(const DirNode& parent, const std::string& name, DirNode* child) {
  const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
  child->dst = UniqueFd(sys_.openat(parent.dst.get(), name.c_str(), flags, 0));
  if (!child->dst.valid() && (errno == ENOTDIR || errno == ELOOP) &&
      sys_.unlinkat(parent.dst.get(), name.c_str(), 0) == 0 &&
      sys_.mkdirat(parent.dst.get(), name.c_str(), 0700) == 0) {
    child->created = true;
    child->dst = UniqueFd(sys_.openat(parent.dst.get(), name.c_str(), flags, 0));
    if (child->dst.valid()) return true;
  }
  Status s;
  if (!child->dst.valid()) {
    s = Status::FromErrno("cannot open directory", child->dst_display, errno);
  } else if (sys_.fchmod(child->dst.get(), 0700) != 0) {
    s = Status::FromErrno("cannot resume into", child->dst_display, errno);
  }
  if (!s.ok()) {
    ReportError(s.ToString());
    return false;
  }
  child->created = true;
  ReadStale(*child);
  return true;
}

// What an earlier run left in a directory of a kept tree and SOURCE no longer has: removed before
// the directory's times are set.
void TreeRun::Prune(DirNode& node) {
  for (const std::string& name : node.stale) {
    if (sys_.unlinkat(node.dst.get(), name.c_str(), 0) == 0) continue;
    const int err = errno;
    const std::string shown = JoinDisplay(node.dst_display, name);
    Status s = err == EISDIR ? RemoveTree(sys_, node.dst.get(), name, shown)
                             : Status::FromErrno("cannot remove", shown, err);
    if (!s.ok() && s.err() != ENOENT) ReportError(s.ToString());
  }
  node.stale.clear();
}

// --resume: a large file an earlier run finished (its journal, if any, is stale
// and pruned with its directory). Only the cheap check is made here, in the parent: by size and
// mtime; a check by content would read the whole file while the workers wait.
bool TreeRun::BigAlreadyCopied(const BigFile& big, int dir, const std::string& target) {
  return o_.worker.resume == ResumeCheck::kTime &&
         AlreadyCopied(o_.worker, dir, target, big.src.get(), big.st, big.src_display,
                       big.dst_display);
}

// The journal of a large file in a kept tree, opened and locked; true if it trusts the file an
// earlier run left under target, which big.dst then holds. Without a journal (a file system
// without flock), the file is copied whole, as it would be without --resume.
bool TreeRun::AdoptBig(BigFile& big, int dir, const std::string& target) {
  ResumeJournal::Trouble trouble;
  if (!ResumeJournal::OpenAt(dir, PartialNamesFor(target).journal, big.dst_display, &big.journal,
                             &trouble, sys_)
           .ok()) {
    return false;
  }
  big.journaled = true;
  FileIdentity named;
  const JournalKey key = KeyOf(big.st, target, static_cast<uint32_t>(o_.worker.sparse));
  if (big.journal.Load(key, &named, &big.durable) != JournalVerdict::kTrusted) return false;
  struct stat st;
  if (!big.dst.Adopt(sys_, dir, target, big.dst_display, &st).ok()) return false;
  if (IdentityOf(st) != named || st.st_size != big.st.st_size) {
    big.dst = NewFile();  // not the file the journal names: Create truncates it
    return false;
  }
  big.grid = key.grid;
  return true;
}

// Once the file is laid out: an adopted file keeps to the blocks its journal does not hold; a
// new one starts its journal afresh.
Status TreeRun::StartBigJournal(BigFile& big, bool adopted) {
  if (!big.journaled) return {};
  big.needed = big.extents;
  if (adopted) {
    big.extents = WithoutBlocks(big.needed, big.grid, big.durable);
    const uint64_t resumed = BytesInBlocks(big.needed, big.grid, big.durable);
    report_.resumed_bytes += resumed;
    bytes_found_ += resumed;
    return {};
  }
  struct stat st;
  if (sys_.fstat(big.dst.fd(), &st) != 0) {
    return Status::FromErrno("cannot stat", big.dst_display, errno);
  }
  const JournalKey key = KeyOf(big.st, big.dst.name(), static_cast<uint32_t>(o_.worker.sparse));
  big.grid = key.grid;
  big.durable = BlockBitmap(big.grid.count());
  return big.journal.Reset(key, IdentityOf(st));
}

// At most once per kCheckpointInterval (and at the end of an interrupted run, once the workers
// are gone): each large file with chunks answered since its last record is made durable, then
// the blocks those chunks cover are recorded. A failed fdatasync records nothing.
void TreeRun::CheckpointBigs(bool final) {
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_checkpoint_ < std::chrono::duration<double>(kCheckpointInterval)) {
    return;
  }
  last_checkpoint_ = now;
  for (auto& [id, big] : bigs_) {
    if (!big.journaled || !big.unrecorded) continue;
    big.answered = MergeRanges(std::move(big.answered));
    if (sys_.fdatasync(big.dst.fd()) != 0) continue;
    BlockBitmap covered = CoveredBlocks(big.grid, big.needed, big.answered);
    covered.Merge(big.durable);
    if (!big.journal.Record(covered).ok()) continue;
    big.durable = std::move(covered);
    big.unrecorded = false;
  }
}

}  // namespace pcopy
