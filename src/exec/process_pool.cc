#include "exec/process_pool.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <cerrno>
#include <deque>
#include <random>
#include <unordered_map>

#include "base/unique_fd.h"
#include "os/child_process.h"

namespace pcopy {

namespace bip = boost::interprocess;

namespace {

constexpr uint64_t kStopId = UINT64_MAX;
constexpr std::chrono::milliseconds kSlice(100);    // one wait for results while joining
constexpr std::chrono::milliseconds kPollSlice(5);  // one wait for room in a full queue

// What each worker is running, in shared memory: task id + 1, or 0 when idle.
struct alignas(64) RunningSlot {
  std::atomic<uint64_t> task_plus_one{0};
};

std::string UniqueName(const std::string& prefix) {
  static unsigned counter = 0;
  std::random_device rd;
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(rd());
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

struct ProcessPool::Impl {
  struct WorkerContext {
    Impl* impl = nullptr;
    unsigned index = 0;
    int result_fd = -1;  // the write end of this worker's pipe
  };

  PoolConfig config;
  std::string queue_name;
  std::unique_ptr<bip::message_queue> queue;
  bip::mapped_region running_region;
  RunningSlot* running = nullptr;
  std::vector<WorkerContext> contexts;
  std::vector<ChildProcess> children;
  std::vector<UniqueFd> result_fds;            // read ends, one per worker
  std::vector<bool> drained;                   // end of file seen on the worker's pipe
  std::deque<PoolResult> buffered;             // results read while waiting to send
  std::vector<uint64_t> last_result_plus_one;  // per worker: the last task it returned, + 1
  // One byte per task sent wakes a worker; both ends non-blocking (a full doorbell already
  // promises enough wake-ups, and a worker that finds no byte just polls again).
  UniqueFd doorbell_read;
  UniqueFd doorbell_write;
  bool closed = false;
  Status broken;  // the first worker failure; the pool runs no more tasks after one

  // A worker never waits inside the queue: it sleeps in poll() on the doorbell and takes tasks
  // with try_receive. glibc's process-shared condition variables are not safe against a waiter
  // that dies (a later signal can block on it forever), so no worker may ever be one.
  static int WorkerMain(void* arg) noexcept {
    auto* ctx = static_cast<WorkerContext*>(arg);
    Impl& impl = *ctx->impl;
    for (;;) {
      pollfd bell{impl.doorbell_read.get(), POLLIN, 0};
      if (poll(&bell, 1, -1) < 0 && errno != EINTR) return 6;
      char ring;
      while (read(impl.doorbell_read.get(), &ring, 1) < 0 && errno == EINTR) {
      }
      for (;;) {
        PoolTask task;
        bip::message_queue::size_type got = 0;
        unsigned priority = 0;
        bool received = false;
        try {
          received = impl.queue->try_receive(&task, sizeof task, got, priority);
        } catch (...) {
          return 3;
        }
        if (!received) break;  // empty: back to the doorbell
        if (got != sizeof task) return 4;
        if (task.id == kStopId) return 0;
        impl.running[ctx->index].task_plus_one.store(task.id + 1, std::memory_order_relaxed);
        PoolResult result;
        result.error = impl.config.handler(task, &result, impl.config.context);
        result.id = task.id;
        result.worker = ctx->index;
        if (!WriteAll(ctx->result_fd, &result, sizeof result)) return 5;
        impl.running[ctx->index].task_plus_one.store(0, std::memory_order_relaxed);
      }
    }
  }

  Status StartWorkers() {
    const unsigned n = config.workers;
    int bell[2];
    if (pipe2(bell, O_CLOEXEC | O_NONBLOCK) != 0) {
      return Status::FromErrno("create a pipe for", config.name, errno);
    }
    doorbell_read = UniqueFd(bell[0]);
    doorbell_write = UniqueFd(bell[1]);
    last_result_plus_one.assign(n, 0);
    contexts.resize(n);
    children.resize(n);
    result_fds.resize(n);
    drained.assign(n, false);
    for (unsigned i = 0; i < n; ++i) {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) != 0)
        return Status::FromErrno("create a pipe for", config.name, errno);
      result_fds[i] = UniqueFd(fds[0]);
      UniqueFd write_end(fds[1]);
      contexts[i] = WorkerContext{this, i, fds[1]};
      // Each pool worker leads its own process group: a pool is a library piece, and its owner
      // decides how to stop it (the destructor kills each worker).
      if (Status s = ChildProcess::Spawn(&WorkerMain, &contexts[i], 0,
                                         config.name + "-" + std::to_string(i), &children[i]);
          !s.ok()) {
        return s;
      }
      // The parent's copy of the write end closes here, so the pipe reads end-of-file exactly
      // when the worker is gone (workers forked later never inherit it).
    }
    return {};
  }

