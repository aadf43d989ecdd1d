#include "mpi/mpi_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <new>
#include <vector>

#include "app/copy_job.h"
#include "app/copy_verbose.h"
#include "app/digest_list.h"
#include "app/method_choice.h"
#include "app/share_check.h"
#include "base/size_parse.h"
#include "base/wire.h"
#include "copy/io_error.h"
#include "copy/pacer.h"
#include "copy/range_copy.h"
#include "copy/transfer_methods.h"
#include "exec/entry_copy.h"
#include "mpi/worker_chunks.h"
#include "os/destination.h"
#include "os/file_ref.h"
#include "os/leftovers.h"
#include "os/metadata.h"
#include "os/new_file.h"
#include "os/source_file.h"
#include "os/temp_file.h"
#include "plan/work_list.h"

namespace pcopy {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPublishEvery = std::chrono::milliseconds(50);
constexpr auto kTick = std::chrono::milliseconds(100);
// How often rank 0, its own units done, looks at the board: the job's end is seen this soon.
constexpr auto kPoll = std::chrono::milliseconds(5);

// What rank 0 tells every rank before the copy: the temporary to write, and the SOURCE it sized
// (a rank that opens another file, or one that changed since, must not copy into it).
struct Setup {
  std::string error;  // not empty: rank 0 failed before the copy began (it reports why)
  int exit_code = kExitOk;
  std::string temp;
  std::string display;  // DEST as rank 0 names it in messages
  uint64_t size = 0;
  int64_t mtime_sec = 0, mtime_nsec = 0;
  bool kept = false;  // -n or -u keeps the existing DEST: nothing to copy
};

std::string Encode(const Setup& s) {
  WireWriter w;
  w.PutString(s.error);
  w.Put(static_cast<int32_t>(s.exit_code));
  w.PutString(s.temp);
  w.PutString(s.display);
  w.Put(s.size);
  w.Put(s.mtime_sec);
  w.Put(s.mtime_nsec);
  w.Put(s.kept);
  const std::vector<char> bytes = w.Take();
  return std::string(bytes.begin(), bytes.end());
}

Setup Decode(const std::string& in) {
  Setup s;
  const std::vector<char> bytes(in.begin(), in.end());
  WireReader r(bytes);
  int32_t code = 0;
  if (!r.GetString(&s.error) || !r.Get(&code) || !r.GetString(&s.temp) ||
      !r.GetString(&s.display) || !r.Get(&s.size) || !r.Get(&s.mtime_sec) ||
      !r.Get(&s.mtime_nsec) || !r.Get(&s.kept) || !r.AtEnd()) {
    s = Setup();
    s.error = "the job's setup message is damaged";
    s.exit_code = kExitFailure;
    return s;
  }
  s.exit_code = code;
  return s;
}

// A rank's outcome as rank 0 gathers it, after its host and a newline: "" (copied its units), "T"
// (stopped by another rank's error or signal), "S<signal>", or "E" and the one-line error.
std::string OutcomeOf(const Status& s, bool stopped) {
  // Appended rather than "S" + ...: GCC 12 warns falsely (-Wrestrict) on that once inlined here.
  std::string out;
  if (s.signal() != 0) {
    out.append("S").append(std::to_string(s.signal()));
  } else if (!s.ok()) {
    out.append("E").append(s.ToString());
  } else if (stopped) {
    out.append("T");
  }
  return out;
}

class RankCopy final : public ProgressSink {
 public:
  RankCopy(const Options& o, SignalGuard& signals, const Console& console, const MpiWorld& world,
           TaskPool* workers)
      : o_(o), signals_(signals), console_(console), world_(world), workers_(workers) {}

