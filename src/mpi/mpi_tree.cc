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
#include "os/leftovers.h"
#include "os/temp_file.h"

namespace pcopy {
namespace {

// Messages between rank 0 and the others, by tag.
constexpr int kTagStart = 11;   // 0 -> r: the workers' config, and rank 0's host
constexpr int kTagTask = 12;    // 0 -> r: a task and its descriptors' paths
constexpr int kTagResult = 13;  // r -> 0: a task's answer
constexpr int kTagQuit = 14;    // 0 -> r: the copy is over; tasks not begun are dropped
constexpr int kTagGone = 15;    // r -> 0: this rank stopped: the signal, and one line why
constexpr int kTagBye = 16;     // r -> 0: the last message a rank sends
constexpr int kTagReady = 17;   // r -> 0: the answer to kTagStart: "" or why this rank cannot copy

// How long Quit waits for the ranks' goodbyes once a terminating signal has arrived.
constexpr auto kQuitGrace = std::chrono::milliseconds(500);

// How long a look at the ranks waits between two when nothing arrived: the latency a rank's
// answer may wait on rank 0, against the CPU rank 0 spends polling.
constexpr auto kPollPause = std::chrono::microseconds(500);

void SendTo(int rank, int tag, const std::vector<char>& bytes) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_CHAR, rank, tag, MPI_COMM_WORLD);
}

// Receives the message `status` probed.
std::vector<char> ReceiveProbed(const MPI_Status& probed) {
  int count = 0;
  MPI_Get_count(&probed, MPI_CHAR, &count);
  std::vector<char> bytes(static_cast<size_t>(count));
  MPI_Recv(bytes.data(), count, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return bytes;
}

bool Probe(int source, int tag, MPI_Status* status) {
  int flag = 0;
  MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, status);
  return flag != 0;
}

// What a rank needs of the workers' config (sys and env are its own), rank 0's host, and the
// file it reads back to show that it shares DEST's file system.
std::vector<char> EncodeConfig(const TreeWorkerConfig& c, const std::string& host,
                               const std::string& probe) {
  WireWriter w;
  w.PutString(host);
  w.PutString(probe);
  w.Put(c.method);
  w.Put(c.buffer_size);
  w.Put(c.tuning);
  w.Put(c.max_write_size);
  w.Put(c.preserve);
  w.Put(c.follow_links);
  w.Put(c.no_clobber);
  w.Put(c.update);
  w.Put(c.fsync);
  w.Put(c.bwlimit);
  w.Put(c.sparse);
  w.Put(c.clone);
  w.Put(c.clone_required);
  w.Put(c.resume);
  return w.Take();
}

bool DecodeConfig(const std::vector<char>& bytes, TreeWorkerConfig* c, std::string* host,
                  std::string* probe) {
  WireReader r(bytes);
  return r.GetString(host) && r.GetString(probe) && r.Get(&c->method) && r.Get(&c->buffer_size) &&
         r.Get(&c->tuning) && r.Get(&c->max_write_size) && r.Get(&c->preserve) &&
         r.Get(&c->follow_links) && r.Get(&c->no_clobber) && r.Get(&c->update) &&
         r.Get(&c->fsync) && r.Get(&c->bwlimit) && r.Get(&c->sparse) && r.Get(&c->clone) &&
         r.Get(&c->clone_required) && r.Get(&c->resume) && r.AtEnd();
}

// A descriptor as another rank reopens it: its path, how it was opened, what it is.
struct FdSpec {
  std::string path;
  int32_t access = O_RDONLY;
  uint8_t directory = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
};

Status Describe(int fd, FdSpec* spec) {
  char path[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), path, sizeof path);
  struct stat st;
  if (n <= 0 || fstat(fd, &st) != 0) return Status::FromErrno("cannot name", link, errno);
  if (static_cast<size_t>(n) >= sizeof path) {
    return Status::FromErrno("cannot name", link, ENAMETOOLONG);
  }
  spec->path.assign(path, static_cast<size_t>(n));
  // An unnamed file (O_TMPFILE) or one removed meanwhile has no path another rank could open.
  if (spec->path.empty() || spec->path[0] != '/' || st.st_nlink == 0) {
    return Status::Failure("cannot hand", spec->path, "to another rank: it has no name");
  }
  const int flags = fcntl(fd, F_GETFL);
  spec->access = flags < 0 ? O_RDONLY : flags & O_ACCMODE;
  spec->directory = S_ISDIR(st.st_mode) ? 1 : 0;
  spec->dev = st.st_dev;
  spec->ino = st.st_ino;
  return {};
}

