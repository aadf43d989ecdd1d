// The run half of TreeRun (tree_run.h): handing tasks to the pool, taking the answers, and
// completing files, directories and whole trees; and CopyTrees, which runs it.
#include "tree/tree_copy.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/program_name.h"
#include "exec/entry_copy.h"
#include "os/file_ref.h"
#include "os/remove_tree.h"
#include "os/temp_file.h"
#include "tree/tree_run.h"

namespace pcopy {
namespace {

// Tasks a worker holds at once: one it copies, and the next ones already in its channel so it
// never waits for the parent between two.
constexpr size_t kDepth = 3;
constexpr std::chrono::milliseconds kTick(100);

int Dup(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

// Each level of a tree being walked holds two descriptors (source and destination directory):
// the soft limit is raised to the hard one so that deep trees can be walked.
void RaiseDescriptorLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

TreeRun::TreeRun(const std::vector<TreeSource>& sources, const TreeOptions& options,
                 SignalGuard& signals, FILE* out, FILE* err, ProgressObserver* observer)
    : sources_(sources),
      o_(options),
      sys_(*options.worker.sys),
      signals_(signals),
      out_(out),
      err_(err),
      observer_(observer),
      own_pool_(options.runner == nullptr ? std::make_unique<TaskPool>(options.retries) : nullptr),
      pool_(options.runner != nullptr ? *options.runner : *own_pool_) {
  for (const TreeSource& s : sources) {
    RootState root;
    root.source = s;
    roots_.push_back(std::move(root));
  }
  // A file this large is split into chunks that several workers copy at once; a smaller one is
  // copied whole by one worker, among the entries of its directory's batch.
  big_threshold_ = std::max<uint64_t>(16ull << 20, 4 * options.chunk_size);
}

TreeRun::~TreeRun() {
  for (Frame& f : frames_) {
    if (f.reading != nullptr) closedir(f.reading);
  }
}

Status TreeRun::Run(TreeReport* report) {
  RaiseDescriptorLimit();
  start_ = std::chrono::steady_clock::now();
  if (Status s = pool_.Start(o_.worker, std::max(1u, o_.jobs)); !s.ok()) return s;
  target_.assign(pool_.size(), kNoNode);
  Status failure;
  int signal = 0;
  for (;;) {
    WalkSome();
    Dispatch();
    if (stop_) break;
    if (walk_done_ && ready_.empty() && pool_.total_in_flight() == 0) break;
    const bool walk_waits = walk_done_ || ready_.size() >= 256;
    std::vector<TaskCompletion> done;
    signal =
        pool_.Wait(signals_, walk_waits ? kTick : std::chrono::milliseconds(0), &done, &failure);
    for (TaskCompletion& c : done) OnCompletion(c);
    if (signal != 0 || !failure.ok()) break;
    if (resuming()) CheckpointBigs(false);
    Progress(false, nullptr);
    KeepHiddenTreesAlive();
  }
  report_.workers = pool_.size();
  report_.retried = pool_.retried();
  if (signal != 0 || !failure.ok() || stop_) {
    Abort();
    Progress(true, signal != 0 ? "interrupted" : "failed");
    *report = report_;
    if (signal != 0) {
      return Status::Interrupted(signal, report_.notes.empty() ? "a new tree left no trace" : "");
    }
    if (!failure.ok()) return failure;
    if (!fatal_.ok()) return fatal_;
    return Status::Message("stopped at the first error (--fail-fast)");
  }
  pool_.Finish();
  report_.write_sizes = pool_.WriteSizes();
  report_.used_methods = pool_.UsedMethods();
  Progress(true, report_.errors == 0 ? "copied" : "failed");
  report_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  *report = report_;
  return {};
}

// Each worker is kept kDepth tasks deep, the least loaded first, so work spreads evenly.
void TreeRun::Dispatch() {
  while (!ready_.empty()) {
    size_t best = 0;
    for (size_t w = 1; w < pool_.size(); ++w) {
      if (pool_.in_flight(w) < pool_.in_flight(best)) best = w;
    }
    if (pool_.in_flight(best) >= kDepth) return;
    if (Status s = pool_.Send(best, NextTask(best)); !s.ok()) {
      ReportError(s.ToString());
      stop_ = true;
      return;
    }
  }
}

// What a waiting entry writes into: its directory (a batch) or its file (a large file's chunks).
size_t TreeRun::TargetOf(const Ready& r) const {
  return r.big != kNoNode ? (r.big << 1 | 1) : (batch_owner_.at(r.batch.id) << 1);
}

// Which waiting entry worker w takes. Writers creating files in one directory take its inode
// lock in turn, as writers of one file take the file's: so a worker keeps to the directory or
// large file it had last while the queue holds more of it, and otherwise takes one that no other
// worker is on; failing both (one large file, one directory), the first, shared by all.
size_t TreeRun::PickReady(size_t w) const {
  constexpr size_t kLookAhead = 64;
  const size_t window = std::min(ready_.size(), kLookAhead);
  size_t unclaimed = kNoNode;
  for (size_t i = 0; i < window; ++i) {
    const size_t target = TargetOf(ready_[i]);
    if (target == target_[w]) return i;
    if (unclaimed != kNoNode) continue;
    bool claimed = false;
    for (size_t v = 0; v < pool_.size() && !claimed; ++v) {
      claimed = v != w && target_[v] == target && pool_.in_flight(v) > 0;
    }
    if (!claimed) unclaimed = i;
  }
  return unclaimed != kNoNode ? unclaimed : 0;
}

Task TreeRun::NextTask(size_t w) {
  const size_t index = PickReady(w);
  Ready& r = ready_[index];
  target_[w] = TargetOf(r);
  if (r.big == kNoNode) {
    Task t = std::move(r.batch);
    ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(index));
    return t;
  }
  const size_t id = r.big;
  BigFile& big = bigs_.at(id);
  const ByteRange& extent = big.extents[big.next_extent];
  Task t;
  t.id = NewId();
  t.kind = TaskKind::kChunk;
  t.src_display = big.src_display;
  t.dst_display = big.dst_display;
  t.offset = extent.offset + big.within;
  t.length = std::min(big.chunk, extent.length - big.within);
  t.fds.emplace_back(Dup(big.src.get()));
  t.fds.emplace_back(Dup(big.dst.fd()));
  big.within += t.length;
  if (big.within == extent.length) {
    ++big.next_extent;
    big.within = 0;
  }
  ++big.out;
  chunk_owner_[t.id] = id;
  if (big.all_out()) ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(index));
  return t;
}

void TreeRun::OnCompletion(TaskCompletion& c) {
  if (c.task.kind == TaskKind::kChunk) {
    const auto it = chunk_owner_.find(c.result.id);
    const size_t big = it->second;
    chunk_owner_.erase(it);
    OnChunk(big, c.task, c.result);
    return;
  }
  OnBatch(c.task, c.result);
}

void TreeRun::OnBatch(const Task& task, const TaskResult& result) {
  const auto it = batch_owner_.find(task.id);
  const size_t node = it->second;
  batch_owner_.erase(it);
  report_.bytes += result.bytes;
  size_t e = 0;
  for (size_t i = 0; i < result.states.size() && i < task.items.size(); ++i) {
    const TaskItem& item = task.items[i];
    switch (result.states[i]) {
      case ItemState::kCopied:
        ++report_.files;
        if (o_.verbose) {
          Verbose(JoinDisplay(task.src_display, item.name),
                  JoinDisplay(task.dst_display, item.target_name()));
        }
        FirstCopyDone(item.dev, item.ino, task.fds[1].get(), item.target_name(), true);
        break;
      case ItemState::kSkipped:
        ++report_.skipped;
        break;
      case ItemState::kResumed:
        ++report_.resumed;
        report_.resumed_bytes += item.size;
        FirstCopyDone(item.dev, item.ino, task.fds[1].get(), item.target_name(), true);
        break;
      case ItemState::kFailed:
        FirstCopyDone(item.dev, item.ino, -1, {}, false);
        if (e < result.errors.size()) {
          ReportError(result.errors[e].message, result.errors[e].err);
          ++e;
        } else {
          ReportError("copy failed");
        }
        break;
    }
  }
  --nodes_.at(node).pending;
  Complete(node);
}

void TreeRun::OnChunk(size_t id, const Task& task, const TaskResult& result) {
  BigFile& big = bigs_.at(id);
  --big.out;
  report_.bytes += result.bytes;
  if (big.journaled && result.errors.empty()) {
    big.answered.push_back(ByteRange{task.offset, task.length});
    big.unrecorded = true;
  }
  if (!result.errors.empty() && big.error.empty()) {
    big.error = result.errors.front().message;
    big.error_errno = result.errors.front().err;
  }
  if (big.out == 0 && big.all_out()) FinishBig(id);
}

// Every chunk answered: the metadata, then the file appears (or is removed, if a chunk failed).
void TreeRun::FinishBig(size_t id) {
  BigFile& big = bigs_.at(id);
  const size_t node = big.node;
  Status s = big.error.empty() ? Status() : Status::Message(big.error);
  int err = big.error_errno;
  if (s.ok() && o_.worker.fsync && sys_.fdatasync(big.dst.fd()) != 0) {
    s = Status::FromErrno("fsync", big.dst_display, errno);
  }
  if (s.ok() && PreservesAny(o_.worker.preserve)) {
    s = ApplyMetadata(sys_, FileRef::Open(big.src.get(), big.src_display), big.st,
                      FileRef::Open(big.dst.fd(), big.dst_display), o_.worker.preserve,
                      o_.worker.env);
  }
  Published published = Published::kFailed;
  if (s.ok()) published = big.dst.Publish(o_.worker.no_clobber, &s);
  if (published != Published::kYes) big.dst.Discard();
  if (big.journaled) big.journal.Remove();  // the file is whole, or gone
  if (published == Published::kKeptExisting) {
    ++report_.skipped;
  } else if (!s.ok()) {
    ReportError(s.ToString(), err != 0 ? err : s.err());
  } else {
    ++report_.files;
    if (o_.verbose) Verbose(big.src_display, big.dst_display);
  }
  FirstCopyDone(big.st.st_dev, big.st.st_ino, nodes_.at(node).dst.get(), big.dst.name(),
                published == Published::kYes && s.ok());
  bigs_.erase(id);
  --nodes_.at(node).pending;
  Complete(node);
}

void TreeRun::FirstCopyDone(dev_t dev, ino_t ino, int dir_fd, const std::string& name, bool ok) {
  if (!o_.worker.preserve.links) return;
  if (ok) {
    for (const LinkRequest& r : links_.Published(dev, ino, dir_fd, name)) MakeLink(r);
    return;
  }
  for (const LinkRequest& r : links_.Failed(dev, ino)) {
    ReportError(Status::Failure("cannot create hard link", r.dst_display,
                                "the copy of the file it links to failed")
                    .ToString());
    --nodes_.at(r.node).pending;
    Complete(r.node);
  }
}

void TreeRun::MakeLink(const LinkRequest& r) {
  if (Status s = links_.Link(sys_, r, o_.worker.no_clobber); !s.ok()) {
    ReportError(s.ToString());
  } else {
    ++report_.files;
    if (o_.verbose) Verbose(r.src_display, r.dst_display);
  }
  --nodes_.at(r.node).pending;
  Complete(r.node);
}

// Walks up from a node whose last piece of work just finished, completing every directory that
// is now complete: bottom-up, so a directory's times are set after everything in it.
void TreeRun::Complete(size_t id) {
  while (id != kNoNode) {
    const auto it = nodes_.find(id);
    DirNode& node = it->second;
    if (!node.walked || node.pending != 0) return;
    FinishDirectory(node);
    const size_t parent = node.parent;
    const size_t root = node.root;
    nodes_.erase(it);
    if (parent == kNoNode) return PublishRoot(root);
    --nodes_.at(parent).pending;
    id = parent;
  }
}

void TreeRun::FinishDirectory(DirNode& node) {
  if (node.container) return;
  ++report_.dirs;
  if (node.prune) Prune(node);
  const PreserveSet& p = o_.worker.preserve;
  // A directory this copy made gets its final mode (it was 0700 while it was filled); one that
  // was there already keeps its own unless the user asked to preserve something.
  if (node.created || PreservesAny(p)) {
    const FileRef src = node.src.valid() ? FileRef::Open(node.src.get(), node.src_display)
                                         : FileRef::None(node.src_display);
    if (Status s = ApplyMetadata(sys_, src, node.st,
                                 FileRef::Open(node.dst.get(), node.dst_display), p, o_.worker.env);
        !s.ok()) {
      ReportError(s.ToString());
    }
  }
  if (o_.worker.fsync && sys_.fsync(node.dst.get()) != 0) {
    ReportError(Status::FromErrno("fsync", node.dst_display, errno).ToString());
  }
}

// A new tree is complete: its hidden directory takes DEST's name, which must still be free.
void TreeRun::PublishRoot(size_t r) {
  RootState& root = roots_[r];
  root.done = true;
  // A copy being stopped (a full file system, --fail-fast) publishes nothing more: Abort removes
  // the hidden tree.
  if (root.hidden.empty() || stop_) return;
  if (sys_.renameat2(root.parent_dir.get(), root.hidden.c_str(), root.parent_dir.get(),
                     root.name.c_str(), RENAME_NOREPLACE) != 0) {
    ReportError(Status::FromErrno("cannot create directory", root.source.dst, errno).ToString());
    (void)RemoveTree(sys_, root.parent_dir.get(), root.hidden, root.source.dst);
  } else if (o_.worker.fsync && sys_.fsync(root.parent_dir.get()) != 0) {
    ReportError(Status::FromErrno("fsync", DirName(root.source.dst), errno).ToString());
  }
  root.hidden.clear();
  root.lock = UniqueFd();
}

// Stops everything: workers killed and reaped, files being written removed, and every new tree
// not yet published removed whole.
void TreeRun::Abort() {
  pool_.Kill();
  if (resuming()) CheckpointBigs(true);  // every chunk answered was written by a worker now gone
  ready_.clear();
  for (auto& [id, big] : bigs_) {
    if (roots_[nodes_.at(big.node).root].kept) continue;  // resumed from its journal, if any
    big.dst.Discard();
  }
  bigs_.clear();
  for (Frame& f : frames_) {
    if (f.reading != nullptr) closedir(f.reading);
    f.reading = nullptr;
  }
  frames_.clear();
  nodes_.clear();
  for (RootState& root : roots_) {
    if (root.hidden.empty()) continue;
    if (root.kept) {
      report_.notes.push_back("kept the partial tree of " + Quote(root.source.dst) +
                              ": the same command resumes, --discard-partial removes");
      continue;
    }
    (void)RemoveTree(sys_, root.parent_dir.get(), root.hidden, root.source.dst);
    root.hidden.clear();
    root.lock = UniqueFd();
  }
}

void TreeRun::ReportError(const std::string& text, int err) {
  ++report_.errors;
  if (err == ENOSPC || err == EDQUOT) {
    // Nothing more will fit: the copy stops, and this is its one message.
    if (fatal_.ok()) fatal_ = Status::Message(text);
    stop_ = true;
    return;
  }
  if (observer_ != nullptr) observer_->BeforeMessage();
  fprintf(err_, "%s: %s\n", ProgramName(), text.c_str());
  if (o_.fail_fast) stop_ = true;
}

void TreeRun::ReportSkipped(const std::string& text) {
  if (observer_ != nullptr) observer_->BeforeMessage();
  fprintf(err_, "%s: warning: %s\n", ProgramName(), text.c_str());
}

void TreeRun::Notice(const std::string& text) {
  if (observer_ != nullptr) observer_->BeforeMessage();
  fprintf(err_, "%s: %s\n", ProgramName(), text.c_str());
}

void TreeRun::Verbose(const std::string& src, const std::string& dst) {
  if (observer_ != nullptr) observer_->BeforeMessage();
  fprintf(out_, "%s -> %s\n", Quote(src).c_str(), Quote(dst).c_str());
}

// A hidden tree's own mtime does not move with writes deeper in it: touched now and then, so
// that another host's run never takes it for a dead job's (leftovers.h). A kept tree ages by its
// runs instead.
void TreeRun::KeepHiddenTreesAlive() {
  if (!heartbeat_.Due()) return;
  for (const RootState& root : roots_) {
    if (!root.hidden.empty() && !root.kept && root.lock.valid()) {
      (void)sys_.futimens(root.lock.get(), nullptr);
    }
  }
}

void TreeRun::Progress(bool finished, const char* outcome) {
  if (observer_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (!finished && now - last_progress_ < kTick) return;
  last_progress_ = now;
  ProgressSnapshot s;
  s.done = pool_.WorkerBytes();
  // Resumed files were found (bytes_found_) but are not this run's to copy: they are `before`.
  s.total = std::max(bytes_found_ - std::min(bytes_found_, report_.resumed_bytes), s.done_total());
  s.planned.assign(s.done.size(), s.done.empty() ? 0 : s.total / s.done.size());
  s.elapsed = std::chrono::duration<double>(now - start_).count();
  s.before = report_.resumed_bytes;
  s.files_done = report_.files + report_.resumed;
  s.files_total = std::max(files_found_, s.files_done);
  s.errors = report_.errors;
  for (size_t w = 0; w < pool_.size(); ++w) s.current.push_back(pool_.CurrentFile(w));
  if (finished) {
    s.outcome = outcome;
    observer_->OnFinish(s, report_.errors == 0 && !stop_);
  } else {
    observer_->OnProgress(s);
  }
}

Status CopyTrees(const std::vector<TreeSource>& sources, const TreeOptions& options,
                 SignalGuard& signals, FILE* out, FILE* err, ProgressObserver* observer,
                 TreeReport* report) {
  TreeRun run(sources, options, signals, out, err, observer);
  return run.Run(report);
}

}  // namespace pcopy