  CopyOutcome Run() {
    Setup setup;
    if (world_.rank() == 0) {
      if (Status s = Prepare(&setup); !s.ok()) {
        setup.error = s.ToString();
        setup.exit_code = s.signal() != 0 ? ExitCodeForSignal(s.signal()) : kExitFailure;
      }
    }
    setup = Decode(world_.Broadcast(world_.rank() == 0 ? Encode(setup) : std::string()));
    if (!setup.error.empty() || setup.kept) {
      const int code = world_.BroadcastInt(setup.exit_code);
      if (setup.kept && world_.rank() == 0 && o_.verbose) {
        fprintf(console_.out, "pcopy-mpi: not replacing %s\n", Quote(dst_.path).c_str());
      }
      if (world_.rank() != 0 || setup.kept) return CopyOutcome{Status(), code, {}};
      return CopyOutcome{setup.exit_code >= 128
                             ? Status::Interrupted(code - 128, "DEST left untouched")
                             : Status::Message(setup.error),
                         code,
                         {}};
    }
    MpiBoard board(world_);
    board_ = &board;
    start_ = Clock::now();
    if (world_.rank() == 0) view_ = MakeProgress(o_, console_);
    Status mine = OpenFiles(setup);
    if (mine.ok()) mine = CopyUnits(setup.size);
    if (mine.ok()) mine = Flush();
    if (!mine.ok()) board.Stop();
    // Never published, even if the job hangs from here on (a dead rank).
    if ((!mine.ok() || stopped_) && world_.rank() == 0) temp_ = TempFile();
    board.Publish(done_, mine.ok() && !stopped_ ? RankState::kDone : RankState::kFailed);
    if (world_.rank() == 0) {
      if (Status waited = WaitForRanks(); mine.ok()) mine = waited;
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

 private:
  // Rank 0, before any rank copies: pcopy's checks, then the temporary, sized and allocated.
  Status Prepare(Setup* setup) {
    if (Status s = OpenSource(o_.source, &src_); !s.ok()) return s;
    struct stat st;
    if (fstat(src_.fd.get(), &st) != 0) return Status::FromErrno("cannot stat", o_.source, errno);
    if (src_.kind != SourceKind::kRegular) {
      return Status::Failure("cannot copy", o_.source,
                             "pcopy-mpi copies regular files (use pcopy for a device)");
    }
    if (Status s = ResolveDestination(o_.source, o_.dest, &dst_); !s.ok()) return s;
    if (dst_.exists && dst_.dev == src_.dev && dst_.ino == src_.ino) {
      return Status::Message(Quote(o_.source) + " and " + Quote(dst_.display) +
                             " are the same file");
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
    RemoveLeftovers(dir);
    if (Status s = CheckFreeSpace(RealSysCalls(), dir, dst_.display, src_.size); !s.ok()) return s;
    if (Status s = TempFile::Create(dir, dst_.display, &temp_); !s.ok()) return s;
    if (Status s = SizeNewFile(RealSysCalls(), temp_.fd(), src_.size, {ByteRange{0, src_.size}},
                               true, dst_.display);
        !s.ok()) {
      return s;
    }
    src_st_ = st;
    setup->temp = temp_.path();
    setup->display = dst_.display;
    setup->size = src_.size;
    setup->mtime_sec = st.st_mtim.tv_sec;
    setup->mtime_nsec = st.st_mtim.tv_nsec;
    return signals_.Poll() != 0
               ? Status::Interrupted(signals_.terminating_signal(), "DEST left untouched")
               : Status();
  }

  // Every rank opens SOURCE and the temporary by name, as a rank on another node must.
  Status OpenFiles(const Setup& setup) {
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
                           world_.rank() == 0 && o_.verbose ? console_.out : nullptr,
                           "pcopy-mpi's ranks do not tune it");
    if (method_ == Method::kAuto) method_ = Method::kPread;
    return {};
  }

  Status CopyUnits(uint64_t size);
  Status CopyOnWorkers(const WorkList& list, const std::function<size_t(size_t)>& next);
  Status Flush();
  void Add(uint64_t bytes) override;
  void Tick(bool force);
  Status WaitForRanks();
  ProgressSnapshot Snapshot() const;
  // Rank 0: what every rank's outcome adds up to (other ranks: nothing).
  struct Verdict {
    Status status;
    int signal = 0;
    std::vector<std::string> errors;  // "rank R on HOST: ..." for each rank that failed
  };
  Verdict Judge(const Status& mine, const std::vector<std::string>& outcomes) const;
  Verdict Check(const Setup& setup);
  CopyOutcome Conclude(Verdict verdict);
  Status Commit();

  const Options& o_;
  SignalGuard& signals_;
  const Console& console_;
  const MpiWorld& world_;
  TaskPool* workers_;  // -j K: this rank's forked workers (rank_workers.h); null: copies itself
  MpiBoard* board_ = nullptr;
  // Rank 0 only: SOURCE as it sized it, DEST, the temporary, the progress view.
  SourceFile src_;
  struct stat src_st_ {};
  Destination dst_;
  TempFile temp_;
  std::unique_ptr<ProgressObserver> view_;
  std::vector<uint64_t> bytes_;
  std::vector<RankState> states_;
  std::vector<uint64_t> planned_;
  // Every rank.
  UniqueFd src_fd_, dst_fd_;
  std::string display_;
  Method method_ = Method::kPread;
  std::unique_ptr<Pacer> pacer_;
  uint64_t done_ = 0;
  bool stopped_ = false;
  std::string digest_;  // rank 0, after Check: the tree digest (SOURCE's under --verify)
  uint64_t recopied_ = 0;
  bool lost_race_ = false;
  Clock::time_point start_, last_publish_, last_tick_;
};

// This rank's units: its own (static plans) or the next of the shared cursor (dynamic, guided),
// one unit at a time, until none is left, a terminating signal arrives, or a rank stops the job.
Status RankCopy::CopyUnits(uint64_t size) {
  // With -j K the plan is for every worker of the job: rank r's workers are the plan's workers
  // r*K .. r*K+K-1, so a static plan gives each of them its own part.
  const size_t k = workers_ == nullptr ? 1 : workers_->size();
  const CopyPlan plan =
      MakePlan(size, static_cast<unsigned>(static_cast<size_t>(world_.size()) * k), o_.chunk_size,
               o_.strategy);
  const WorkList list = MakeWorkList(plan);
  for (size_t r = 0; r < static_cast<size_t>(world_.size()); ++r) {
    uint64_t planned = 0;
    for (size_t w = r * k; w < (r + 1) * k && w < list.workers; ++w) {
      planned += list.PlannedBytes(w);
    }
    planned_.push_back(planned);
  }
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
  }
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
    return Status::FromErrno("fsync", display_, errno);
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
  if (world_.rank() != 0 || view_ == nullptr || (!force && now - last_tick_ < kTick)) return;
  last_tick_ = now;
  board_->Read(&bytes_, &states_);
  view_->OnProgress(Snapshot());
}

ProgressSnapshot RankCopy::Snapshot() const {
  ProgressSnapshot s;
  s.total = src_.size;
  s.done = bytes_;
  s.planned = planned_;
  s.elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  s.files_total = 1;
  uint64_t sum = 0;
  for (uint64_t b : bytes_) sum += b;
  s.files_done = sum == src_.size ? 1 : 0;
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
      temp_ = TempFile();
      board_->Stop();
    }
    if (view_ != nullptr && Clock::now() - last_tick_ >= kTick) {
      last_tick_ = Clock::now();
      view_->OnProgress(Snapshot());
    }
    usleep(static_cast<useconds_t>(std::chrono::microseconds(kPoll).count()));
  }
}

