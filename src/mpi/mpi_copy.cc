#include "mpi/mpi_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/copy_job.h"
#include "app/method_choice.h"
#include "app/resume_copy.h"
#include "base/size_parse.h"
#include "copy/io_error.h"
#include "copy/pacer.h"
#include "copy/range_copy.h"
#include "copy/transfer_methods.h"
#include "mpi/copy_setup.h"
#include "mpi/mpi_resume.h"
#include "mpi/rank_copy.h"
#include "mpi/worker_chunks.h"
#include "os/destination.h"
#include "os/leftovers.h"
#include "os/new_file.h"
#include "os/source_file.h"
#include "os/temp_file.h"
#include "plan/extent_plan.h"
#include "plan/work_list.h"

namespace pcopy {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPublishEvery = std::chrono::milliseconds(50);
constexpr auto kTick = std::chrono::milliseconds(100);
// How often rank 0, its own units done, looks at the board: the job's end is seen this soon.
constexpr auto kPoll = std::chrono::milliseconds(5);

}  // namespace

CopyOutcome RankCopy::Run() {
  CopySetup setup;
  if (world_.rank() == 0) {
    if (Status s = Prepare(&setup); !s.ok()) {
      setup.error = s.ToString();
      setup.exit_code = s.signal() != 0 ? ExitCodeForSignal(s.signal()) : kExitFailure;
    }
  }
  setup = DecodeSetup(world_.Broadcast(world_.rank() == 0 ? EncodeSetup(setup) : std::string()));
  if (!setup.error.empty() || setup.kept) {
    const int code = world_.BroadcastInt(setup.exit_code);
    if (setup.kept && world_.rank() == 0 && o_.verbose) {
      fprintf(console_.err, "pcopy-mpi: not replacing %s\n", Quote(dst_.path).c_str());
    }
    if (world_.rank() != 0 || setup.kept) return CopyOutcome{Status(), code, {}};
    CopyOutcome failed{setup.exit_code >= 128
                           ? Status::Interrupted(code - 128, "DEST left untouched")
                           : Status::Message(setup.error),
                       code,
                       {}};
    // A resumed partial copy stays as it was; a new one goes.
    if (partial_) {
      if (std::string kept = EndPartial(&*partial_, &temp_, true, dst_.display); !kept.empty()) {
        failed.report.notes.push_back(kept);
      }
    }
    return failed;
  }
  Plan(setup);
  MpiBoard board(world_, setup.resumable ? list_.units.size() : 0);
  board_ = &board;
  start_ = Clock::now();
  before_ = setup.before;
  if (world_.rank() == 0) {
    view_ = MakeProgress(o_, console_);
    if (partial_) journal_.emplace(&board, &list_, partial_->checkpoint.get());
  }
  Status mine = OpenFiles(setup);
  if (mine.ok() && setup.resumable) {
    durable_.emplace(&board, dst_fd_.get(), display_, setup.machine != world_.machine());
  }
  if (mine.ok()) mine = CopyUnits();
  if (mine.ok()) mine = Flush();
  if (!mine.ok()) board.Stop();
  // Never published, even if the job hangs from here on (a dead rank).
  if (!mine.ok() || stopped_) Abandon();
  board.Publish(done_, mine.ok() && !stopped_ ? RankState::kDone : RankState::kFailed);
  if (world_.rank() == 0) {
    if (Status waited = WaitForRanks(); mine.ok()) mine = waited;
    if (mine.ok()) mine = journal_error_;
  }
  Verdict verdict = Judge(mine, world_.Gather(world_.host() + "\n" + OutcomeOf(mine, stopped_)));
  if ((o_.verify || o_.print_digest) &&
      world_.BroadcastInt(world_.rank() == 0 && verdict.status.ok() ? 1 : 0) != 0) {
    verdict = Check(setup);
  }
  CopyOutcome outcome;
  if (world_.rank() == 0) outcome = Conclude(std::move(verdict));
  outcome.exit_code = world_.BroadcastInt(outcome.exit_code);
  return outcome;
}

