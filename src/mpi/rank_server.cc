#include "mpi/rank_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/wire.h"
#include "exec/tree_worker.h"
#include "mpi/tree_messages.h"
#include "os/temp_file.h"

namespace pcopy {
namespace {

// How long a look at rank 0's messages waits between two when nothing arrived.
constexpr auto kPollPause = std::chrono::microseconds(500);
// How long a look at the workers' answers waits, when they have tasks, before the next look at
// rank 0's messages.
constexpr auto kWorkerPause = std::chrono::milliseconds(1);

class RankServer {
 public:
  RankServer(const MpiWorld& world, SignalGuard& signals, TaskPool* workers)
      : world_(world), signals_(signals), workers_(workers) {}

  Status Run() {
    for (;;) {
      if (stopped_.ok() && signals_.Poll() != 0) {
        Stop(Status::Interrupted(signals_.terminating_signal()), signals_.terminating_signal());
      }
      const bool busy = stopped_.ok() && workers_ != nullptr && workers_->total_in_flight() > 0;
      if (busy) CollectAnswers();
      MPI_Status probed;
      if (!Probe(0, MPI_ANY_TAG, &probed)) {
        if (!busy) usleep(static_cast<useconds_t>(kPollPause.count()));
        continue;
      }
      const std::vector<char> bytes = ReceiveProbed(probed);
      if (probed.MPI_TAG == kTagQuit) break;
      if (probed.MPI_TAG == kTagStart) {
        const std::string why = Configure(bytes);
        SendTo(0, kTagReady, std::vector<char>(why.begin(), why.end()));
        continue;
      }
      // Tasks after a signal, or behind a quit already sent, are dropped.
      MPI_Status quit;
      if (stopped_.ok() && !Probe(0, kTagQuit, &quit) && probed.MPI_TAG == kTagTask) Take(bytes);
    }
    if (workers_ != nullptr) {
      if (workers_->total_in_flight() == 0) {
        workers_->Finish();
      } else {
        workers_->Kill();
      }
    }
    SendTo(0, kTagBye, {});
    return stopped_;
  }

 private:
  // Tells rank 0 that this rank stopped (a signal, or why), and ends its workers' tasks.
  void Stop(const Status& why, int signal) {
    stopped_ = why;
    WireWriter gone;
    gone.Put(static_cast<int32_t>(signal));
    gone.PutString("on " + world_.host() + ": " + why.ToString());
    SendTo(0, kTagGone, gone.Take());
    if (workers_ != nullptr) workers_->Kill();
  }

  // The config, and the probe read back: "" or why this rank cannot take part.
  std::string Configure(const std::vector<char>& bytes) {
    TreeWorkerConfig config;
    std::string machine, probe;
    if (!DecodeStart(bytes, &config, &machine, &probe)) {
      return "on " + world_.host() + ": the copy's settings arrived damaged";
    }
    // No probe: rank 0 could not make one, and its copy fails before any task is sent.
    const UniqueFd fd(probe.empty() ? -1 : open(probe.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    char content[256] = {};
    const ssize_t n = fd.valid() ? pread(fd.get(), content, sizeof content - 1, 0) : -1;
    if (!probe.empty() &&
        (n < 0 || BaseName(probe) != std::string(content, static_cast<size_t>(n)))) {
      const std::string cause = n < 0 ? strerror(errno) : "another file than rank 0 wrote";
      return "on " + world_.host() + ": cannot read " + Quote(probe) + " (" + cause +
             "): DEST is not on a file system this rank shares with rank 0";
    }
    config.compare_dev = machine == world_.machine();  // the page cache rank 0 sees
    config_ = config;
    if (workers_ != nullptr) {
      if (Status s = workers_->Start(config_, workers_->size()); !s.ok()) {
        return "on " + world_.host() + ": " + s.ToString();
      }
    } else {
      tasks_ = std::make_unique<InProcessTasks>(config_, &slot_);
    }
    configured_ = true;
    return "";
  }

  // A task from rank 0: run here, or handed to the worker it names.
  void Take(const std::vector<char>& bytes) {
    Task task;
    uint32_t lane = 0;
    Status error;
    DecodeTaskMessage(bytes, config_.compare_dev, &task, &lane, &error);
    if (error.ok() && !configured_) error = Status::Message("a task arrived before its settings");
    if (!error.ok()) {
      Reply(task, FailedResult(task, error));
    } else if (workers_ != nullptr) {
      // A lost worker is found by the next Wait; any other failure leaves the task unanswered.
      if (Status s = workers_->Send(lane % workers_->size(), std::move(task)); !s.ok()) Stop(s, 0);
    } else {
      const TaskResult result = tasks_->Run(task, task.fds);
      Reply(task, result);
    }
  }

  void CollectAnswers() {
    std::vector<TaskCompletion> done;
    Status failure;
    workers_->Wait(signals_, std::chrono::duration_cast<std::chrono::milliseconds>(kWorkerPause),
                   &done, &failure);
    for (TaskCompletion& c : done) Reply(c.task, c.result);
    if (!failure.ok()) Stop(failure, 0);
  }

  void Reply(Task& task, TaskResult result) {
    if (Status s = FinishChunk(task); !s.ok() && result.errors.empty()) {
      result = FailedResult(task, s);
    }
    SendTo(0, kTagResult, EncodeResult(result));
  }

  // A chunk written here into a file rank 0 publishes: only this node's client can make its
  // writes durable (--fsync on another host than rank 0's; on rank 0's, its fdatasync covers the
  // page cache they share) and report a write that failed late (close, on NFS).
  Status FinishChunk(Task& task) const {
    if (task.kind != TaskKind::kChunk || task.fds.size() != 2 || !task.fds[1].valid()) return {};
    UniqueFd dst = std::move(task.fds[1]);
    if (!config_.compare_dev && config_.fsync && fdatasync(dst.get()) != 0) {
      return Status::FromErrno("fsync", task.dst_display, errno);
    }
    if (close(dst.release()) != 0 && errno != EINTR) {
      return Status::FromErrno("close", task.dst_display, errno);
    }
    return {};
  }

  const MpiWorld& world_;
  SignalGuard& signals_;
  TaskPool* workers_;
  TreeWorkerConfig config_;
  bool configured_ = false;
  WorkerSlot slot_;
  std::unique_ptr<InProcessTasks> tasks_;
  Status stopped_;
};

}  // namespace

Status ServeTreeTasks(const MpiWorld& world, SignalGuard& signals, TaskPool* workers) {
  return RankServer(world, signals, workers).Run();
}

}  // namespace pcopy
