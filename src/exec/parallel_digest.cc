#include "exec/parallel_digest.h"

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <new>

#include "exec/process_pool.h"

namespace pcopy {
namespace {

struct Context {
  int a_fd;
  int b_fd;
  uint64_t size;
};

// Leaf `leaf` of a, and of b when given, through buffer (kLeafSize bytes): value[0..1] = a's
// digest, value[2] = 1 if b's leaf differs, value[3] = which file failed (0 a, 1 b). Returns 0,
// an errno or kShortRead.
int DigestLeaf(const Context& ctx, uint64_t leaf, char* buffer, PoolResult* result) noexcept {
  const uint64_t offset = leaf * kLeafSize;
  const uint64_t length = std::min(kLeafSize, ctx.size - offset);
  Digest128 a{}, b{};
  if (int rc = DigestRange(ctx.a_fd, offset, length, buffer, &a); rc != 0) return rc;
  result->value[0] = a.high;
  result->value[1] = a.low;
  if (ctx.b_fd >= 0) {
    if (int rc = DigestRange(ctx.b_fd, offset, length, buffer, &b); rc != 0) {
      result->value[3] = 1;
      return rc;
    }
    result->value[2] = a == b ? 0 : 1;
  }
  return 0;
}

// Runs in a pool worker: arg[0] = leaf index.
int LeafTask(const PoolTask& task, PoolResult* result, void* context) noexcept {
  static char* buffer = nullptr;  // one per worker process, kept for its lifetime
  if (buffer == nullptr) buffer = new (std::nothrow) char[kLeafSize];
  if (buffer == nullptr) return ENOMEM;
  return DigestLeaf(*static_cast<const Context*>(context), task.arg[0], buffer, result);
}

// The leaves digested by this process, one after another, taking signals between them.
Status DigestHere(const Context& ctx, const std::vector<PoolTask>& tasks,
                  std::vector<PoolResult>* results, SignalGuard* signals,
                  const std::function<void(size_t)>& collected) {
  std::unique_ptr<char[]> buffer(new char[kLeafSize]);
  results->assign(tasks.size(), PoolResult{});
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (signals != nullptr && signals->Poll() != 0) {
      return Status::Interrupted(signals->terminating_signal());
    }
    PoolResult& r = (*results)[i];
    r.id = tasks[i].id;
    r.error = DigestLeaf(ctx, tasks[i].arg[0], buffer.get(), &r);
    collected(i + 1);
  }
  return {};
}

// The leaves digested on a pool of up to `jobs` workers.
Status DigestOnPool(Context* ctx, unsigned jobs, const std::vector<PoolTask>& tasks,
                    std::vector<PoolResult>* results, SignalGuard* signals,
                    const std::function<void(size_t)>& collected) {
  PoolConfig config;
  config.workers = std::max(1u, std::min<unsigned>(jobs, static_cast<unsigned>(tasks.size())));
  config.queue_capacity = 256;
  config.handler = &LeafTask;
  config.context = ctx;
  config.name = "pcopy-verify";
  config.signals = signals;
  std::unique_ptr<ProcessPool> pool;
  if (Status s = ProcessPool::Start(config, &pool); !s.ok()) return s;
  if (Status s = pool->Map(tasks, results, collected); !s.ok()) return s;
  return pool->Join();
}

}  // namespace

Status DigestLeaves(const DigestInput& a, const DigestInput& b, uint64_t size, unsigned jobs,
                    const std::vector<uint64_t>& leaves, LeafReport* out, SignalGuard* signals,
                    PhaseReport report) {
  *out = LeafReport{};
  if (signals != nullptr && signals->Poll() != 0) {
    return Status::Interrupted(signals->terminating_signal());
  }
  std::vector<uint64_t> wanted = leaves;
  if (wanted.empty()) {
    for (uint64_t k = 0; k * kLeafSize < size; ++k) wanted.push_back(k);
  }
  if (wanted.empty()) return {};
  Context ctx{a.fd, b.fd, size};
  std::vector<PoolTask> tasks(wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) {
    tasks[i].id = i;
    tasks[i].arg[0] = wanted[i];
  }
  uint64_t total = 0;
  for (const uint64_t leaf : wanted) total += std::min(kLeafSize, size - leaf * kLeafSize);
  // Leaves come back in any order; a count of them, as whole leaves, is near enough for a bar.
  const auto collected = [&](size_t n) {
    report(n == wanted.size() ? total : std::min<uint64_t>(total, n * kLeafSize), total);
  };
  report(0, total);
  std::vector<PoolResult> results;
  if (Status s = jobs == 0 ? DigestHere(ctx, tasks, &results, signals, collected)
                           : DigestOnPool(&ctx, jobs, tasks, &results, signals, collected);
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const PoolResult& r = results[i];
    const uint64_t offset = wanted[i] * kLeafSize;
    if (r.error != 0) {
      const std::string& name = r.value[3] == 1 ? b.name : a.name;
      if (r.error == kShortRead) {
        return Status::Failure("read", name, "unexpected end of file (the file changed)", offset);
      }
      return Status::FromErrno("read", name, r.error, offset);
    }
    out->digests.push_back(Digest128{r.value[0], r.value[1]});
    if (r.value[2] != 0) out->differing.push_back(wanted[i]);
  }
  return {};
}

}  // namespace pcopy
