// tree_task.h: the messages between the parent of a tree copy and its workers, and their wire form.
//
// The parent walks the tree and hands out two kinds of task: a batch of small entries of one
// directory (each copied whole by the worker that takes the batch: a regular file, a symlink, a
// FIFO or a device node), and a chunk of a large file (a byte range, copied or cloned, between
// two descriptors the parent opened and created). Descriptors travel beside the message
// (task_channel.h): the source and destination directories of a batch, the source and
// destination files of a chunk. Each task is answered by one TaskResult. Pure data and a byte
// encoding; no processes, no files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace pcopy {

enum class TaskKind : uint8_t { kBatch = 1, kChunk = 2, kQuit = 3 };

// How a batch's entries appear in their destination directory.
enum class Publish : uint8_t {
  // Under their own names at once: the directory is inside a new tree's hidden temporary
  // directory, which no one else sees until the whole tree is renamed into place.
  kInPlace = 0,
  // Written as an unnamed (O_TMPFILE) or hidden temporary and linked or renamed onto the name
  // when complete: the directory already existed, and a reader may be looking.
  kViaTemporary = 1,
};

enum class EntryType : uint8_t { kRegular = 0, kSymlink, kFifo, kDevice };

struct TaskItem {
  std::string name;      // in the source directory
  std::string dst_name;  // in the destination directory; empty: the same name
  EntryType type = EntryType::kRegular;
  bool follow = false;  // name is a symlink the walk followed (-L, or -H for an operand)
  uint64_t dev = 0;     // what the parent saw: a worker that opens another file stops
  uint64_t ino = 0;
  uint64_t size = 0;

  const std::string& target_name() const { return dst_name.empty() ? name : dst_name; }
};

struct Task {
  uint64_t id = 0;
  TaskKind kind = TaskKind::kBatch;
  Publish publish = Publish::kInPlace;
  // For messages: a batch's source and destination directories, or a chunk's two files, as the
  // user would name them.
  std::string src_display;
  std::string dst_display;
  std::vector<TaskItem> items;  // kBatch
  uint64_t offset = 0;          // kChunk
  uint64_t length = 0;
  // Not encoded: sent beside the message. kBatch: source and destination directories; kChunk:
  // source and destination files. Kept by the parent until the task is answered, so a task
  // whose worker died can be sent again.
  std::vector<UniqueFd> fds;
};

// The longest error message a result carries, so a batch's answer always fits one message.
inline constexpr size_t kMaxErrorBytes = 1024;

// kResumed: --resume found the entry already copied (exec/entry_copy.h AlreadyCopied).
enum class ItemState : uint8_t { kCopied = 0, kSkipped, kFailed, kResumed };

struct ItemError {
  uint32_t item = 0;
  int32_t err = 0;      // the errno behind it, or 0: the parent stops the copy on ENOSPC
  std::string message;  // one line, without "pcopy: "
};

struct TaskResult {
  uint64_t id = 0;
  uint64_t bytes = 0;             // data bytes written by the task
  std::vector<ItemState> states;  // kBatch: one per item; kChunk: one
  std::vector<ItemError> errors;  // one per kFailed state
};

// "dir/name" for messages, as cp writes it; an empty dir gives name alone.
std::string JoinDisplay(const std::string& dir, const std::string& name);

std::vector<char> EncodeTask(const Task& task);
// False if bytes is not a whole task (fds are left alone).
bool DecodeTask(const std::vector<char>& bytes, Task* task);
std::vector<char> EncodeResult(const TaskResult& result);
bool DecodeResult(const std::vector<char>& bytes, TaskResult* result);

}  // namespace pcopy