UniqueFd Reopen(const FdSpec& spec, bool compare_dev, Status* error) {
  const int flags =
      spec.access | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | (spec.directory != 0 ? O_DIRECTORY : 0);
  UniqueFd fd(open(spec.path.c_str(), flags));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) != 0) {
    *error = Status::FromErrno("cannot open", spec.path, errno);
    return UniqueFd();
  }
  if (st.st_ino != spec.ino || (compare_dev && st.st_dev != spec.dev)) {
    *error = Status::Failure("cannot open", spec.path,
                             "this rank sees another file than rank 0 (not a shared file "
                             "system, or it was replaced)");
    return UniqueFd();
  }
  return fd;
}

// The answer to a task none of whose work could be done: every entry failed with `error`.
TaskResult FailedResult(const Task& task, const Status& error) {
  TaskResult result;
  result.id = task.id;
  const size_t n = task.kind == TaskKind::kChunk ? 1 : task.items.size();
  for (size_t i = 0; i < n; ++i) {
    result.states.push_back(ItemState::kFailed);
    result.errors.push_back(ItemError{static_cast<uint32_t>(i), error.err(), error.ToString()});
  }
  return result;
}

}  // namespace

Status MpiTaskRunner::Start(const TreeWorkerConfig& config, size_t) {
  lanes_.clear();
  lanes_.resize(static_cast<size_t>(world_.size()));
  local_slot_ = std::make_unique<WorkerSlot>();
  local_ = std::make_unique<InProcessTasks>(config, local_slot_.get());
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
  const std::vector<char> bytes = EncodeConfig(config, world_.host(), probe);
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
  if (w != 0) {
    WireWriter message;
    message.PutBytes(EncodeTask(task));
    message.Put(static_cast<uint32_t>(task.fds.size()));
    for (const UniqueFd& fd : task.fds) {
      FdSpec spec;
      // A descriptor with no name another rank could open (a SOURCE file removed since the walk
      // opened it): rank 0, which holds it, runs the task.
      if (!Describe(fd.get(), &spec).ok()) w = 0;
      message.PutString(spec.path);
      message.Put(spec.access);
      message.Put(spec.directory);
      message.Put(spec.dev);
      message.Put(spec.ino);
    }
    if (w != 0) SendAsync(static_cast<int>(w), kTagTask, message.Take());
  }
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
    // Rank 0's own task, one at a time, so the others' answers are never long without a look.
    if (!lanes_.empty() && !lanes_[0].in_flight.empty()) RunLocal(done);
    if (!done->empty() || std::chrono::steady_clock::now() >= deadline) return 0;
    usleep(static_cast<useconds_t>(kPollPause.count()));
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
  if (probed.MPI_TAG != kTagResult || rank >= lanes_.size() || !DecodeResult(bytes, &result)) {
    *failure = Status::Message("rank " + std::to_string(rank) + " sent a damaged answer");
    return true;
  }
  std::deque<Task>& flight = lanes_[rank].in_flight;
  for (auto it = flight.begin(); it != flight.end(); ++it) {
    if (it->id != result.id) continue;
    lanes_[rank].bytes += result.bytes;
    done->push_back(TaskCompletion{std::move(*it), std::move(result)});
    flight.erase(it);
    return true;
  }
  *failure = Status::Message("rank " + std::to_string(rank) + " answered a task it did not have");
  return true;
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
  if (!bytes.empty()) bytes[0] = local_slot_->bytes_done.load(std::memory_order_relaxed);
  return bytes;
}

std::string MpiTaskRunner::CurrentFile(size_t w) const {
  if (lanes_[w].in_flight.empty()) return "";
  const Task& t = lanes_[w].in_flight.front();
  return t.kind == TaskKind::kChunk || t.items.empty()
             ? t.src_display
             : JoinDisplay(t.src_display, t.items.front().name);
}

void MpiTaskRunner::Quit() {
  if (quit_) return;
  quit_ = true;
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
}

