// tree_run.h: the state of one CopyTrees call, shared by its two halves: the walk
// (tree_walk.cc: reading directories, creating them, filling the ready queue) and the run
// (tree_copy.cc: handing tasks to the pool, taking answers, completing files, directories and
// whole trees). Internal to tree/; CopyTrees in tree_copy.h is the interface.
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/unique_fd.h"
#include "exec/executor.h"
#include "exec/resume_journal.h"
#include "exec/task_pool.h"
#include "exec/tree_task.h"
#include "os/leftovers.h"
#include "os/new_file.h"
#include "os/signal_guard.h"
#include "plan/block_map.h"
#include "tree/link_groups.h"
#include "tree/tree_options.h"

namespace pcopy {

inline constexpr size_t kNoNode = static_cast<size_t>(-1);

// A destination directory whose contents are not all done yet.
struct DirNode {
  size_t parent = kNoNode;
  size_t root = 0;
  size_t pending = 0;      // batches, large files and subdirectories handed out, not finished
  bool walked = false;     // every entry has been handed out
  bool created = false;    // made by this copy: its mode is always set; an existing one only -p
  bool container = false;  // the directory of a file operand: nothing to apply
  // --resume, a directory an earlier run left in a kept tree: the names in it that SOURCE has
  // not shown (yet), removed when the directory completes, so the tree holds SOURCE alone.
  bool prune = false;
  std::unordered_set<std::string> stale;
  struct stat st {};  // the source directory's
  UniqueFd dst;
  UniqueFd src;  // kept until the end only where xattrs or ACLs are copied from it
  std::string src_display;
  std::string dst_display;
};

// A directory being walked: the top of the stack is read entry by entry, the others wait to
// enter their next subdirectory.
struct Frame {
  size_t node = kNoNode;
  UniqueFd src;
  DIR* reading = nullptr;  // a stream over a duplicate of src while entries remain
  std::vector<std::pair<std::string, struct stat>> subdirs;
  size_t next_subdir = 0;
  bool follow = false;  // its entries were stat'ed through symlinks (-L; -H for an operand)
  Task batch;           // small entries being gathered
  uint64_t batch_bytes = 0;
  uint64_t batch_names = 0;
};

// A file large enough to be split into chunks: opened and created by the parent, published by
// the parent once every chunk is answered.
struct BigFile {
  size_t node = kNoNode;
  struct stat st {};
  UniqueFd src;
  NewFile dst;
  std::string src_display;
  std::string dst_display;
  std::vector<ByteRange> extents;  // what to copy: [0, size), or a sparse file's data
  uint64_t chunk = 0;              // a chunk's length: --chunk-size, whole blocks for a clone
  size_t next_extent = 0;          // the extent and the offset in it not yet handed out
  uint64_t within = 0;
  size_t out = 0;  // chunks handed out and not answered
  bool all_out() const { return next_extent >= extents.size(); }
  std::string error;  // the first chunk's failure
  int error_errno = 0;
  // --resume, in a kept tree: the file's journal (exec/resume_journal.h) and the blocks it records
  // durable; the chunks answered since the file began, recorded at the next checkpoint once an
  // fdatasync has made them durable (CheckpointBigs).
  bool journaled = false;
  ResumeJournal journal;
  BlockGrid grid;
  BlockBitmap durable;
  std::vector<ByteRange> needed;  // the extents, before an earlier run's durable blocks left them
  std::vector<ByteRange> answered;
  bool unrecorded = false;
};

// One operand on its way: where its tree goes, and the hidden directory while it is new.
struct RootState {
  TreeSource source;
  UniqueFd parent_dir;  // DEST's parent directory
  std::string name;     // DEST's name in it
  std::string hidden;   // the hidden directory's name until the tree is published
  bool kept = false;    // --resume: hidden is the kept tree's name (leftovers.h)
  UniqueFd lock;        // hidden's, held while it is filled (leftovers.h)
  dev_t dev = 0;        // the source's file system (-x)
  bool done = false;
};

// What is waiting to be handed out: a batch, or the next chunks of a large file.
struct Ready {
  Task batch;
  size_t big = kNoNode;
};

class TreeRun {
 public:
  TreeRun(const std::vector<TreeSource>& sources, const TreeOptions& options, SignalGuard& signals,
          FILE* out, FILE* err, ProgressObserver* observer);
  ~TreeRun();
  Status Run(TreeReport* report);

