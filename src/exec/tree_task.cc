#include "exec/tree_task.h"

#include "base/wire.h"

namespace pcopy {

std::string JoinDisplay(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::vector<char> EncodeTask(const Task& task) {
  WireWriter w;
  w.Put(task.id);
  w.Put(task.kind);
  w.Put(task.publish);
  w.PutString(task.src_display);
  w.PutString(task.dst_display);
  w.Put(task.offset);
  w.Put(task.length);
  w.Put(static_cast<uint32_t>(task.items.size()));
  for (const TaskItem& item : task.items) {
    w.PutString(item.name);
    w.PutString(item.dst_name);
    w.Put(item.type);
    w.Put(item.follow);
    w.Put(item.dev);
    w.Put(item.ino);
    w.Put(item.size);
  }
  return w.Take();
}

bool DecodeTask(const std::vector<char>& bytes, Task* task) {
  WireReader r(bytes);
  uint32_t count = 0;
  if (!r.Get(&task->id) || !r.Get(&task->kind) || !r.Get(&task->publish) ||
      !r.GetString(&task->src_display) || !r.GetString(&task->dst_display) ||
      !r.Get(&task->offset) || !r.Get(&task->length) || !r.Get(&count)) {
    return false;
  }
  task->items.clear();
  for (uint32_t i = 0; i < count; ++i) {
    TaskItem item;
    if (!r.GetString(&item.name) || !r.GetString(&item.dst_name) || !r.Get(&item.type) ||
        !r.Get(&item.follow) || !r.Get(&item.dev) || !r.Get(&item.ino) || !r.Get(&item.size)) {
      return false;
    }
    task->items.push_back(std::move(item));
  }
  return r.AtEnd();
}

std::vector<char> EncodeResult(const TaskResult& result) {
  WireWriter w;
  w.Put(result.id);
  w.Put(result.bytes);
  w.Put(static_cast<uint32_t>(result.states.size()));
  for (ItemState s : result.states) w.Put(s);
  w.Put(static_cast<uint32_t>(result.errors.size()));
  for (const ItemError& e : result.errors) {
    w.Put(e.item);
    w.Put(e.err);
    // A message is one line naming at most two paths; a huge one is cut rather than lost.
    w.PutString(e.message.size() > kMaxErrorBytes ? e.message.substr(0, kMaxErrorBytes) + "..."
                                                  : e.message);
  }
  return w.Take();
}

bool DecodeResult(const std::vector<char>& bytes, TaskResult* result) {
  WireReader r(bytes);
  uint32_t count = 0;
  if (!r.Get(&result->id) || !r.Get(&result->bytes) || !r.Get(&count)) return false;
  result->states.assign(count, ItemState::kCopied);
  for (ItemState& s : result->states) {
    if (!r.Get(&s)) return false;
  }
  if (!r.Get(&count)) return false;
  result->errors.clear();
  for (uint32_t i = 0; i < count; ++i) {
    ItemError e;
    if (!r.Get(&e.item) || !r.Get(&e.err) || !r.GetString(&e.message)) return false;
    result->errors.push_back(std::move(e));
  }
  return r.AtEnd();
}

}  // namespace pcopy