// Rank 0, every rank's outcome in hand: the first failed rank's error (with its rank and host),
// the others' kept as notes; a signal any rank took; or success.
RankCopy::Verdict RankCopy::Judge(const Status& mine,
                                  const std::vector<std::string>& outcomes) const {
  Verdict v;
  if (world_.rank() != 0) return v;
  v.signal = mine.signal();
  bool stopped = false;
  for (size_t r = 0; r < outcomes.size(); ++r) {
    const size_t newline = outcomes[r].find('\n');
    const std::string host = outcomes[r].substr(0, newline);
    const std::string o = newline == std::string::npos ? "" : outcomes[r].substr(newline + 1);
    stopped = stopped || o == "T";
    if (o.empty() || o == "T") continue;
    if (o[0] == 'S') {
      if (v.signal == 0) v.signal = std::stoi(o.substr(1));
      continue;
    }
    v.errors.push_back("rank " + std::to_string(r) + " on " + host + ": " + o.substr(1));
  }
  if (v.signal != 0) {
    v.status = Status::Interrupted(v.signal, "DEST left untouched");
  } else if (!v.errors.empty()) {
    v.status = Status::Message(v.errors.front());
  } else if (stopped) {
    v.status = Status::Message("a rank stopped the copy without saying why");
  }
  return v;
}

