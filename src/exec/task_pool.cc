#include "exec/task_pool.h"

#include <poll.h>
#include <signal.h>

#include <cerrno>

#include "exec/chunk_tuning.h"
#include "exec/task_channel.h"

namespace pcopy {
namespace {

int TreeWorkerMain(void* context) noexcept;

}  // namespace

Status TaskPool::Prestart(size_t workers) {
  prestarted_ = true;
  retries_ = 0;
  return SpawnAll(workers);
}

Status TaskPool::SpawnAll(size_t workers) {
  if (Status s = WorkerSlots::Create(workers, 0, &slots_); !s.ok()) return s;
  workers_.resize(workers);
  contexts_.resize(workers);
  for (size_t w = 0; w < workers; ++w) {
    if (Status s = Spawn(w); !s.ok()) return s;
  }
  return {};
}

Status TaskPool::Start(const TreeWorkerConfig& config, size_t workers) {
  config_ = config;
  if (prestarted_) {
    configured_ = true;
    const std::vector<char> bytes = EncodeTreeConfig(config);
    for (size_t w = 0; w < workers_.size(); ++w) {
      const int err = SendMessage(workers_[w].channel.get(), bytes, {}, false);
      // A worker already gone: Wait finds out and fails the copy.
      if (err != 0 && err != EPIPE && err != ECONNRESET) {
        return Status::FromErrno("cannot send work to worker " + std::to_string(w), "", err);
      }
    }
    return {};
  }
  return SpawnAll(workers);
}

Status TaskPool::Spawn(size_t w) {
  UniqueFd worker_end;
  if (Status s = MakeChannel(&workers_[w].channel, &worker_end); !s.ok()) return s;
  contexts_[w] = Context{prestarted_ ? nullptr : &config_, worker_end.get(), &slots_[w]};
  bool alive = false;
  for (const Worker& x : workers_) alive = alive || x.process.alive();
  const pid_t group = alive ? pgid_ : 0;
  if (Status s = ChildProcess::Spawn(&TreeWorkerMain, &contexts_[w], group,
                                     "pcopy-w" + std::to_string(w), &workers_[w].process);
      !s.ok()) {
    return s;
  }
  if (group == 0) pgid_ = workers_[w].process.pid();
  // worker_end closes here: the worker holds the only other copy, so its death reads as the end
  // of the channel.
  return {};
}

Status TaskPool::SendNow(size_t w, const Task& task) {
  int fds[kMaxMessageFds];
  size_t count = 0;
  for (const UniqueFd& fd : task.fds) fds[count++] = fd.get();
  const int err =
      SendMessage(workers_[w].channel.get(), EncodeTask(task), std::span(fds, count), false);
  // EPIPE/ECONNRESET: the worker is gone; Wait finds out and sends the task again.
  if (err == 0 || err == EPIPE || err == ECONNRESET) return {};
  return Status::FromErrno("cannot send work to worker " + std::to_string(w), "", err);
}

Status TaskPool::Send(size_t w, Task task) {
  Status s = SendNow(w, task);
  workers_[w].in_flight.push_back(std::move(task));
  return s;
}

int TaskPool::Wait(SignalGuard& signals, std::chrono::milliseconds timeout,
                   std::vector<TaskCompletion>* done, Status* failure) {
  std::vector<pollfd> fds;
  for (const Worker& w : workers_) fds.push_back(pollfd{w.channel.get(), POLLIN, 0});
  if (signals.Wait(fds, timeout) < 0 && errno != EINTR) {
    *failure = Status::FromErrno("ppoll", "", errno);
    return 0;
  }
  if (const int sig = signals.terminating_signal(); sig != 0) return sig;
  for (size_t w = 0; w < workers_.size() && failure->ok(); ++w) {
    if (fds[w].revents == 0 && !workers_[w].process.TryReap()) continue;
    if (Drain(w, done, failure)) continue;
    if (!failure->ok()) break;
    *failure = Replace(w);
  }
  return 0;
}

bool TaskPool::Drain(size_t w, std::vector<TaskCompletion>* done, Status* failure) {
  Worker& worker = workers_[w];
  std::vector<UniqueFd> fds;
  for (;;) {
    const ssize_t n = ReceiveMessage(worker.channel.get(), &buffer_, &fds, true);
    if (n < 0 && errno == EAGAIN) return !worker.process.reaped();
    if (n <= 0) return false;  // the end of the channel: the worker has gone
    TaskResult result;
    if (!DecodeResult(buffer_, &result) || worker.in_flight.empty() ||
        worker.in_flight.front().id != result.id) {
      *failure = Status::Message("worker " + std::to_string(w) + " answered out of turn");
      return false;
    }
    done->push_back(TaskCompletion{std::move(worker.in_flight.front()), std::move(result)});
    worker.in_flight.pop_front();
  }
}

// A worker that ended while it still held tasks (or before quitting) is replaced, and its
// unanswered tasks go to the replacement in the same order.
Status TaskPool::Replace(size_t w) {
  Worker& worker = workers_[w];
  worker.process.Kill(SIGKILL);
  worker.process.Wait();
  const std::string how = "worker " + std::to_string(w) + " (pid " +
                          std::to_string(worker.process.pid()) + ") " +
                          worker.process.DescribeExit();
  const std::string what = worker.in_flight.empty()
                               ? std::string()
                               : " while copying " + Quote(worker.in_flight.front().src_display);
  if (retries_used_ >= retries_) {
    return Status::Message(how + what +
                           (retries_used_ == 0 ? ""
                                               : " after " + std::to_string(retries_used_) +
                                                     (retries_used_ == 1 ? " retry" : " retries")));
  }
  ++retries_used_;
  slots_[w].bytes_done.store(0, std::memory_order_relaxed);
  if (Status s = Spawn(w); !s.ok()) return s;
  for (const Task& task : worker.in_flight) {
    if (Status s = SendNow(w, task); !s.ok()) return s;
  }
  retried_.push_back(how + what + "; a new worker (pid " + std::to_string(worker.process.pid()) +
                     ") took over its unfinished work (retry " + std::to_string(retries_used_) +
                     " of " + std::to_string(retries_) + ")");
  return {};
}

std::vector<uint64_t> TaskPool::WorkerBytes() const {
  std::vector<uint64_t> bytes;
  for (size_t w = 0; w < workers_.size(); ++w) {
    bytes.push_back(slots_[w].bytes_done.load(std::memory_order_relaxed));
  }
  return bytes;
}

std::vector<WriteSizeReport> TaskPool::WriteSizes() const {
  std::vector<WriteSizeReport> reports;
  for (size_t w = 0; w < workers_.size(); ++w) {
    if (std::optional<WriteSizeReport> r = WriteSizeOf(slots_[w])) reports.push_back(*r);
  }
  return reports;
}

uint32_t TaskPool::UsedMethods() const {
  uint32_t used = 0;
  for (size_t w = 0; w < workers_.size(); ++w) {
    used |= slots_[w].used_methods.load(std::memory_order_relaxed);
  }
  return used;
}

std::string TaskPool::CurrentFile(size_t w) const {
  const Worker& worker = workers_[w];
  if (worker.in_flight.empty()) return {};
  const Task& t = worker.in_flight.front();
  if (t.kind == TaskKind::kChunk) return t.src_display;
  // A batch's worker says which entry it is on (tree_worker.cc).
  const uint32_t item = slots_[w].unit_file.load(std::memory_order_relaxed);
  return item < t.items.size() ? JoinDisplay(t.src_display, t.items[item].name) : std::string();
}

void TaskPool::Finish() {
  if (prestarted_ && !configured_) {
    Kill();  // prestarted workers that never had a config: nothing of theirs to finish
    return;
  }
  Task quit;
  quit.kind = TaskKind::kQuit;
  for (size_t w = 0; w < workers_.size(); ++w) {
    if (workers_[w].process.alive()) (void)SendNow(w, quit);
  }
  for (Worker& w : workers_) w.process.Wait();
}

void TaskPool::Kill() {
  bool alive = false;
  for (const Worker& w : workers_) alive = alive || w.process.alive();
  // One signal to the group first, as the fork executor does; then each, then reap.
  if (pgid_ > 0 && alive) killpg(pgid_, SIGKILL);
  for (Worker& w : workers_) {
    w.process.Kill(SIGKILL);
    w.process.Wait();
  }
}

namespace {

int TreeWorkerMain(void* context) noexcept {
  auto* ctx = static_cast<const TaskPool::Context*>(context);
  if (ctx->config != nullptr) return RunTreeWorker(*ctx->config, ctx->channel, ctx->slot);
  // Prestarted: the config first. The channel's end before it: the parent quit without a copy.
  try {
    std::vector<char> bytes;
    std::vector<UniqueFd> fds;
    const ssize_t n = ReceiveMessage(ctx->channel, &bytes, &fds, false);
    if (n == 0) return 0;
    TreeWorkerConfig config;
    if (n < 0 || !DecodeTreeConfig(bytes, &config)) return 1;
    return RunTreeWorker(config, ctx->channel, ctx->slot);
  } catch (...) {
    return 1;  // out of memory
  }
}

}  // namespace
}  // namespace pcopy