 private:
  // tree_walk.cc
  void WalkSome();
  bool WalkStep();
  bool StartRoot(size_t r);
  void StartDirectoryRoot(size_t r);
  void StartFileRoot(size_t r);
  bool OpenKeptTree(size_t r, UniqueFd* dst, bool* existed);
  void DiscardKeptTree(size_t r);
  void ReadStale(DirNode& node);
  bool OpenExistingChild(const DirNode& parent, const std::string& name, DirNode* child);
  bool BigAlreadyCopied(const BigFile& big, int dir, const std::string& target);
  bool AdoptBig(BigFile& big, int dir, const std::string& target);
  Status StartBigJournal(BigFile& big, bool adopted);
  void CheckpointBigs(bool final);
  void ReadEntry(Frame& f);
  void AddEntry(Frame& f, const char* name, const struct stat& st, const std::string& dst_name);
  void AddBig(Frame& f, const char* name, const struct stat& st, const std::string& dst_name);
  Status LayOut(BigFile& big);
  void AddLink(Frame& f, const char* name, const struct stat& st, const std::string& dst_name);
  void FlushBatch(Frame& f);
  void EnterSubdir(Frame& f);
  bool OpenChildDir(const Frame& f, const std::string& name, const struct stat& st, UniqueFd* src,
                    DirNode* child);
  bool InLoop(const struct stat& st) const;
  size_t AddNode(DirNode node, int src_fd);
  void PushFrame(size_t node, UniqueFd src);
  Publish PublishOf(size_t node) const;

  // tree_copy.cc
  void Dispatch();
  Task NextTask(size_t worker);
  size_t PickReady(size_t worker) const;
  size_t TargetOf(const Ready& r) const;
  void OnCompletion(TaskCompletion& c);
  void OnBatch(const Task& task, const TaskResult& result);
  void OnChunk(size_t big, const Task& task, const TaskResult& result);
  void FinishBig(size_t big);
  // The first copy of a linked file is published (or failed): its other names follow.
  void FirstCopyDone(dev_t dev, ino_t ino, int dir_fd, const std::string& name, bool ok);
  void MakeLink(const LinkRequest& request);
  void Complete(size_t node);
  void FinishDirectory(DirNode& node);
  void Prune(DirNode& node);
  void PublishRoot(size_t r);
  void Abort();
  // An entry that could not be copied; a full file system (ENOSPC, EDQUOT) stops the copy.
  void ReportError(const std::string& text, int err = 0);
  void ReportSkipped(const std::string& text);
  void Notice(const std::string& text);
  void Verbose(const std::string& src, const std::string& dst);
  void Progress(bool finished, const char* outcome);
  void KeepHiddenTreesAlive();
  uint64_t NewId() { return ++last_id_; }
  bool resuming() const { return o_.worker.resume != ResumeCheck::kOff; }

  const std::vector<TreeSource>& sources_;
  const TreeOptions& o_;
  const SysCalls& sys_;
  SignalGuard& signals_;
  FILE* out_;
  FILE* err_;
  ProgressObserver* observer_;
  std::unique_ptr<TaskPool> own_pool_;  // the forked workers, unless the options bring a runner
  TaskRunner& pool_;
  std::vector<RootState> roots_;
  size_t next_root_ = 0;
  bool walk_done_ = false;
  std::vector<Frame> frames_;
  std::unordered_map<size_t, DirNode> nodes_;
  size_t last_node_ = 0;
  std::unordered_map<size_t, BigFile> bigs_;
  std::unordered_map<uint64_t, size_t> chunk_owner_;  // chunk task id -> big file
  std::unordered_map<uint64_t, size_t> batch_owner_;  // batch task id -> node
  std::deque<Ready> ready_;
  std::vector<size_t> target_;  // per worker: what its last task wrote into (TargetOf)
  LinkGroups links_;
  uint64_t last_id_ = 0;
  uint64_t big_threshold_ = 0;
  uint64_t bytes_found_ = 0;
  uint64_t files_found_ = 0;
  bool stop_ = false;  // --fail-fast met an error, or the file system is full
  Status fatal_;       // what stopped the copy when it was not --fail-fast
  TreeReport report_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_progress_;
  Heartbeat heartbeat_;  // the hidden trees' (KeepHiddenTreesAlive)
  std::chrono::steady_clock::time_point last_checkpoint_;
};

}  // namespace pcopy
