#include "exec/tree_worker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <new>
#include <optional>

#include "copy/pacer.h"
#include "copy/range_copy.h"
#include "copy/reflink.h"
#include "copy/transfer_methods.h"
#include "copy/writeback.h"
#include "exec/entry_copy.h"
#include "exec/task_channel.h"
#include "exec/tree_task.h"
#include "os/new_file.h"

namespace pcopy {
namespace {

constexpr uint64_t kStep = 64ull << 20;  // as worker.cc: progress many times a second

// Publishes progress to the worker's slot (one writer: a plain store suffices) and paces the
// worker to its share of --bwlimit.
class SlotSink final : public ProgressSink {
 public:
  SlotSink(WorkerSlot* slot, uint64_t bwlimit) : slot_(slot), pacer_(bwlimit, 1) {}
  void Add(uint64_t bytes) override {
    slot_->bytes_done.store(slot_->bytes_done.load(std::memory_order_relaxed) + bytes,
                            std::memory_order_relaxed);
    total_ += bytes;
    pacer_.Account(bytes);
  }
  uint64_t total() const { return total_; }

 private:
  WorkerSlot* slot_;
  Pacer pacer_;
  uint64_t total_ = 0;
};

class TreeWorker {
 public:
  TreeWorker(const TreeWorkerConfig& config, WorkerSlot* slot, std::span<char> buffer)
      : config_(config), sys_(*config.sys), slot_(slot), sink_(slot, config.bwlimit) {
    env_.sys = config.sys;
    env_.buffer = buffer;
    env_.max_step = kStep;
    if (config.bwlimit != 0) {
      // Small steps under a rate limit, so the sleeps are short and the rate is even.
      env_.max_step = std::clamp<uint64_t>(config.bwlimit / 10, 4096, kStep);
      env_.buffer = env_.buffer.first(std::min<uint64_t>(env_.buffer.size(), env_.max_step));
    }
    transfer_.method = config.method;
    env_.skip_zero_blocks = config.sparse == SparseMode::kAlways;
    tuning_.emplace(config.tuning, slot, &env_);
  }

  TaskResult Run(const Task& task, const std::vector<UniqueFd>& fds) {
    TaskResult result;
    result.id = task.id;
    const uint64_t before = sink_.total();
    if (task.kind == TaskKind::kChunk) {
      RunChunk(task, fds, &result);
    } else {
      for (uint32_t i = 0; i < task.items.size(); ++i) {
        slot_->unit_file.store(i, std::memory_order_relaxed);  // the entry, for progress
        Status error;
        const ItemState state = RunItem(task, fds, task.items[i], &error);
        result.states.push_back(state);
        if (state == ItemState::kFailed) {
          result.errors.push_back(ItemError{i, error.err(), error.ToString()});
        }
      }
    }
    result.bytes = sink_.total() - before;
    // Or'ed in: a replacement in this slot keeps what its predecessor used.
    slot_->used_methods.fetch_or(transfer_.used | (cloned_ ? kClonedBit : 0),
                                 std::memory_order_relaxed);
    return result;
  }

 private:
  void RunChunk(const Task& task, const std::vector<UniqueFd>& fds, TaskResult* result) {
    const Status s = fds.size() == 2
                         ? CloneOrCopyChunk(task, fds[0].get(), fds[1].get())
                         : ToStatus(IoError::NoOffset(IoOp::kOpen, IoFile::kSource, EBADF),
                                    task.src_display, task.dst_display);
    result->states.push_back(s.ok() ? ItemState::kCopied : ItemState::kFailed);
    if (!s.ok()) result->errors.push_back(ItemError{0, s.err(), s.ToString()});
  }

  // A chunk is cloned where asked (FICLONERANGE: the parent made it whole blocks, or the file's
  // end), and copied otherwise, or where --reflink=auto meets a declined clone.
  Status CloneOrCopyChunk(const Task& task, int src, int dst) {
    bool cloned = false;
    if (Status s = Clone(src, dst, ByteRange{task.offset, task.length}, false, task.src_display,
                         task.dst_display, &cloned);
        !s.ok() || cloned) {
      return s;
    }
    IoError e = Attach(src, dst);
    tuning_->Begin();
    if (e.ok()) e = CopyRange(env_, &transfer_, task.offset, task.length, sink_);
    if (e.ok()) tuning_->End(task.length, task.offset + task.length);
    tuning_->Rest();
    // --fsync: the chunk goes to the disk now, while the next ones are copied, rather than all
    // in the parent's fdatasync of the whole file (which holds up every other file's tasks).
    if (e.ok() && config_.fsync) {
      e = StartWriteback(&sys_, dst, ByteRange{task.offset, task.length});
    }
    return e.ok() ? Status() : ToStatus(e, task.src_display, task.dst_display);
  }

  IoError Attach(int src, int dst) {
    env_.src_fd = src;
    env_.dst_fd = dst;
    method_fds_ = MethodFds();
    return method_fds_.Open(config_.method, &env_);
  }

