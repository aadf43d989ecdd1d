// The walk half of TreeRun (tree_run.h): reading source directories one entry at a time,
// creating destination directories top-down, and filling the ready queue.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/program_name.h"
#include "copy/reflink.h"
#include "exec/entry_copy.h"
#include "os/leftovers.h"
#include "os/temp_file.h"
#include "tree/tree_run.h"

namespace pcopy {
namespace {

// A batch is sent when it holds this many entries, data bytes or name bytes: small enough that
// the workers share a directory's files evenly, large enough that a message carries real work.
constexpr size_t kBatchEntries = 64;
constexpr uint64_t kBatchBytes = 4ull << 20;
constexpr uint64_t kBatchNames = 32ull << 10;
// The walk stops this far ahead of the workers: the bound on the parent's memory.
constexpr size_t kReadyLimit = 256;
// How many entries one WalkSome reads before the parent looks at its workers again.
constexpr int kWalkSteps = 512;

int Dup(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

EntryType TypeOf(mode_t mode) {
  if (S_ISLNK(mode)) return EntryType::kSymlink;
  if (S_ISFIFO(mode)) return EntryType::kFifo;
  if (S_ISCHR(mode) || S_ISBLK(mode)) return EntryType::kDevice;
  return EntryType::kRegular;
}

}  // namespace

void TreeRun::WalkSome() {
  for (int i = 0; i < kWalkSteps && !walk_done_ && !stop_ && ready_.size() < kReadyLimit; ++i) {
    if (!WalkStep()) walk_done_ = true;
  }
}

// One step: an entry read, a subdirectory entered, or a finished directory left.
bool TreeRun::WalkStep() {
  if (frames_.empty()) {
    while (next_root_ < roots_.size()) {
      if (StartRoot(next_root_++)) return true;
    }
    return false;
  }
  Frame& f = frames_.back();
  if (f.reading != nullptr) {
    ReadEntry(f);
  } else if (f.next_subdir < f.subdirs.size()) {
    EnterSubdir(f);
  } else {
    const size_t node = f.node;
    frames_.pop_back();
    nodes_.at(node).walked = true;
    Complete(node);
  }
  return true;
}

Publish TreeRun::PublishOf(size_t node) const {
  return roots_[nodes_.at(node).root].hidden.empty() ? Publish::kViaTemporary : Publish::kInPlace;
}

size_t TreeRun::AddNode(DirNode node, int src_fd) {
  if (node.parent != kNoNode) ++nodes_.at(node.parent).pending;
  // Its xattrs and ACLs are read when it is complete, from the directory itself.
  const PreserveSet& p = o_.worker.preserve;
  if ((p.mode || p.xattr) && src_fd >= 0) node.src = UniqueFd(Dup(src_fd));
  nodes_.emplace(++last_node_, std::move(node));
  return last_node_;
}

void TreeRun::PushFrame(size_t node, UniqueFd src) {
  Frame f;
  f.node = node;
  f.follow = o_.worker.follow_links;
  const int copy = Dup(src.get());
  f.reading = copy < 0 ? nullptr : fdopendir(copy);
  if (f.reading == nullptr) {
    if (copy >= 0) close(copy);
    ReportError(
        Status::FromErrno("cannot read directory", nodes_.at(node).src_display, errno).ToString());
  }
  f.src = std::move(src);
  frames_.push_back(std::move(f));
}

bool TreeRun::StartRoot(size_t r) {
  RootState& root = roots_[r];
  const std::string dir = DirName(root.source.dst);
  root.name = BaseName(root.source.dst);
  root.parent_dir = UniqueFd(sys_.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.parent_dir.valid()) {
    ReportError(Status::FromErrno("cannot access", dir, errno).ToString());
    return false;
  }
  if (root.source.directory) {
    StartDirectoryRoot(r);
  } else {
    StartFileRoot(r);
  }
  return true;
}

// A directory operand: its destination merged into (it exists) or built hidden (it does not).
void TreeRun::StartDirectoryRoot(size_t r) {
  RootState& root = roots_[r];
  const TreeSource& s = root.source;
  UniqueFd src(
      sys_.open(s.src.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (s.follow ? 0 : O_NOFOLLOW)));
  DirNode node;
  node.root = r;
  node.src_display = s.src;
  node.dst_display = s.dst;
  if (!src.valid() || sys_.fstat(src.get(), &node.st) != 0) {
    ReportError(Status::FromErrno("cannot access", s.src, errno).ToString());
    return;
  }
  root.dev = node.st.st_dev;
  const int dflags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  node.dst = UniqueFd(sys_.openat(root.parent_dir.get(), root.name.c_str(), dflags, 0));
  if (!node.dst.valid() && errno == ENOENT) {
    RemoveLeftoversSaying(DirName(s.dst), o_.verbose ? err_ : nullptr, sys_);
    bool existed = false;
    if (resuming()) {
      if (!OpenKeptTree(r, &node.dst, &existed)) return;
    } else {
      DiscardKeptTree(r);
      root.hidden = TemporaryName();
      if (sys_.mkdirat(root.parent_dir.get(), root.hidden.c_str(), 0700) != 0) {
        root.hidden.clear();
        ReportError(Status::FromErrno("cannot create directory", s.dst, errno).ToString());
        return;
      }
      node.dst =
          UniqueFd(sys_.openat(root.parent_dir.get(), root.hidden.c_str(), dflags | O_NOFOLLOW, 0));
      // Locked while this run fills it (leftovers.h), by a descriptor of its own that outlives
      // the root's node until the tree is published.
      if (node.dst.valid()) {
        root.lock = UniqueFd(Dup(node.dst.get()));
        if (root.lock.valid()) LockTemporary(sys_, root.lock.get());
      }
    }
    node.created = true;
    if (existed) {
      ReadStale(node);
      if (o_.verbose) {
        fprintf(err_, "%s: resuming %s -> %s from the partial tree an earlier run kept\n",
                ProgramName(), Quote(s.src).c_str(), Quote(s.dst).c_str());
      }
    }
  }
  if (!node.dst.valid()) {
    ReportError((errno == ENOTDIR
                     ? Status::Message("cannot overwrite non-directory " + Quote(s.dst) +
                                       " with directory " + Quote(s.src))
                     : Status::FromErrno("cannot create directory", s.dst, errno))
                    .ToString());
    return;
  }
  if (o_.verbose) Verbose(s.src, s.dst);
  const int fd = src.get();
  PushFrame(AddNode(std::move(node), fd), std::move(src));
}

// A file operand (or a symlink or special file with -r): one entry of its destination's
// directory, as a batch of one.
void TreeRun::StartFileRoot(size_t r) {
  RootState& root = roots_[r];
  const TreeSource& s = root.source;
  const std::string src_dir = DirName(s.src);
  UniqueFd src(sys_.open(src_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat st;
  const std::string name = BaseName(s.src);
  if (!src.valid() ||
      sys_.fstatat(src.get(), name.c_str(), &st, s.follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
    ReportError(Status::FromErrno("cannot stat", s.src, errno).ToString());
    return;
  }
  DirNode node;
  node.root = r;
  node.container = true;
  node.walked = true;
  node.dst = UniqueFd(Dup(root.parent_dir.get()));
  node.src_display = src_dir == "." && s.src.find('/') == std::string::npos ? "" : src_dir;
  node.dst_display =
      DirName(s.dst) == "." && s.dst.find('/') == std::string::npos ? "" : DirName(s.dst);
  const size_t id = AddNode(std::move(node), -1);
  Frame f;
  f.node = id;
  f.src = std::move(src);
  f.follow = s.follow;
  AddEntry(f, name.c_str(), st, root.name);
  FlushBatch(f);
  Complete(id);
}

void TreeRun::ReadEntry(Frame& f) {
  errno = 0;
  dirent* e = readdir(f.reading);
  if (e == nullptr) {
    if (errno != 0) {
      ReportError(Status::FromErrno("cannot read directory", nodes_.at(f.node).src_display, errno)
                      .ToString());
    }
    closedir(f.reading);
    f.reading = nullptr;
    FlushBatch(f);
    return;
  }
  if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) return;
  struct stat st;
  const int flags = o_.worker.follow_links ? 0 : AT_SYMLINK_NOFOLLOW;
  if (sys_.fstatat(f.src.get(), e->d_name, &st, flags) != 0) {
    ReportError(Status::FromErrno("cannot stat",
                                  JoinDisplay(nodes_.at(f.node).src_display, e->d_name), errno)
                    .ToString());
    return;
  }
  // A socket is not copied: whatever has its name in a kept tree goes.
  if (DirNode& node = nodes_.at(f.node); node.prune && !S_ISSOCK(st.st_mode)) {
    node.stale.erase(e->d_name);
  }
  if (S_ISDIR(st.st_mode)) {
    f.subdirs.emplace_back(e->d_name, st);
    return;
  }
  AddEntry(f, e->d_name, st, {});
}

void TreeRun::AddEntry(Frame& f, const char* name, const struct stat& st,
                       const std::string& dst_name) {
  const DirNode& node = nodes_.at(f.node);
  if (S_ISSOCK(st.st_mode)) {
    ReportSkipped("cannot copy socket " + Quote(JoinDisplay(node.src_display, name)) + ": skipped");
    return;
  }
  ++files_found_;
  if (o_.worker.preserve.links && S_ISREG(st.st_mode) &&
      links_.Classify(st) == LinkGroups::Role::kLink) {
    AddLink(f, name, st, dst_name);
    return;
  }
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) >= big_threshold_) {
    AddBig(f, name, st, dst_name);
    return;
  }
  TaskItem item;
  item.name = name;
  item.dst_name = dst_name;
  item.type = TypeOf(st.st_mode);
  item.follow = f.follow;
  item.dev = st.st_dev;
  item.ino = st.st_ino;
  item.size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  bytes_found_ += item.size;
  f.batch_bytes += item.size;
  f.batch_names += item.name.size();
  f.batch.items.push_back(std::move(item));
  if (f.batch.items.size() >= kBatchEntries || f.batch_bytes >= kBatchBytes ||
      f.batch_names >= kBatchNames) {
    FlushBatch(f);
  }
}

void TreeRun::FlushBatch(Frame& f) {
  if (f.batch.items.empty()) return;
  DirNode& node = nodes_.at(f.node);
  Task& t = f.batch;
  t.id = NewId();
  t.kind = TaskKind::kBatch;
  t.publish = PublishOf(f.node);
  t.src_display = node.src_display;
  t.dst_display = node.dst_display;
  t.fds.emplace_back(Dup(f.src.get()));
  t.fds.emplace_back(Dup(node.dst.get()));
  if (!t.fds[0].valid() || !t.fds[1].valid()) {
    ReportError(
        Status::FromErrno("cannot duplicate a descriptor of", node.dst_display, errno).ToString());
    report_.errors += t.items.size() - 1;
    f.batch = Task();
    return;
  }
  batch_owner_[t.id] = f.node;
  ++node.pending;
  ready_.push_back(Ready{std::move(f.batch), kNoNode});
  f.batch = Task();
  f.batch_bytes = 0;
  f.batch_names = 0;
}

void TreeRun::AddBig(Frame& f, const char* name, const struct stat& st,
                     const std::string& dst_name) {
  const DirNode& node = nodes_.at(f.node);
  const std::string target = dst_name.empty() ? name : dst_name;
  BigFile big;
  big.node = f.node;
  big.src_display = JoinDisplay(node.src_display, name);
  big.dst_display = JoinDisplay(node.dst_display, target);
  const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (f.follow ? 0 : O_NOFOLLOW);
  big.src = UniqueFd(sys_.openat(f.src.get(), name, flags, 0));
  Status s;
  if (!big.src.valid()) {
    s = Status::FromErrno("cannot open", big.src_display, errno).WithTail("for reading");
  } else if (sys_.fstat(big.src.get(), &big.st) != 0) {
    s = Status::FromErrno("cannot stat", big.src_display, errno);
  } else if (big.st.st_ino != st.st_ino || big.st.st_dev != st.st_dev) {
    s = Status::Failure("cannot copy", big.src_display,
                        "it was replaced during the copy (not the file pcopy examined)");
  } else if (sys_.fcntl(big.src.get(), F_SETFL, O_RDONLY) != 0) {
    s = Status::FromErrno("cannot open", big.src_display, errno).WithTail("for reading");
  }
  if (!s.ok()) return ReportError(s.ToString());
  const Publish publish = PublishOf(f.node);
  const Existing existing = publish == Publish::kViaTemporary
                                ? CheckExisting(sys_, node.dst.get(), target.c_str(), big.st,
                                                o_.worker.no_clobber, o_.worker.update)
                                : Existing::kAbsent;
  if (existing == Existing::kSameFile) {
    return ReportError(SameFileError(big.src_display, big.dst_display).ToString());
  }
  if (existing == Existing::kKeep) {
    ++report_.skipped;
    return;
  }
  const bool kept = roots_[node.root].kept;
  if (resuming() && BigAlreadyCopied(big, node.dst.get(), target)) {
    ++report_.resumed;
    report_.resumed_bytes += static_cast<uint64_t>(big.st.st_size);
    bytes_found_ += static_cast<uint64_t>(big.st.st_size);
    return FirstCopyDone(big.st.st_dev, big.st.st_ino, node.dst.get(), target, true);
  }
  const bool adopted = kept && AdoptBig(big, node.dst.get(), target);
  if (!adopted) {
    s = big.dst.Create(sys_, node.dst.get(), target,
                       publish == Publish::kInPlace ? Placement::kInPlace
                       : o_.named_files             ? Placement::kViaNamedTemporary
                                                    : Placement::kViaTemporary,
                       CreationMode(o_.worker, big.st, publish), big.dst_display);
  }
  if (s.ok()) s = LayOut(big);
  if (s.ok()) s = StartBigJournal(big, adopted);
  if (!s.ok()) {
    big.dst.Discard();
    if (big.journaled) big.journal.Remove();
    return ReportError(s.ToString(), s.err());
  }
  bytes_found_ += TotalBytes(big.extents);
  const size_t id = NewId();
  ++nodes_.at(f.node).pending;
  const bool nothing_to_copy = big.extents.empty();
  bigs_.emplace(id, std::move(big));
  if (!nothing_to_copy) return ready_.push_back(Ready{Task(), id});
  FinishBig(id);
}

// A large file's new copy sized, and the ranges its chunks cover: all of it, or a sparse file's
// data (its holes left as holes). Where it is cloned (--reflink), each chunk is cloned by the
// worker that takes it (FICLONERANGE), so that the walk never waits on a clone (a whole-file
// FICLONE of a 1 GiB file in 16,384 extents took half a second on xfs here): the ranges and the
// chunk length are made whole blocks, as the kernel asks, and no room is reserved, since a clone
// takes none. Otherwise the data's blocks are allocated before any chunk is written.
Status TreeRun::LayOut(BigFile& big) {
  const auto size = static_cast<uint64_t>(big.st.st_size);
  if (Status s =
          SourceExtents(sys_, big.src.get(), size, o_.worker.sparse, big.src_display, &big.extents);
      !s.ok()) {
    return s;
  }
  big.chunk = o_.chunk_size;
  if (o_.worker.clone) {
    const uint64_t block = CloneBlockSize(sys_, big.dst.fd());
    big.extents = CloneRanges(big.extents, block, size);
    big.chunk = std::max(block, o_.chunk_size / block * block);
  }
  // Sized to SOURCE's length exactly: FICLONERANGE shares the last, partial block only where it
  // also ends DEST.
  return SizeNewFile(sys_, big.dst.fd(), size, big.extents, !o_.worker.clone, big.dst_display);
}

// A later name of a file already met: a hard link to its copy, now or once that is published.
void TreeRun::AddLink(Frame& f, const char* name, const struct stat& st,
                      const std::string& dst_name) {
  DirNode& node = nodes_.at(f.node);
  LinkRequest r;
  r.dev = st.st_dev;
  r.ino = st.st_ino;
  r.node = f.node;
  r.dir = UniqueFd(Dup(node.dst.get()));
  r.name = dst_name.empty() ? name : dst_name;
  r.src_display = JoinDisplay(node.src_display, name);
  r.dst_display = JoinDisplay(node.dst_display, r.name);
  r.publish = PublishOf(f.node);
  ++node.pending;
  if (links_.Ready(r)) return MakeLink(r);
  links_.Wait(std::move(r));
}

void TreeRun::EnterSubdir(Frame& f) {
  const auto& [name, st] = f.subdirs[f.next_subdir++];
  if (o_.worker.follow_links && InLoop(st)) {
    return ReportError(Status::Failure("cannot copy",
                                       JoinDisplay(nodes_.at(f.node).src_display, name),
                                       "it leads back to a directory above it (a symlink loop)")
                           .ToString());
  }
  UniqueFd src;
  DirNode child;
  if (!OpenChildDir(f, name, st, &src, &child)) return;
  if (o_.verbose) Verbose(child.src_display, child.dst_display);
  // -x, as cp: a mount point is copied as a directory, and what is mounted there is not.
  const bool mount_point = o_.one_file_system && st.st_dev != roots_[child.root].dev;
  const size_t id = AddNode(std::move(child), src.get());
  if (mount_point) {
    nodes_.at(id).walked = true;
    return Complete(id);
  }
  PushFrame(id, std::move(src));  // f is not used after this
}

bool TreeRun::OpenChildDir(const Frame& f, const std::string& name, const struct stat& st,
                           UniqueFd* src, DirNode* child) {
  const DirNode& parent = nodes_.at(f.node);
  child->parent = f.node;
  child->root = parent.root;
  child->src_display = JoinDisplay(parent.src_display, name);
  child->dst_display = JoinDisplay(parent.dst_display, name);
  const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  *src = UniqueFd(
      sys_.openat(f.src.get(), name.c_str(), flags | (o_.worker.follow_links ? 0 : O_NOFOLLOW), 0));
  Status s;
  if (!src->valid()) {
    s = Status::FromErrno("cannot open directory", child->src_display, errno);
  } else if (sys_.fstat(src->get(), &child->st) != 0) {
    s = Status::FromErrno("cannot stat", child->src_display, errno);
  } else if (child->st.st_ino != st.st_ino || child->st.st_dev != st.st_dev) {
    s = Status::Failure("cannot copy", child->src_display,
                        "it was replaced during the copy (not the directory pcopy examined)");
  } else if (sys_.mkdirat(parent.dst.get(), name.c_str(), 0700) == 0) {
    child->created = true;
  } else if (errno == EEXIST && roots_[parent.root].kept) {
    return OpenExistingChild(parent, name, child);
  } else if (errno != EEXIST || PublishOf(f.node) == Publish::kInPlace) {
    s = Status::FromErrno("cannot create directory", child->dst_display, errno);
  }
  if (s.ok()) {
    child->dst = UniqueFd(sys_.openat(parent.dst.get(), name.c_str(), flags | O_NOFOLLOW, 0));
    if (!child->dst.valid()) {
      s = errno == ENOTDIR || errno == ELOOP
              ? Status::Message("cannot overwrite non-directory " + Quote(child->dst_display) +
                                " with directory " + Quote(child->src_display))
              : Status::FromErrno("cannot open directory", child->dst_display, errno);
    }
  }
  if (!s.ok()) ReportError(s.ToString());
  return s.ok();
}

bool TreeRun::InLoop(const struct stat& st) const {
  for (const Frame& f : frames_) {
    const struct stat& a = nodes_.at(f.node).st;
    if (a.st_ino == st.st_ino && a.st_dev == st.st_dev) return true;
  }
  return false;
}

}  // namespace pcopy