// Every rank, the copy complete: its share of --verify or --print-digest (app/share_check.h); rank
// 0 joins the shares into the tree digest.
RankCopy::Verdict RankCopy::Check(const Setup& setup) {
  Options o = o_;
  o.dest = display_;
  std::vector<Digest128> digests;
  uint64_t recopied = 0;
  // Out of memory here must not skip the collectives below: the other ranks wait in them.
  Status mine;
  try {
    mine = CheckShare(o, src_fd_.get(), setup.temp, setup.size, world_.rank(), world_.size(),
                      signals_, &digests, &recopied);
  } catch (const std::bad_alloc&) {
    mine = Status::Message("out of memory");
    digests.clear();
  }
  if (mine.signal() != 0 && world_.rank() == 0) temp_ = TempFile();  // before any wait
  Verdict v = Judge(mine, world_.Gather(world_.host() + "\n" + OutcomeOf(mine, false)));
  const std::vector<std::string> shares = world_.Gather(EncodeShare(digests, recopied));
  if (world_.rank() != 0 || !v.status.ok()) return v;
  try {
    if (!JoinShares(shares, &digests, &recopied_)) {
      v.status = Status::Message("a rank's digests arrived damaged");
      return v;
    }
    digest_ = TreeDigest(digests);
  } catch (const std::bad_alloc&) {
    v.status = Status::Message("out of memory");
  }
  return v;
}

// Rank 0, the verdict in hand: DEST published if every rank copied (and checked) its part;
// otherwise the error, the other failed ranks' as notes, and the temporary removed.
CopyOutcome RankCopy::Conclude(Verdict verdict) {
  Status s = verdict.status.ok() ? Commit() : verdict.status;
  const int signal = verdict.signal;
  const std::vector<std::string>& errors = verdict.errors;
  board_->Read(&bytes_, &states_);
  if (view_ != nullptr) {
    ProgressSnapshot snapshot = Snapshot();
    snapshot.outcome = s.ok() ? "copied" : signal != 0 ? "interrupted" : "failed";
    view_->OnFinish(snapshot, s.ok());
  }
  if (!s.ok()) {
    temp_ = TempFile();
    CopyOutcome failed{s, signal != 0 ? ExitCodeForSignal(signal) : kExitFailure, {}};
    for (size_t i = signal != 0 ? 0 : 1; i < errors.size(); ++i) {
      failed.report.notes.push_back(errors[i]);
    }
    return failed;
  }
  if (o_.print_digest && !lost_race_) {
    fprintf(console_.out, "%s\n", DigestLine(digest_, dst_.display).c_str());
  }
  if (o_.verbose && o_.verify) {
    fprintf(console_.out,
            "pcopy-mpi: verified against %s: XXH3-128 by 1 MiB, DEST read back from storage by "
            "%d rank%s%s\n",
            Quote(o_.source).c_str(), world_.size(), world_.size() == 1 ? "" : "s",
            recopied_ == 0 ? "" : (", " + std::to_string(recopied_) + " MiB copied again").c_str());
  }
  if (o_.verbose) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    const unsigned k = workers_ == nullptr ? 1 : static_cast<unsigned>(workers_->size());
    fprintf(console_.out, "pcopy-mpi: copied %s in %.3f s (%s) with %s\n",
            FormatBytes(src_.size).c_str(), seconds,
            FormatRate(seconds > 0 ? static_cast<double>(src_.size) / seconds : 0).c_str(),
            WorkersPhrase(static_cast<size_t>(world_.size()) * k, true, k).c_str());
  }
  return CopyOutcome{};
}

// The temporary, complete on every rank, becomes DEST: metadata, then one rename (and, with
// --fsync, the directory synced), as pcopy publishes.
Status RankCopy::Commit() {
  CommitOptions commit;
  commit.mode = src_.mode & 0777 & ~CurrentMetadataEnv().umask;
  if (PreservesAny(o_.preserve)) {
    if (Status s = ApplyMetadata(RealSysCalls(), FileRef::Open(src_.fd.get(), o_.source), src_st_,
                                 FileRef::Open(temp_.fd(), dst_.display), o_.preserve,
                                 CurrentMetadataEnv());
        !s.ok()) {
      return s;
    }
    struct stat st;
    if (fstat(temp_.fd(), &st) != 0) return Status::FromErrno("cannot stat", dst_.display, errno);
    commit.mode = st.st_mode & 07777;
  }
  commit.fsync = o_.fsync;
  commit.no_replace = o_.no_clobber;
  bool existed = false;
  if (Status s = temp_.Commit(dst_.path, commit, &existed); !s.ok() && !existed) return s;
  lost_race_ = existed;  // -n: a DEST that appeared meanwhile was kept; its digest is unknown
  return {};
}

}  // namespace

CopyOutcome RunMpiCopy(const Options& o, SignalGuard& signals, const Console& console,
                       const MpiWorld& world, TaskPool* workers) {
  return RunGuarded([&] { return RankCopy(o, signals, console, world, workers).Run(); });
}

}  // namespace pcopy