  // A worker's pipe ended: reap it, and say what went wrong if it was not a clean stop.
  Status WorkerEnded(unsigned i) {
    drained[i] = true;
    children[i].Wait();
    if (closed && children[i].succeeded()) return {};
    std::string what = "pool worker " + std::to_string(i) + " (pid " +
                       std::to_string(children[i].pid()) + ") " + children[i].DescribeExit();
    // The worker clears its slot only after writing the result: a task whose result already
    // arrived was finished, not interrupted.
    const uint64_t task = running[i].task_plus_one.load(std::memory_order_relaxed);
    if (task != 0 && task != last_result_plus_one[i]) {
      what += " while running task " + std::to_string(task - 1);
    }
    if (broken.ok()) broken = Status::Message(what);
    return broken;
  }

  // The parent's one wait: the guard's, where SIGINT, SIGTERM and SIGHUP are taken, or poll().
  // *ready is the number of ready descriptors, 0 on a timeout or a wake-up by SIGCHLD.
  Status WaitForResults(std::vector<pollfd>& fds, std::chrono::milliseconds timeout, int* ready) {
    if (config.signals != nullptr) {
      *ready = config.signals->Wait(fds, timeout);
      if (const int sig = config.signals->terminating_signal(); sig != 0) {
        if (broken.signal() == 0) broken = Status::Interrupted(sig);
        return broken;
      }
    } else {
      do {
        *ready = poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
      } while (*ready < 0 && errno == EINTR);
    }
    if (*ready < 0) return Status::FromErrno("poll", config.name, errno);
    return {};
  }

  // Reads one result or one end of file from whichever worker is ready, waiting up to timeout.
  Status Poll(std::chrono::milliseconds timeout, PoolResult* out, bool* got) {
    *got = false;
    std::vector<pollfd> fds;
    std::vector<unsigned> which;
    for (unsigned i = 0; i < result_fds.size(); ++i) {
      if (drained[i]) continue;
      fds.push_back(pollfd{result_fds[i].get(), POLLIN, 0});
      which.push_back(i);
    }
    if (fds.empty()) {
      return closed ? Status{} : Status::Message("the process pool has no worker left");
    }
    int ready = 0;
    if (Status s = WaitForResults(fds, timeout, &ready); !s.ok() || ready == 0) return s;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      ssize_t n;
      do {
        n = read(fds[k].fd, out, sizeof *out);
      } while (n < 0 && errno == EINTR);
      if (n == static_cast<ssize_t>(sizeof *out)) {
        last_result_plus_one[which[k]] = out->id + 1;
        *got = true;
        return {};
      }
      if (n == 0) return WorkerEnded(which[k]);
      return Status::FromErrno("read results of", config.name, n < 0 ? errno : EIO);
    }
    return {};
  }

  // Every worker is signalled before the first is waited for, so they die together.
  void KillAll() {
    for (ChildProcess& c : children) c.Kill(SIGKILL);
    for (unsigned i = 0; i < children.size(); ++i) {
      children[i].Wait();
      drained[i] = true;
    }
  }

  bool AllReaped() const {
    for (bool d : drained) {
      if (!d) return false;
    }
    return true;
  }

  // Reads every result that is ready now into `buffered`.
  Status DrainReady() {
    for (;;) {
      PoolResult r;
      bool got = false;
      if (Status s = Poll(std::chrono::milliseconds(0), &r, &got); !s.ok()) return s;
      if (!got) return {};
      buffered.push_back(r);
    }
  }

  // Sends one record, waiting at most timeout while the queue is full. Results are read into
  // `buffered` meanwhile: a worker blocked on a full result pipe would otherwise never take the
  // next task, and the queue would stay full for good.
  Status Send(const PoolTask& task, std::chrono::milliseconds timeout, bool* sent) {
    *sent = false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!broken.ok()) return broken;
      try {
        *sent = queue->try_send(&task, sizeof task, 0);
      } catch (const bip::interprocess_exception& e) {
        return Status::Failure("send a task to", config.name, e.what());
      }
      if (*sent) {
        const char ring = 1;
        while (write(doorbell_write.get(), &ring, 1) < 0 && errno == EINTR) {
        }
        return {};
      }
      if (Status s = DrainReady(); !s.ok()) return s;
      if (AllReaped()) return Status::Message("the process pool has no worker left");
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      // Wait for a result (a worker that finished something may take the next task) or a short
      // while; never on the queue's own condition variable.
      PoolResult r;
      bool got = false;
      if (Status s = Poll(std::min(left, kPollSlice), &r, &got); !s.ok()) return s;
      if (got) buffered.push_back(r);
    }
  }
};

ProcessPool::ProcessPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProcessPool::~ProcessPool() { impl_->KillAll(); }