Status RankCopy::Prepare(CopySetup* setup) {
  if (Status s = OpenSource(o_.source, &src_); !s.ok()) return s;
  struct stat st;
  if (fstat(src_.fd.get(), &st) != 0) return Status::FromErrno("cannot stat", o_.source, errno);
  if (src_.kind != SourceKind::kRegular) {
    return Status::Failure("cannot copy", o_.source,
                           "pcopy-mpi copies regular files (use pcopy for a device)");
  }
  if (Status s = ResolveDestination(o_.source, o_.dest, &dst_); !s.ok()) return s;
  if (dst_.exists && dst_.dev == src_.dev && dst_.ino == src_.ino) {
    return Status::Message(Quote(o_.source) + " and " + Quote(dst_.display) + " are the same file");
  }
  // -n, -u: an existing DEST that cp would keep ends the job here, successfully.
  if (dst_.exists && CheckExisting(RealSysCalls(), AT_FDCWD, dst_.path.c_str(), st, o_.no_clobber,
                                   o_.update) == Existing::kKeep) {
    setup->kept = true;
    return {};
  }
  if (!o_.force) {
    if (Status s = CheckWritable(dst_); !s.ok()) return s;
  }
  const std::string dir = DirName(dst_.path);
  RemoveLeftoversSaying(dir, o_.verbose ? console_.err : nullptr);
  src_st_ = st;
  setup->left.clear();
  if (src_.size > 0) setup->left.push_back(ByteRange{0, src_.size});
  if (ResumeWanted(o_, src_.size) && src_.size > 0) {
    if (Status s = OpenResumable(dir, setup); !s.ok()) return s;
  } else {
    DiscardEarlier(dir);
  }
  if (!partial_ || !partial_->resumed) {
    if (Status s = CheckFreeSpace(RealSysCalls(), dir, dst_.display, src_.size); !s.ok()) {
      return s;
    }
    if (!partial_) {
      if (Status s = TempFile::Create(dir, dst_.display, &temp_); !s.ok()) return s;
    }
    if (Status s = SizeNewFile(RealSysCalls(), temp_.fd(), src_.size, {ByteRange{0, src_.size}},
                               true, dst_.display);
        !s.ok()) {
      return s;
    }
  }
  if (partial_) {
    if (Status s = StartPartial(RealSysCalls(), spec_, temp_, &*partial_); !s.ok()) return s;
  }
  setup->resumable = partial_.has_value();
  setup->temp = temp_.path();
  setup->display = dst_.display;
  setup->machine = world_.machine();
  setup->size = src_.size;
  setup->mtime_sec = st.st_mtim.tv_sec;
  setup->mtime_nsec = st.st_mtim.tv_nsec;
  return signals_.Poll() != 0
             ? Status::Interrupted(signals_.terminating_signal(), "DEST left untouched")
             : Status();
}

Status RankCopy::OpenResumable(const std::string& dir, CopySetup* setup) {
  spec_ = PartialSpec{dir, BaseName(dst_.path), dst_.display, src_st_,
                      static_cast<uint32_t>(o_.sparse)};
  partial_.emplace();
  std::string notice;
  if (Status s = OpenPartial(RealSysCalls(), spec_, &setup->left, &temp_, &*partial_, &notice);
      !s.ok()) {
    // Where locks are missing, a copy that did not ask to resume is made as before.
    if (!partial_->no_locks || o_.resume == ResumeMode::kAlways) return s;
    if (o_.verbose) fprintf(console_.err, "pcopy-mpi: not resumable: %s\n", s.ToString().c_str());
    partial_.reset();
    return {};
  }
  if (!notice.empty() && !o_.quiet) {
    fprintf(console_.err, "pcopy-mpi: not resuming the partial copy of %s: %s; starting afresh\n",
            Quote(dst_.display).c_str(), notice.c_str());
  }
  if (partial_->resumed) {
    setup->before = partial_->durable_bytes;
    if (o_.verbose) {
      fprintf(console_.err, "pcopy-mpi: resuming %s -> %s: %s of %s already durable\n",
              Quote(o_.source).c_str(), Quote(dst_.display).c_str(),
              FormatBytes(partial_->durable_bytes).c_str(),
              FormatBytes(partial_->data_bytes).c_str());
    }
  }
  return {};
}