MpiTaskRunner::~MpiTaskRunner() {
  Quit();
  for (Pending& p : sends_) MPI_Wait(&p.request, MPI_STATUS_IGNORE);
}

namespace {

// One rank's side of the tree copy.
class RankServer {
 public:
  RankServer(const MpiWorld& world, SignalGuard& signals) : world_(world), signals_(signals) {}

  Status Run() {
    Status stopped;
    for (;;) {
      if (stopped.ok() && signals_.Poll() != 0) {
        stopped = Status::Interrupted(signals_.terminating_signal());
        WireWriter gone;
        gone.Put(static_cast<int32_t>(signals_.terminating_signal()));
        gone.PutString("on " + world_.host() + ": " + stopped.ToString());
        SendTo(0, kTagGone, gone.Take());
      }
      MPI_Status probed;
      if (!Probe(0, MPI_ANY_TAG, &probed)) {
        usleep(static_cast<useconds_t>(kPollPause.count()));
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
      if (stopped.ok() && !Probe(0, kTagQuit, &quit) && probed.MPI_TAG == kTagTask) Answer(bytes);
    }
    SendTo(0, kTagBye, {});
    return stopped;
  }

 private:
  // The config, and the probe read back: "" or why this rank cannot take part.
  std::string Configure(const std::vector<char>& bytes) {
    TreeWorkerConfig config;
    std::string host, probe;
    if (!DecodeConfig(bytes, &config, &host, &probe)) {
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
    config.sys = &RealSysCalls();
    config.env = CurrentMetadataEnv();
    config.compare_dev = host == world_.host();
    config_ = config;
    tasks_ = std::make_unique<InProcessTasks>(config_, &slot_);
    return "";
  }

  void Answer(const std::vector<char>& bytes) {
    WireReader r(bytes);
    std::vector<char> encoded;
    Task task;
    uint32_t count = 0;
    TaskResult result;
    if (!r.GetBytes(&encoded) || !DecodeTask(encoded, &task) || !r.Get(&count)) {
      result = FailedResult(task, Status::Message("a task arrived damaged"));
    } else {
      Status error;
      for (uint32_t i = 0; i < count && error.ok(); ++i) {
        FdSpec spec;
        if (!r.GetString(&spec.path) || !r.Get(&spec.access) || !r.Get(&spec.directory) ||
            !r.Get(&spec.dev) || !r.Get(&spec.ino)) {
          error = Status::Message("a task arrived damaged");
          break;
        }
        task.fds.push_back(Reopen(spec, config_.compare_dev, &error));
      }
      if (tasks_ == nullptr) error = Status::Message("a task arrived before the copy's settings");
      result = error.ok() ? tasks_->Run(task, task.fds) : FailedResult(task, error);
      if (error.ok()) error = FinishChunk(task);
      if (!error.ok() && result.errors.empty()) result = FailedResult(task, error);
    }
    SendTo(0, kTagResult, EncodeResult(result));
  }

  // A chunk written here into a file rank 0 publishes: only this node's client can make its
  // writes durable (--fsync on another host than rank 0's; on rank 0's, its fdatasync covers the
  // page cache they share) and report a write that failed late (close, on NFS).
  Status FinishChunk(Task& task) const {
    if (task.kind != TaskKind::kChunk || task.fds.size() != 2) return {};
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
  TreeWorkerConfig config_;
  WorkerSlot slot_;
  std::unique_ptr<InProcessTasks> tasks_;
};

}  // namespace

Status ServeTreeTasks(const MpiWorld& world, SignalGuard& signals) {
  return RankServer(world, signals).Run();
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
                           const MpiWorld& world) {
  CopyOutcome outcome;
  std::unique_ptr<MpiTaskRunner> runner;  // kept until every rank has left the copy
  if (world.rank() == 0) {
    // DEST's file system: DEST itself if it is a directory, otherwise its parent.
    struct stat st;
    const bool dir = stat(o.dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    runner = std::make_unique<MpiTaskRunner>(world, dir ? o.dest : DirName(o.dest), signals);
    outcome = RunTreeCommand(o, signals, console, runner.get());
    runner->Quit();
  } else {
    (void)ServeTreeTasks(world, signals);  // rank 0 reports what stopped the copy
  }
  outcome.exit_code = world.BroadcastInt(outcome.exit_code);
  return outcome;
}

}  // namespace pcopy
