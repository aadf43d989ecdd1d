#include "mpi/mpi_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "app/tree_job.h"
#include "base/wire.h"
#include "mpi/rank_server.h"
#include "mpi/tree_messages.h"
#include "os/leftovers.h"
#include "os/temp_file.h"

namespace pcopy {
namespace {

// How long Quit waits for the ranks' goodbyes once a terminating signal has arrived.
constexpr auto kQuitGrace = std::chrono::milliseconds(500);

// How long a look at the ranks waits between two when nothing arrived: the latency a rank's
// answer may wait on rank 0, against the CPU rank 0 spends polling.
constexpr auto kPollPause = std::chrono::microseconds(500);
// With -j K, rank 0's look at its own workers' answers, in place of that pause.
constexpr auto kWorkerPause = std::chrono::milliseconds(1);

}  // namespace

Status MpiTaskRunner::Start(const TreeWorkerConfig& config, size_t) {
  lanes_.clear();
  lanes_.resize(static_cast<size_t>(world_.size()) * per_rank_);
  borrowed_count_.assign(lanes_.size(), 0);
  if (workers_ != nullptr) {
    if (Status s = workers_->Start(config, workers_->size()); !s.ok()) {
      return Status::Message("rank 0 on " + world_.host() + ": " + s.ToString());
    }
  } else {
    local_slot_ = std::make_unique<WorkerSlot>();
    local_ = std::make_unique<InProcessTasks>(config, local_slot_.get());
  }
  if (world_.size() == 1) return {};
  // The probe: a hidden file (a temporary's name, which the next run removes if this one dies)
  // holding its own name, by its absolute path, which every node must see alike. Where rank 0
  // cannot make it (no such directory, no permission), the copy itself fails there in cp's words:
  // the ranks are then not asked.
  std::string probe;
  if (char dir[PATH_MAX]; realpath(probe_dir_.c_str(), dir) != nullptr) {
    const std::string name = TemporaryName();
    probe = JoinDisplay(dir, name);
    const UniqueFd fd(open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      probe.clear();
    } else if (write(fd.get(), name.data(), name.size()) != static_cast<ssize_t>(name.size())) {
      unlink(probe.c_str());
      probe.clear();
    }
  }
  const std::vector<char> bytes = EncodeStart(config, world_.machine(), probe);
  for (int r = 1; r < world_.size(); ++r) SendAsync(r, kTagStart, bytes);
  Status s;
  for (int r = 1; r < world_.size(); ++r) {
    MPI_Status probed;
    MPI_Probe(r, kTagReady, MPI_COMM_WORLD, &probed);
    const std::vector<char> answer = ReceiveProbed(probed);
    if (!answer.empty() && s.ok()) {
      s = Status::Message("rank " + std::to_string(r) + " " +
                          std::string(answer.begin(), answer.end()));
    }
  }
  if (!probe.empty()) unlink(probe.c_str());
  return s;
}

void MpiTaskRunner::SendAsync(int rank, int tag, std::vector<char> bytes) {
  Pending& p = sends_.emplace_back();
  p.bytes = std::move(bytes);
  MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_CHAR, rank, tag, MPI_COMM_WORLD,
            &p.request);
}

Status MpiTaskRunner::Send(size_t w, Task task) {
  const size_t rank = w / per_rank_, lane = w % per_rank_;
  if (rank != 0) {
    // A descriptor with no name another rank could open (a SOURCE file removed since the walk
    // opened it): rank 0, which holds it, runs the task, counted against lane w until answered.
    std::vector<char> message;
    if (EncodeTaskMessage(task, static_cast<uint32_t>(lane), &message).ok()) {
      SendAsync(static_cast<int>(rank), kTagTask, std::move(message));
      lanes_[w].in_flight.push_back(std::move(task));
      return {};
    }
    borrowed_[task.id] = w;
    ++borrowed_count_[w];
    w = lane;
  }
  if (workers_ != nullptr) return workers_->Send(w, std::move(task));
  lanes_[w].in_flight.push_back(std::move(task));
  return {};
}