void RankCopy::DiscardEarlier(const std::string& dir) {
  std::string told;
  if (DiscardPartial(RealSysCalls(), dir, BaseName(dst_.path), dst_.display, &told).ok() &&
      !told.empty() && !o_.quiet) {
    fprintf(console_.err, "pcopy-mpi: %s: this copy does not resume (see --resume)\n",
            told.c_str());
  }
}

Status RankCopy::OpenFiles(const CopySetup& setup) {
  src_fd_ = UniqueFd(open(o_.source.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!src_fd_.valid()) {
    return Status::FromErrno("cannot open", o_.source, errno).WithTail("for reading");
  }
  struct stat st;
  if (fstat(src_fd_.get(), &st) != 0) return Status::FromErrno("cannot stat", o_.source, errno);
  if (static_cast<uint64_t>(st.st_size) != setup.size || st.st_mtim.tv_sec != setup.mtime_sec ||
      st.st_mtim.tv_nsec != setup.mtime_nsec) {
    return Status::Failure("cannot copy", o_.source,
                           "this rank sees another file than rank 0 (a changed SOURCE, or not a "
                           "shared file system)");
  }
  dst_fd_ = UniqueFd(open(setup.temp.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!dst_fd_.valid()) return Status::FromErrno("cannot open", setup.temp, errno);
  display_ = setup.display;
  if (o_.method == Method::kSendfile || o_.method == Method::kDirect) {
    return Status::Message("pcopy-mpi copies with pread, copy_file_range or mmap; --method " +
                           std::string(MethodName(o_.method)) + " is pcopy's alone");
  }
  method_ = ChooseMethod(o_, RealSysCalls(), src_fd_.get(), dst_fd_.get(),
                         world_.rank() == 0 && o_.verbose ? console_.err : nullptr,
                         "pcopy-mpi's ranks do not tune it");
  if (method_ == Method::kAuto) method_ = Method::kPread;
  return {};
}

// This rank's units: its own (static plans) or the next of the shared cursor (dynamic, guided),
// one unit at a time, until none is left, a terminating signal arrives, or a rank stops the job.
// The plan of the bytes left to copy, for every worker of the job: with -j K rank r's workers are
// the plan's workers r*K .. r*K+K-1, so a static plan gives each of them its own part.
void RankCopy::Plan(const CopySetup& setup) {
  const size_t k = workers_ == nullptr ? 1 : workers_->size();
  list_ = MakeWorkList(MakeExtentPlan(setup.left, setup.size,
                                      static_cast<unsigned>(static_cast<size_t>(world_.size()) * k),
                                      o_.chunk_size, o_.strategy));
  // A resumable copy records whole units: none longer than a chunk, so that an interrupted run
  // keeps all but its last chunk per worker (a static plan's one unit per worker would keep none).
  if (setup.resumable) list_ = SplitUnits(list_, o_.chunk_size);
  const WorkList& list = list_;
  for (size_t r = 0; r < static_cast<size_t>(world_.size()); ++r) {
    uint64_t planned = 0;
    for (size_t w = r * k; w < (r + 1) * k && w < list.workers; ++w) {
      planned += list.PlannedBytes(w);
    }
    planned_.push_back(planned);
  }
}

Status RankCopy::CopyUnits() {
  const size_t k = workers_ == nullptr ? 1 : workers_->size();
  const WorkList& list = list_;
  std::vector<size_t> next(k), end(k);
  for (size_t w = 0; w < k; ++w) {
    const size_t p = static_cast<size_t>(world_.rank()) * k + w;
    next[w] = list.shared() || p >= list.workers ? 0 : list.first[p];
    end[w] = list.shared() ? list.units.size() : p >= list.workers ? 0 : list.first[p + 1];
  }
  // The next unit of this rank's worker w; list.units.size() when it has none left.
  const auto take = [&](size_t w) -> size_t {
    const size_t u = list.shared() ? static_cast<size_t>(board_->TakeUnit()) : next[w]++;
    return u < end[w] ? u : list.units.size();
  };
  if (workers_ != nullptr) return CopyOnWorkers(list, take);
  std::vector<char> storage(o_.buffer_size + kDirectAlignment);
  const auto aligned = (reinterpret_cast<uintptr_t>(storage.data()) + kDirectAlignment - 1) &
                       ~(kDirectAlignment - 1);
  CopyEnv env;
  env.sys = &RealSysCalls();
  env.src_fd = src_fd_.get();
  env.dst_fd = dst_fd_.get();
  env.buffer = std::span<char>(reinterpret_cast<char*>(aligned), o_.buffer_size);
  env.max_step = std::max<uint64_t>(o_.chunk_size, o_.buffer_size);
  TransferState state;
  state.method = method_;
  pacer_ = std::make_unique<Pacer>(o_.bwlimit, world_.rank() == 0 ? o_.slow_worker : 1.0);
  for (;;) {
    if (signals_.Poll() != 0) {
      return Status::Interrupted(signals_.terminating_signal(), "DEST left untouched");
    }
    if (board_->Stopped()) {
      stopped_ = true;
      return {};
    }
    const size_t u = take(0);
    if (u >= list.units.size()) return {};
    const WorkUnit& unit = list.units[u];
    if (IoError e = CopyRange(env, &state, unit.offset, unit.length, *this); !e.ok()) {
      return ToStatus(e, o_.source, display_);
    }
    if (Status s = Finished(u); !s.ok()) return s;
  }
}

Status RankCopy::Finished(size_t unit) {
  if (!durable_) return {};
  durable_->Finished(unit);
  SyncDurable();
  return durable_error_;
}

void RankCopy::SyncDurable() {
  if (durable_ && durable_error_.ok()) durable_error_ = durable_->Sync(false);
}

void RankCopy::Abandon() {
  if (durable_ && dst_fd_.valid()) (void)durable_->Sync(true);  // kept, for the next run
  if (world_.rank() == 0 && !partial_) temp_ = TempFile();
}

void RankCopy::RecordJournal(bool final) {
  if (!journal_ || !journal_error_.ok()) return;
  journal_error_ = journal_->Record(final);
}

// -j K: this rank's units go to its forked workers as chunk tasks (worker_chunks.h); --bwlimit
// is the rank's, shared among them.
Status RankCopy::CopyOnWorkers(const WorkList& list, const std::function<size_t(size_t)>& next) {
  TreeWorkerConfig config;
  config.sys = &RealSysCalls();
  config.env = CurrentMetadataEnv();
  config.method = method_;
  config.buffer_size = o_.buffer_size;
  config.fsync = o_.fsync;  // each chunk's writeback started at once; Flush syncs the file
  if (o_.bwlimit != 0) config.bwlimit = std::max<uint64_t>(o_.bwlimit / workers_->size(), 1);
  ChunkFeed feed;
  feed.list = &list;
  feed.next = next;
  feed.shared = list.shared();
  feed.src_fd = src_fd_.get();
  feed.dst_fd = dst_fd_.get();
  feed.src_display = o_.source;
  feed.dst_display = display_;
  feed.finished = [this](size_t unit) { return Finished(unit); };
  return CopyChunksOnWorkers(
      *workers_, config, feed, signals_, kPublishEvery,
      [this](uint64_t bytes) {
        done_ = bytes;  // paced by the workers themselves
        Tick(false);
        return board_->Stopped();
      },
      &stopped_);
}

// --fsync (and --verify, which reads the copy back from storage): each rank makes its own writes
// durable (on a shared file system only the writer's client can flush them), and closes the
// temporary, whose close reports a write that failed late (NFS).
Status RankCopy::Flush() {
  if ((o_.fsync || o_.verify) && fdatasync(dst_fd_.get()) != 0) {
    const int err = errno;
    if (durable_) durable_->Failed();  // a second fdatasync would not report the lost write
    return Status::FromErrno("fsync", display_, err);
  }
  if (durable_) {
    if (Status s = durable_->Sync(true, o_.fsync || o_.verify); !s.ok()) return s;
  }
  if (close(dst_fd_.release()) != 0 && errno != EINTR) {
    return Status::FromErrno("close", display_, errno);
  }
  return {};
}

// Each piece that lands: paced, published to the board at most every kPublishEvery, and on rank
// 0 drawn.
void RankCopy::Add(uint64_t bytes) {
  done_ += bytes;
  pacer_->Account(bytes);
  Tick(false);
}

void RankCopy::Tick(bool force) {
  const auto now = Clock::now();
  if (force || now - last_publish_ >= kPublishEvery) {
    last_publish_ = now;
    board_->Publish(done_, RankState::kCopying);
  }
  SyncDurable();  // also while a long unit is copied: the units before it are marked
  if (world_.rank() == 0) {
    RecordJournal(false);
    temp_.KeepAlive(BoardBytes());
  }
  if (world_.rank() != 0 || view_ == nullptr || (!force && now - last_tick_ < kTick)) return;
  last_tick_ = now;
  board_->Read(&bytes_, &states_);
  view_->OnProgress(Snapshot());
}

// Every rank's bytes as the board last told them, and rank 0's own since.
uint64_t RankCopy::BoardBytes() const {
  uint64_t sum = done_;
  for (uint64_t b : bytes_) sum += b;
  return sum;
}

ProgressSnapshot RankCopy::Snapshot() const {
  ProgressSnapshot s;
  s.total = list_.bytes;
  s.before = before_;
  s.done = bytes_;
  s.planned = planned_;
  s.elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  s.files_total = 1;
  uint64_t sum = 0;
  for (uint64_t b : bytes_) sum += b;
  s.files_done = sum == list_.bytes ? 1 : 0;
  for (RankState st : states_) s.current.push_back(st == RankState::kCopying ? o_.source : "");
  return s;
}

// Rank 0, its own units done: draws the progress until every rank has said it is done or
// failed. A signal meanwhile removes the temporary at once and stops the others.
Status RankCopy::WaitForRanks() {
  Status interrupted;
  for (;;) {
    board_->Read(&bytes_, &states_);
    if (std::none_of(states_.begin(), states_.end(),
                     [](RankState s) { return s == RankState::kCopying; })) {
      return interrupted;
    }
    if (signals_.Poll() != 0 && interrupted.ok()) {
      interrupted = Status::Interrupted(signals_.terminating_signal(), "DEST left untouched");
      if (!partial_) temp_ = TempFile();
      board_->Stop();
    }
    RecordJournal(false);
    temp_.KeepAlive(BoardBytes());
    if (view_ != nullptr && Clock::now() - last_tick_ >= kTick) {
      last_tick_ = Clock::now();
      view_->OnProgress(Snapshot());
    }
    usleep(static_cast<useconds_t>(std::chrono::microseconds(kPoll).count()));
  }
}

CopyOutcome RunMpiCopy(const Options& o, SignalGuard& signals, const Console& console,
                       const MpiWorld& world, TaskPool* workers) {
  return RunGuarded([&] { return RankCopy(o, signals, console, world, workers).Run(); });
}

}  // namespace pcopy
