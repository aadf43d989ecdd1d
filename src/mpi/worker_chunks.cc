#include "mpi/worker_chunks.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <numeric>
#include <vector>

namespace pcopy {
namespace {

UniqueFd Dup(int fd) { return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

class ChunkRun {
 public:
  ChunkRun(TaskPool& pool, const ChunkFeed& feed) : pool_(pool), feed_(feed) {}

  // Tops every worker up to its depth, until the feed has nothing more for it.
  Status Feed() {
    const size_t depth = feed_.shared ? 1 : 2;
    exhausted_.resize(pool_.size(), false);
    for (size_t w = 0; w < pool_.size(); ++w) {
      while (!exhausted_[w] && pool_.in_flight(w) < depth) {
        const size_t u = feed_.next(w);
        if (u >= feed_.list->units.size()) {
          exhausted_[w] = true;
          break;
        }
        if (Status s = Send(w, u); !s.ok()) return s;
      }
    }
    return {};
  }

  bool finished() const {
    return pool_.total_in_flight() == 0 &&
           std::all_of(exhausted_.begin(), exhausted_.end(), [](bool e) { return e; });
  }

  // The answers: the first failed chunk's error, as the worker wrote it, or each unit finished.
  Status Answered(const std::vector<TaskCompletion>& done) const {
    for (const TaskCompletion& c : done) {
      if (!c.result.errors.empty()) return Status::Message(c.result.errors.front().message);
      if (c.result.states.empty() || c.result.states.front() != ItemState::kCopied) {
        return Status::Message("a worker could not copy " + Quote(c.task.src_display));
      }
      if (feed_.finished) {
        if (Status s = feed_.finished(static_cast<size_t>(c.task.id - 1)); !s.ok()) return s;
      }
    }
    return {};
  }

  uint64_t bytes() const {
    const std::vector<uint64_t> each = pool_.WorkerBytes();
    return std::accumulate(each.begin(), each.end(), uint64_t{0});
  }

 private:
  Status Send(size_t w, size_t u) {
    const WorkUnit& unit = feed_.list->units[u];
    Task t;
    t.id = u + 1;  // unique in the run, and names the unit its answer finishes
    t.kind = TaskKind::kChunk;
    t.src_display = feed_.src_display;
    t.dst_display = feed_.dst_display;
    t.offset = unit.offset;
    t.length = unit.length;
    t.fds.push_back(Dup(feed_.src_fd));
    t.fds.push_back(Dup(feed_.dst_fd));
    if (!t.fds[0].valid() || !t.fds[1].valid()) return Status::FromErrno("dup", "", errno);
    return pool_.Send(w, std::move(t));
  }

  TaskPool& pool_;
  const ChunkFeed& feed_;
  std::vector<bool> exhausted_;  // per worker: the feed has nothing more for it
};

}  // namespace

Status CopyChunksOnWorkers(TaskPool& pool, const TreeWorkerConfig& config, const ChunkFeed& feed,
                           SignalGuard& signals, std::chrono::milliseconds tick,
                           const std::function<bool(uint64_t)>& progress, bool* stopped) {
  ChunkRun run(pool, feed);
  Status s = pool.Start(config, pool.size());
  while (s.ok()) {
    if (s = run.Feed(); !s.ok() || run.finished()) break;
    std::vector<TaskCompletion> done;
    if (const int signal = pool.Wait(signals, tick, &done, &s); signal != 0) {
      s = Status::Interrupted(signal, "DEST left untouched");
    }
    if (s.ok()) s = run.Answered(done);
    if (s.ok() && progress(run.bytes())) {
      *stopped = true;
      break;
    }
  }
  if (s.ok() && !*stopped) {
    progress(run.bytes());
    pool.Finish();
  } else {
    pool.Kill();
  }
  return s;
}

}  // namespace pcopy