int MpiTaskRunner::Wait(SignalGuard& signals, std::chrono::milliseconds timeout,
                        std::vector<TaskCompletion>* done, Status* failure) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (signals.Poll() != 0) return signals.terminating_signal();
    int signal = 0;
    while (ReceiveOne(done, failure, &signal)) {
      if (!failure->ok() || signal != 0) return signal;
    }
    CompleteSends();
    const size_t before = done->size();
    const bool busy = workers_ != nullptr && workers_->total_in_flight() > 0;
    if (busy) {
      // Rank 0's workers' answers, waited for as long as a pause between two looks.
      const auto pause = done->empty() ? kWorkerPause : std::chrono::milliseconds(0);
      if (const int taken = workers_->Wait(signals, pause, done, failure); taken != 0) {
        return taken;
      }
      if (!failure->ok()) {
        *failure = Status::Message("rank 0 on " + world_.host() + ": " + failure->ToString());
        return 0;
      }
    } else if (!lanes_.empty() && !lanes_[0].in_flight.empty()) {
      // Rank 0's own task, one at a time, so the others' answers are never long without a look.
      RunLocal(done);
    }
    GiveBack(*done, before);
    if (!done->empty() || std::chrono::steady_clock::now() >= deadline) return 0;
    if (!busy) usleep(static_cast<useconds_t>(kPollPause.count()));
  }
}

bool MpiTaskRunner::ReceiveOne(std::vector<TaskCompletion>* done, Status* failure, int* signal) {
  MPI_Status probed;
  if (!Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, &probed)) return false;
  const std::vector<char> bytes = ReceiveProbed(probed);
  const auto rank = static_cast<size_t>(probed.MPI_SOURCE);
  if (probed.MPI_TAG == kTagGone) {
    WireReader r(bytes);
    int32_t number = 0;
    std::string why;
    if (r.Get(&number) && r.GetString(&why) && number != 0) {
      *signal = number;
    } else {
      *failure = Status::Message("rank " + std::to_string(rank) + " " + why);
    }
    return true;
  }
  TaskResult result;
  if (probed.MPI_TAG != kTagResult || rank >= static_cast<size_t>(world_.size()) ||
      !DecodeResult(bytes, &result)) {
    *failure = Status::Message("rank " + std::to_string(rank) + " sent a damaged answer");
    return true;
  }
  // The rank's lanes (one per -j worker) hold its tasks; ids are unique across them.
  for (size_t w = rank * per_rank_; w < (rank + 1) * per_rank_ && w < lanes_.size(); ++w) {
    std::deque<Task>& flight = lanes_[w].in_flight;
    for (auto it = flight.begin(); it != flight.end(); ++it) {
      if (it->id != result.id) continue;
      lanes_[w].bytes += result.bytes;
      done->push_back(TaskCompletion{std::move(*it), std::move(result)});
      flight.erase(it);
      return true;
    }
  }
  *failure = Status::Message("rank " + std::to_string(rank) + " answered a task it did not have");
  return true;
}

void MpiTaskRunner::GiveBack(const std::vector<TaskCompletion>& done, size_t from) {
  for (size_t i = from; i < done.size() && !borrowed_.empty(); ++i) {
    const auto it = borrowed_.find(done[i].task.id);
    if (it == borrowed_.end()) continue;
    --borrowed_count_[it->second];
    borrowed_.erase(it);
  }
}

void MpiTaskRunner::RunLocal(std::vector<TaskCompletion>* done) {
  Task task = std::move(lanes_[0].in_flight.front());
  lanes_[0].in_flight.pop_front();
  TaskResult result = local_->Run(task, task.fds);
  done->push_back(TaskCompletion{std::move(task), std::move(result)});
}

void MpiTaskRunner::CompleteSends() {
  while (!sends_.empty()) {
    int flag = 0;
    MPI_Test(&sends_.front().request, &flag, MPI_STATUS_IGNORE);
    if (flag == 0) return;
    sends_.pop_front();
  }
}