Status ProcessPool::Start(const PoolConfig& config, std::unique_ptr<ProcessPool>* out) {
  if (config.workers == 0 || config.handler == nullptr || config.queue_capacity == 0) {
    return Status::Message("a process pool needs at least one worker, a handler and a queue");
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->queue_name = UniqueName(config.name);
  try {
    impl->queue = std::make_unique<bip::message_queue>(bip::create_only, impl->queue_name.c_str(),
                                                       config.queue_capacity, sizeof(PoolTask),
                                                       bip::permissions(0600));
    // Mapped now and inherited by every worker: the name is no longer needed by anyone.
    bip::message_queue::remove(impl->queue_name.c_str());
    impl->running_region = bip::anonymous_shared_memory(sizeof(RunningSlot) * config.workers);
  } catch (const bip::interprocess_exception& e) {
    bip::message_queue::remove(impl->queue_name.c_str());
    return Status::Failure("create message queue", impl->queue_name, e.what());
  }
  impl->running = static_cast<RunningSlot*>(impl->running_region.get_address());
  for (unsigned i = 0; i < config.workers; ++i) new (&impl->running[i]) RunningSlot();
  if (Status s = impl->StartWorkers(); !s.ok()) return s;  // ~Impl kills what started
  out->reset(new ProcessPool(std::move(impl)));
  return {};
}

Status ProcessPool::Submit(const PoolTask& task) {
  if (impl_->closed) return Status::Message("submit to a closed process pool");
  if (task.id == kStopId) return Status::Message("task id UINT64_MAX is reserved");
  bool sent = false;
  for (;;) {
    if (Status s = impl_->Send(task, std::chrono::hours(24), &sent); !s.ok()) return s;
    if (sent) return {};
  }
}

Status ProcessPool::SubmitFor(const PoolTask& task, std::chrono::milliseconds timeout,
                              bool* submitted) {
  *submitted = false;
  if (impl_->closed) return Status::Message("submit to a closed process pool");
  if (task.id == kStopId) return Status::Message("task id UINT64_MAX is reserved");
  return impl_->Send(task, timeout, submitted);
}

size_t ProcessPool::Size() const { return impl_->queue->get_num_msg(); }
bool ProcessPool::Full() const { return Size() >= capacity(); }
bool ProcessPool::Empty() const { return Size() == 0; }
size_t ProcessPool::capacity() const { return impl_->queue->get_max_msg(); }
unsigned ProcessPool::workers() const { return impl_->config.workers; }
pid_t ProcessPool::worker_pid(unsigned i) const { return impl_->children[i].pid(); }
const std::string& ProcessPool::queue_name() const { return impl_->queue_name; }

Status ProcessPool::NextResult(std::chrono::milliseconds timeout, PoolResult* out, bool* got) {
  *got = false;
  if (!impl_->buffered.empty()) {
    *out = impl_->buffered.front();
    impl_->buffered.pop_front();
    *got = true;
    return {};
  }
  if (!impl_->broken.ok()) return impl_->broken;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (Status s = impl_->Poll(std::max(left, std::chrono::milliseconds(0)), out, got); !s.ok()) {
      return s;
    }
    if (*got || left.count() <= 0 || impl_->AllReaped()) return {};
  }
}

Status ProcessPool::Map(const std::vector<PoolTask>& tasks, std::vector<PoolResult>* results,
                        const std::function<void(size_t)>& collected_now) {
  std::unordered_map<uint64_t, size_t> index_of;
  for (size_t i = 0; i < tasks.size(); ++i) index_of.emplace(tasks[i].id, i);
  if (index_of.size() != tasks.size()) return Status::Message("Map needs distinct task ids");
  results->assign(tasks.size(), PoolResult{});
  std::vector<bool> have(tasks.size(), false);
  size_t next = 0, collected = 0;
  while (collected < tasks.size()) {
    while (next < tasks.size()) {
      bool sent = false;
      if (Status s = SubmitFor(tasks[next], std::chrono::milliseconds(0), &sent); !s.ok()) return s;
      if (!sent) break;
      ++next;
    }
    PoolResult r;
    bool got = false;
    if (Status s = NextResult(std::chrono::milliseconds(next < tasks.size() ? 10 : 1000), &r, &got);
        !s.ok()) {
      return s;
    }
    if (!got) continue;
    const auto it = index_of.find(r.id);
    if (it == index_of.end() || have[it->second]) continue;  // another caller's result
    (*results)[it->second] = r;
    have[it->second] = true;
    ++collected;
    if (collected_now) collected_now(collected);
  }
  return {};
}

Status ProcessPool::Close() {
  if (impl_->closed) return {};
  impl_->closed = true;
  PoolTask stop;
  stop.id = kStopId;
  for (unsigned i = 0; i < impl_->config.workers; ++i) {
    bool sent = false;
    while (!sent) {
      if (Status s = impl_->Send(stop, kSlice, &sent); !s.ok()) return s;
      if (impl_->AllReaped()) return {};
    }
  }
  return {};
}

Status ProcessPool::Join() {
  if (!impl_->broken.ok()) {
    impl_->KillAll();
    return impl_->broken;
  }
  Status status = Close();
  while (status.ok() && !impl_->AllReaped()) {
    PoolResult r;
    bool got = false;
    status = impl_->Poll(kSlice, &r, &got);
    if (got) impl_->buffered.push_back(r);
  }
  // After a failure the others may wait for stop messages that were never sent: end them.
  impl_->KillAll();
  return status;
}

}  // namespace pcopy