  ItemState RunItem(const Task& task, const std::vector<UniqueFd>& fds, const TaskItem& item,
                    Status* error) {
    if (fds.size() != 2) {
      *error = Status::Message("a batch came without its directories");
      return ItemState::kFailed;
    }
    const int src_dir = fds[0].get(), dst_dir = fds[1].get();
    const std::string src_name = JoinDisplay(task.src_display, item.name);
    const std::string dst_name = JoinDisplay(task.dst_display, item.target_name());
    if (item.type != EntryType::kRegular) {
      return CopySpecialEntry(config_, task.publish, src_dir, dst_dir, item, src_name, dst_name,
                              error);
    }
    return CopyRegular(task.publish, src_dir, dst_dir, item, src_name, dst_name, error);
  }

  Status OpenSource(int src_dir, const TaskItem& item, const std::string& src_name, UniqueFd* fd,
                    struct stat* st) const {
    // O_NONBLOCK: a FIFO put in the file's place must not block the open.
    const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (item.follow ? 0 : O_NOFOLLOW);
    *fd = UniqueFd(sys_.openat(src_dir, item.name.c_str(), flags, 0));
    if (!fd->valid()) {
      return Status::FromErrno("cannot open", src_name, errno).WithTail("for reading");
    }
    if (sys_.fstat(fd->get(), st) != 0) return Status::FromErrno("cannot stat", src_name, errno);
    // O_NONBLOCK stays: it has no effect on a regular file (open(2)), and saves a call per file.
    if (st->st_ino != item.ino || (config_.compare_dev && st->st_dev != item.dev) ||
        !S_ISREG(st->st_mode)) {
      return Status::Failure("cannot copy", src_name,
                             "it was replaced during the copy (not the file pcopy examined)");
    }
    return {};
  }

  ItemState CopyRegular(Publish publish, int src_dir, int dst_dir, const TaskItem& item,
                        const std::string& src_name, const std::string& dst_name, Status* s) {
    UniqueFd src;
    struct stat st;
    if (*s = OpenSource(src_dir, item, src_name, &src, &st); !s->ok()) return ItemState::kFailed;
    if (AlreadyCopied(config_, dst_dir, item.target_name(), src.get(), st, src_name, dst_name)) {
      return ItemState::kResumed;
    }
    ItemState settled;
    if (SettledByExisting(config_, publish, dst_dir, item, st, src_name, dst_name, &settled, s)) {
      return settled;
    }
    NewFile dst;
    const Placement placement =
        publish == Publish::kInPlace ? Placement::kInPlace : Placement::kViaTemporary;
    *s = dst.Create(sys_, dst_dir, item.target_name(), placement,
                    CreationMode(config_, st, publish), dst_name);
    if (s->ok()) *s = WriteAndFinish(src.get(), st, dst.fd(), src_name, dst_name);
    Published published = Published::kFailed;
    if (s->ok()) published = dst.Publish(config_.no_clobber, s);
    if (published != Published::kYes) dst.Discard();
    if (published == Published::kKeptExisting) return ItemState::kSkipped;
    return published == Published::kYes && s->ok() ? ItemState::kCopied : ItemState::kFailed;
  }

  // The bytes, then the data made durable if asked, then the metadata. The file is new and
  // empty (O_TRUNC or unnamed), so its writes give it its size.
  Status WriteAndFinish(int src, const struct stat& st, int dst, const std::string& src_name,
                        const std::string& dst_name) {
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > 0) {
      bool cloned = false;
      if (Status s = Clone(src, dst, ByteRange{0, size}, true, src_name, dst_name, &cloned);
          !s.ok() || cloned) {
        if (!s.ok()) return s;
      } else if (Status d = CopyData(src, dst, st, src_name, dst_name); !d.ok()) {
        return d;
      }
    }
    if (config_.fsync && sys_.fdatasync(dst) != 0) {
      return Status::FromErrno("fsync", dst_name, errno);
    }
    if (!PreservesAny(config_.preserve)) return {};  // its creation mode is its final mode
    return ApplyMetadata(sys_, FileRef::Open(src, src_name), st, FileRef::Open(dst, dst_name),
                         config_.preserve, config_.env);
  }

  // Where asked, FICLONE of a whole file or FICLONERANGE of one chunk, `part`: *cloned when its
  // bytes now share SOURCE's extents. A clone declined under --reflink=auto leaves them to be
  // copied; under always, or for any other errno, it is the entry's error.
  Status Clone(int src, int dst, const ByteRange& part, bool whole_file,
               const std::string& src_name, const std::string& dst_name, bool* cloned) {
    if (!config_.clone) return {};
    const int err = whole_file ? CloneWholeFile(sys_, src, dst)
                               : CloneRange(sys_, src, dst, part.offset, part.length);
    if (err == 0) {
      *cloned = true;
      cloned_ = true;
      sink_.Add(part.length);
      return {};
    }
    if (!config_.clone_required && IsCloneDeclinedErrno(err)) return {};
    return Status::FromErrno("cannot clone", src_name, err).WithSecondPath(dst_name);
  }