std::vector<uint64_t> MpiTaskRunner::WorkerBytes() const {
  std::vector<uint64_t> bytes;
  for (const Lane& lane : lanes_) bytes.push_back(lane.bytes);
  if (workers_ != nullptr) {
    const std::vector<uint64_t> mine = workers_->WorkerBytes();
    for (size_t w = 0; w < mine.size() && w < bytes.size(); ++w) bytes[w] = mine[w];
  } else if (!bytes.empty() && local_slot_ != nullptr) {
    bytes[0] = local_slot_->bytes_done.load(std::memory_order_relaxed);
  }
  return bytes;
}

size_t MpiTaskRunner::in_flight(size_t w) const {
  const size_t own =
      workers_ != nullptr && w < per_rank_ ? workers_->in_flight(w) : lanes_[w].in_flight.size();
  return own + borrowed_count_[w];
}

std::string MpiTaskRunner::CurrentFile(size_t w) const {
  if (workers_ != nullptr && w < per_rank_) return workers_->CurrentFile(w);
  if (lanes_[w].in_flight.empty()) return "";
  const Task& t = lanes_[w].in_flight.front();
  return t.kind == TaskKind::kChunk || t.items.empty()
             ? t.src_display
             : JoinDisplay(t.src_display, t.items.front().name);
}

void MpiTaskRunner::Quit() {
  if (quit_) return;
  quit_ = true;
  if (workers_ != nullptr) {
    if (workers_->total_in_flight() == 0) {
      workers_->Finish();
    } else {
      workers_->Kill();
    }
  }
  for (int r = 1; r < world_.size(); ++r) SendAsync(r, kTagQuit, {});
  // Until every rank has said goodbye: its answers and its word that it stopped are dropped.
  using Clock = std::chrono::steady_clock;
  Clock::time_point give_up = Clock::time_point::max();
  for (int waiting = world_.size() - 1; waiting > 0 && Clock::now() < give_up;) {
    MPI_Status probed;
    if (Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, &probed)) {
      ReceiveProbed(probed);
      if (probed.MPI_TAG == kTagBye) --waiting;
      continue;
    }
    if (give_up == Clock::time_point::max() && signals_.Poll() != 0) {
      give_up = Clock::now() + kQuitGrace;
    }
    usleep(static_cast<useconds_t>(kPollPause.count()));
  }
  for (Lane& lane : lanes_) lane.in_flight.clear();
  borrowed_.clear();
  borrowed_count_.assign(lanes_.size(), 0);
}

MpiTaskRunner::~MpiTaskRunner() {
  Quit();
  for (Pending& p : sends_) MPI_Wait(&p.request, MPI_STATUS_IGNORE);
}

bool IsTreeCopy(const Options& o) {
  if (o.sources.size() != 1 || o.target_is_directory) return true;
  if (!o.recursive) return false;
  // -r copies a symlink operand as a symlink unless -L or -H says to follow it (cp's rules).
  const bool follow =
      o.dereference == Dereference::kAlways || o.dereference == Dereference::kCommandLine;
  struct stat st;
  const int r = follow ? stat(o.sources[0].c_str(), &st) : lstat(o.sources[0].c_str(), &st);
  return r == 0 && !S_ISREG(st.st_mode);
}

CopyOutcome RunMpiTreeCopy(const Options& o, SignalGuard& signals, const Console& console,
                           const MpiWorld& world, TaskPool* workers) {
  CopyOutcome outcome;
  std::unique_ptr<MpiTaskRunner> runner;  // kept until every rank has left the copy
  if (world.rank() == 0) {
    // DEST's file system: DEST itself if it is a directory, otherwise its parent.
    struct stat st;
    const bool dir = stat(o.dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    runner =
        std::make_unique<MpiTaskRunner>(world, dir ? o.dest : DirName(o.dest), signals, workers);
    outcome = RunTreeCommand(o, signals, console, runner.get());
    runner->Quit();
  } else {
    (void)ServeTreeTasks(world, signals, workers);  // rank 0 reports what stopped the copy
  }
  outcome.exit_code = world.BroadcastInt(outcome.exit_code);
  return outcome;
}

}  // namespace pcopy