  // The data: all of it, or only the data extents of a sparse file (its holes stay holes).
  Status CopyData(int src, int dst, const struct stat& st, const std::string& src_name,
                  const std::string& dst_name) {
    const auto size = static_cast<uint64_t>(st.st_size);
    std::vector<ByteRange> extents{ByteRange{0, size}};
    // Mapped only where holes are possible: st is known here, so no second fstat.
    const bool map = config_.sparse == SparseMode::kAlways ||
                     (config_.sparse == SparseMode::kAuto && MayHaveHoles(st));
    if (map) {
      if (Status s = DataExtents(sys_, src, size, src_name, &extents); !s.ok()) return s;
    }
    const bool whole = extents.size() == 1 && extents[0].offset == 0 && extents[0].length == size;
    if (!whole && sys_.ftruncate(dst, static_cast<off_t>(size)) != 0) {
      return Status::FromErrno("cannot set the size of", dst_name, errno);
    }
    IoError e = Attach(src, dst);
    for (size_t i = 0; e.ok() && i < extents.size(); ++i) {
      e = CopyRange(env_, &transfer_, extents[i].offset, extents[i].length, sink_);
    }
    return e.ok() ? Status() : ToStatus(e, src_name, dst_name);
  }

  const TreeWorkerConfig& config_;
  const SysCalls& sys_;
  WorkerSlot* slot_;
  SlotSink sink_;
  CopyEnv env_;
  TransferState transfer_;
  MethodFds method_fds_;
  std::optional<ChunkTuning> tuning_;  // made once env_ holds the whole buffer
  bool cloned_ = false;                // a clone has made some of a copy
};

struct AlignedFree {
  void operator()(char* p) const { ::operator delete (p, std::align_val_t{kDirectAlignment}); }
};

}  // namespace

struct InProcessTasks::Impl {
  Impl(const TreeWorkerConfig& config, WorkerSlot* slot, size_t size)
      : buffer(static_cast<char*>(::operator new (size, std::align_val_t{kDirectAlignment}))),
        worker(config, slot, std::span<char>(buffer.get(), size)) {}
  std::unique_ptr<char, AlignedFree> buffer;
  TreeWorker worker;
};

InProcessTasks::InProcessTasks(const TreeWorkerConfig& config, WorkerSlot* slot) {
  // A tuned write size is a prefix of a buffer of the largest size it may take.
  const uint64_t largest =
      config.tuning.tune ? std::max(config.buffer_size, config.max_write_size) : config.buffer_size;
  const size_t size =
      static_cast<size_t>((largest + kDirectAlignment - 1) / kDirectAlignment * kDirectAlignment);
  impl_ = std::make_unique<Impl>(config, slot, size);
}

InProcessTasks::~InProcessTasks() = default;

TaskResult InProcessTasks::Run(const Task& task, const std::vector<UniqueFd>& fds) {
  return impl_->worker.Run(task, fds);
}

namespace {

// A chunk's destination closed here and checked: NFS reports a write that failed late at a
// close, and may report it to the first close of the open file, which this one can be.
void CloseChunk(const Task& task, std::vector<UniqueFd>* fds, TaskResult* result) {
  if (task.kind != TaskKind::kChunk || fds->size() != 2 || !(*fds)[1].valid()) return;
  if (close((*fds)[1].release()) == 0 || errno == EINTR) return;
  if (!result->errors.empty()) return;
  const Status s = Status::FromErrno("close", task.dst_display, errno);
  result->states.assign(1, ItemState::kFailed);
  result->errors.push_back(ItemError{0, s.err(), s.ToString()});
}

int Serve(const TreeWorkerConfig& config, int channel, WorkerSlot* slot) {
  InProcessTasks worker(config, slot);
  std::vector<char> bytes;
  std::vector<UniqueFd> fds;
  for (;;) {
    const ssize_t n = ReceiveMessage(channel, &bytes, &fds, false);
    if (n == 0) return 0;
    Task task;
    if (n < 0 || !DecodeTask(bytes, &task)) return 1;
    if (task.kind == TaskKind::kQuit) return 0;
    TaskResult result = worker.Run(task, fds);
    CloseChunk(task, &fds, &result);
    fds.clear();
    if (SendMessage(channel, EncodeResult(result), {}, false) != 0) return 1;
  }
}

}  // namespace

int RunTreeWorker(const TreeWorkerConfig& config, int channel, WorkerSlot* slot) noexcept {
  slot->state.store(static_cast<uint32_t>(WorkerState::kRunning), std::memory_order_relaxed);
  int code = 1;
  try {
    code = Serve(config, channel, slot);
  } catch (...) {
    code = 1;  // out of memory: the parent sees the worker end and retries its tasks
  }
  slot->state.store(static_cast<uint32_t>(code == 0 ? WorkerState::kDone : WorkerState::kFailed),
                    std::memory_order_release);
  return code;
}

}  // namespace pcopy
