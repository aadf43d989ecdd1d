#include "app/copy_job.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

#include "app/copy_verbose.h"
#include "app/device_dest.h"
#include "app/digest_list.h"
#include "app/in_process.h"
#include "app/method_choice.h"
#include "app/progress_view.h"
#include "app/read_to_end.h"
#include "app/resume_copy.h"
#include "app/verify_copy.h"
#include "base/program_name.h"
#include "base/size_parse.h"
#include "copy/digest.h"
#include "copy/io.h"
#include "copy/reflink.h"
#include "exec/entry_copy.h"
#include "exec/fork_executor.h"
#include "exec/in_process_executor.h"
#include "exec/parallel_digest.h"
#include "os/data_extents.h"
#include "os/destination.h"
#include "os/file_ref.h"
#include "os/leftovers.h"
#include "os/metadata.h"
#include "os/new_file.h"
#include "os/page_cache.h"
#include "os/source_file.h"
#include "os/stepped_sync.h"
#include "os/temp_file.h"
#include "plan/extent_plan.h"
#include "plan/plan.h"
#include "plan/work_list.h"

namespace pcopy {
namespace {

CopyOutcome Interrupted(int signal) {
  return CopyOutcome{
      Status::Interrupted(signal, "DEST left untouched"), ExitCodeForSignal(signal), {}};
}

// A status from a step that waited through the guard may say a signal stopped it.
CopyOutcome Failed(Status status) {
  if (status.signal() != 0) return Interrupted(status.signal());
  return CopyOutcome{std::move(status), kExitFailure, {}};
}

// --print-digest without --verify: the digest of what was written, read from the temporary
// before it is published (a failure or a signal then leaves DEST as it was).
Status DigestCopy(const Options& o, int fd, uint64_t size, SignalGuard* signals,
                  PhaseObserver* phases, std::string* digest) {
  LeafReport leaves;
  if (Status s = DigestLeaves({fd, o.dest}, {}, size, WorkersFor(o, size), {}, &leaves, signals,
                              {phases, "digesting"});
      !s.ok()) {
    return s;
  }
  *digest = TreeDigest(leaves.digests);
  return {};
}

// One copy, step by step. Each step returns a Status; one that carries a signal (it waited
// through the guard) becomes exit 128 + N. Members hold what the steps pass on; the temporary is
// removed by its destructor on every path that does not commit it.
class CopyRun {
 public:
  CopyRun(const Options& o, SignalGuard& signals, const Console& console, const SysCalls& sys)
      : o_(o), signals_(signals), console_(console), sys_(sys) {}

  CopyOutcome Run() {
    Status s = Resolve();
    if (s.ok() && !outcome_.report.skipped) s = Prepare();
    if (s.ok() && !outcome_.report.skipped) {
      // One view for the copy and the steps after it (the sync, the verification).
      view_ = WithTick(WithResumed(MakeProgress(o_, console_), partial_ ? &*partial_ : nullptr),
                       [this](const ProgressSnapshot& p) { temp_.KeepAlive(p.done_total()); });
      start_ = std::chrono::steady_clock::now();
      in_place_ = dst_.block_device;
      s = clone_.cloned ? Cloned() : src_.size == 0 ? CopyToEndOnce() : CopyWithWorkers();
      if (s.ok()) {
        s = Publish();
        distrusted_ = !s.ok() && s.signal() == 0;
      }
    }
    if (!s.ok()) {
      if (view_) view_->OnStepCut();  // a step's bar, cut short, keeps its last frame
      if (in_place_) return PartlyWrittenFailure(std::move(s));
      // A resumable copy keeps what it made durable, unless its verification or publication
      // failed: then none of it is trusted.
      const std::string kept =
          partial_ ? EndPartial(&*partial_, &temp_, s.signal() != 0 || !distrusted_, dst_.display)
                   : "";
      CopyOutcome failed = Failed(std::move(s));
      if (!kept.empty()) failed.report.notes.push_back(kept);
      return failed;
    }
    Report();
    return std::move(outcome_);
  }

 private:
  Status Interruption() const {
    return Status::Interrupted(signals_.terminating_signal(), "DEST left untouched");
  }

  // A device written in place and not to the end: no temporary hid the bytes already written.
  CopyOutcome PartlyWrittenFailure(Status s) const {
    if (s.signal() != 0) {
      return CopyOutcome{
          Status::Interrupted(s.signal(), PartlyWritten(dst_)), ExitCodeForSignal(s.signal()), {}};
    }
    CopyOutcome failed = Failed(std::move(s));
    failed.report.notes.push_back(PartlyWritten(dst_));
    return failed;
  }

  // Where the bytes go: the temporary, or the device written in place.
  int OutFd() const { return in_place_ ? device_.fd.get() : temp_.fd(); }

  // SOURCE opened and sized, DEST resolved by cp's rules; the refusals that come before anything
  // is created. -n with an existing DEST ends the run here, successfully.
  Status Resolve() {
    const bool from_stdin = o_.source == "-";
    if (Status s = from_stdin ? OpenStandardInput(&src_, sys_)
                              : OpenSource(o_.source, &src_, SourceUse::kCopy, sys_);
        !s.ok()) {
      return s;
    }
    if (Status s = ResolveDestination(o_.source, o_.dest, &dst_, sys_, /*devices=*/true); !s.ok()) {
      return s;
    }
    // A directory as DEST would be given SOURCE's name: standard input has none to give.
    if (from_stdin && dst_.display != o_.dest) {
      return Status::Message("cannot copy standard input into directory " + Quote(o_.dest) +
                             ": name the file to create");
    }
    if (dst_.exists && dst_.dev == src_.dev && dst_.ino == src_.ino) {
      return Status::Message(Quote(o_.source) + " and " + Quote(dst_.display) +
                             " are the same file");
    }
    outcome_.report.dest_path = dst_.path;
    if (sys_.fstat(src_.fd.get(), &src_st_) != 0) {
      return Status::FromErrno("cannot stat", o_.source, errno);
    }
    // -u: an existing DEST as new as SOURCE is kept, as cp -u keeps it.
    if (dst_.exists && CheckExisting(sys_, AT_FDCWD, dst_.path.c_str(), src_st_, o_.no_clobber,
                                     o_.update) == Existing::kKeep) {
      outcome_.report.skipped = true;
      if (o_.verbose)
        fprintf(console_.err, "%s: not replacing %s\n", ProgramName(), Quote(dst_.path).c_str());
      return {};
    }
    // After -n and -u, which keep a device as they keep a file.
    if (dst_.block_device) {
      if (Status s = CheckDeviceDest(o_, dst_, src_st_); !s.ok()) return s;
    }
    if (!o_.force) {
      if (Status s = CheckWritable(dst_); !s.ok()) return s;
    }
    return signals_.Poll() != 0 ? Interruption() : Status{};
  }

  // Leftovers removed, SOURCE's data mapped (--sparse), room checked for that data, the
  // temporary created, then cloned (--reflink) or sized and, where the copy writes every byte of
  // the data, allocated. A clone takes no room: --reflink=always checks none.
  Status Prepare() {
    if (dst_.block_device) {
      return PrepareDeviceDest(o_, sys_, src_, dst_, &device_, &extents_);
    }
    const std::string dir = DirName(dst_.path);
    RemoveLeftoversSaying(dir, o_.verbose ? console_.err : nullptr, sys_);
    if (Status s = SourceExtents(sys_, src_.fd.get(), src_.size, o_.sparse, o_.source, &extents_);
        !s.ok()) {
      return s;
    }
    const uint64_t data = TotalBytes(extents_);
    // Copies made here (WorkersFor: small ones) and clones are too quick to be worth resuming.
    if (src_.kind == SourceKind::kRegular && src_.size > 0 && WorkersFor(o_, data) != 0 &&
        o_.reflink != ReflinkMode::kAlways && ResumeWanted(o_, data)) {
      if (Status s = OpenResumable(dir); !s.ok()) return s;
      if (partial_ && partial_->resumed) return {};
    } else {
      DiscardEarlier(dir);
    }
    const bool writes = WritesEveryByte(o_, sys_, src_.fd.get(), dir);
    if (writes && o_.reflink != ReflinkMode::kAlways) {
      if (Status s = CheckFreeSpace(sys_, dir, dst_.display, TotalBytes(extents_)); !s.ok()) {
        return s;
      }
    }
    if (!partial_) {
      if (Status s = TempFile::Create(dir, dst_.display, &temp_, sys_); !s.ok()) return s;
    }
    // Standard input is read from where it stands; a clone would take the whole file.
    const ReflinkMode reflink = src_.kind == SourceKind::kStream ? ReflinkMode::kNever : o_.reflink;
    if (Status s = CloneIfAsked(sys_, reflink, src_.fd.get(), temp_.fd(), o_.source, dst_.display,
                                &clone_);
        !s.ok() || clone_.cloned) {
      return s;
    }
    if (clone_.declined != 0 && o_.verbose) {
      fprintf(console_.err, "%s: reflink auto: FICLONE declined (%s): copying the data\n",
              ProgramName(), strerror(clone_.declined));
    }
    const bool reserve = writes && o_.sparse != SparseMode::kAlways;
    if (Status s = SizeNewFile(sys_, temp_.fd(), src_.size, extents_, reserve, dst_.display);
        !s.ok()) {
      return s;
    }
    return partial_ ? StartPartial(sys_, spec_, temp_, &*partial_) : Status{};
  }

  // The partial copy an earlier run kept is adopted (extents_ becomes what is left to copy, the
  // journal's checkpoint is started) or, not trusted, replaced by a new one, said on stderr.
  Status OpenResumable(const std::string& dir) {
    spec_ = PartialSpec{dir, BaseName(dst_.path), dst_.display, src_st_,
                        static_cast<uint32_t>(o_.sparse)};
    partial_.emplace();
    std::string notice;
    if (Status s = OpenPartial(sys_, spec_, &extents_, &temp_, &*partial_, &notice); !s.ok()) {
      // Where locks are missing, a copy that did not ask to resume is made as before.
      if (!partial_->no_locks || o_.resume == ResumeMode::kAlways) return s;
      if (o_.verbose)
        fprintf(console_.err, "%s: not resumable: %s\n", ProgramName(), s.ToString().c_str());
      partial_.reset();
      return {};
    }
    if (!notice.empty() && !o_.quiet) {
      fprintf(console_.err, "%s: not resuming the partial copy of %s: %s; starting afresh\n",
              ProgramName(), Quote(dst_.display).c_str(), notice.c_str());
    }
    if (!partial_->resumed) return {};
    if (o_.verbose) {
      fprintf(console_.err, "%s: resuming %s -> %s: %s of %s already durable\n", ProgramName(),
              Quote(o_.source).c_str(), Quote(dst_.display).c_str(),
              FormatBytes(partial_->durable_bytes).c_str(),
              FormatBytes(partial_->data_bytes).c_str());
    }
    return StartPartial(sys_, spec_, temp_, &*partial_);
  }

  // A copy that does not resume removes the partial copy an earlier run of it kept, unless a
  // running pcopy holds it.
  void DiscardEarlier(const std::string& dir) {
    std::string told;
    if (DiscardPartial(sys_, dir, BaseName(dst_.path), dst_.display, &told).ok() && !told.empty() &&
        !o_.quiet) {
      fprintf(console_.err, "%s: %s: this copy does not resume (see --resume)\n", ProgramName(),
              told.c_str());
    }
  }

  // DEST is already a clone of SOURCE (FICLONE): nothing to copy; --verify still reads it back.
  Status Cloned() {
    outcome_.report.bytes = src_.size;
    outcome_.report.method = "FICLONE (a reflink: DEST shares SOURCE's extents)";
    return o_.verify ? Verify() : Status{};
  }

  // A source whose size is unknown (procfs, sysfs) or 0: read once, to its end, by this process.
  Status CopyToEndOnce() {
    if (Status s = CopyReadToEnd(o_, sys_, src_, OutFd(), signals_, console_.err, &outcome_.report,
                                 view_.get());
        !s.ok()) {
      return s;
    }
    data_bytes_ = outcome_.report.bytes;
    return {};
  }

  // Without workers (WorkersFor: a small copy), the plan is made for one worker, and this
  // process is that worker.
  Status CopyWithWorkers() {
    const unsigned workers = WorkersFor(o_, TotalBytes(extents_));
    const bool here = workers == 0;
    const CopyPlan plan =
        MakeExtentPlan(extents_, src_.size, here ? 1 : workers, o_.chunk_size, o_.strategy);
    // Whether SOURCE is cached decides the workers' read-ahead and write-size tuning; a copy made
    // here has too few chunks for either, so it asks only to tell -v (one system call less).
    std::optional<CacheShare> cached;
    if (src_.kind == SourceKind::kRegular && (!here || o_.verbose)) {
      cached = CachedShare(sys_, src_.fd.get(), src_.size);
    }
    if (o_.verbose) {
      // A resumed copy's extents are what is left; its SOURCE's data is what it had.
      PrintSparse(console_.err, partial_ && partial_->resumed ? partial_->needed : extents_,
                  src_.size);
      PrintCacheShare(console_.err, cached, ReadAhead(cached, plan.size, here));
      PrintPlan(console_.err, plan);
      if (here) PrintInProcess(console_.err, plan.size);
    }
    const ExecConfig config = Config(cached, plan.size, here);
    ForkExecutor forked;
    InProcessExecutor in_process;
    Executor& executor = here ? static_cast<Executor&>(in_process) : forked;
    ExecResult r = executor.Run(MakeWorkList(plan), config, signals_, view_.get());
    if (r.signal != 0) return Status::Interrupted(r.signal, "DEST left untouched");
    if (!r.status.ok()) return r.status;
    if (Status s = CheckSourceSize(); !s.ok()) return s;
    outcome_.report.bytes = src_.size;
    data_bytes_ = plan.size;
    outcome_.report.workers = here ? 0 : plan.workers.size();
    outcome_.report.method = !plan.workers.empty()           ? DescribeMethod(r, o_.buffer_size)
                             : partial_ && partial_->resumed ? "none (all of it was durable)"
                                                             : "none (SOURCE is all holes)";
    outcome_.report.retried = r.retried;
    write_sizes_ = r.write_sizes;
    return o_.verify ? Verify() : Status{};
  }

  uint64_t ReadAhead(const std::optional<CacheShare>& cached, uint64_t data, bool here) const {
    return here ? 0 : ColdReadAhead(o_, CachedFraction(cached, data));
  }

  ExecConfig Config(const std::optional<CacheShare>& cached, uint64_t data, bool here) const {
    // A copy this process makes alone has too few chunks to time: its writes keep their size.
    const char* untuned = here && TunesWriteSize(o_)
                              ? "too small to tune, copied by this process"
                              : UntunedBecause(o_, CachedFraction(cached, data), data);
    ExecConfig config;
    config.sys = &sys_;
    config.files.push_back(
        ExecFile{o_.source, in_place_ ? dst_.path : temp_.path(), o_.source, o_.dest,
                 FileIdentity{src_.dev, src_.ino},
                 in_place_ ? FileIdentity{dst_.dev, dst_.ino} : temp_.identity()});
    config.method = ChooseMethod(o_, sys_, src_.fd.get(), OutFd(),
                                 o_.verbose ? console_.err : nullptr, untuned);
    config.buffer_size = o_.buffer_size;
    config.tune_write_size =
        config.method == Method::kPread && TunesWriteSize(o_) && untuned == nullptr;
    config.max_write_size = kMaxTunedWriteSize;
    config.large_write_budget = kLargeWriteBudget;
    config.read_ahead = ReadAhead(cached, data, here);
    config.bwlimit = o_.bwlimit;
    config.slow_factor = o_.slow_worker;
    config.skip_zero_blocks = o_.sparse == SparseMode::kAlways && !in_place_;
    // --verify reads the copy back from storage: its writeback overlaps the copy as for --fsync.
    config.durable = o_.fsync || o_.verify;
    config.retries = o_.retries;
    config.stall_timeout = o_.stall_timeout;
    config.checkpoint = partial_ && partial_->checkpoint ? partial_->checkpoint.get() : nullptr;
    return config;
  }

  // A source truncated during the copy can still let every read succeed (a shrink and regrow,
  // or the zero-filled tail of a mapped page): its size is checked once more before publishing.
  // A source that grew is copied as it was when opened (its first src.size bytes): the copy is
  // a consistent prefix, and the user is told, since cp would have read on to the end.
  Status CheckSourceSize() const {
    struct stat now;
    if (src_.kind != SourceKind::kRegular || sys_.fstat(src_.fd.get(), &now) != 0) return {};
    const auto size_now = static_cast<uint64_t>(now.st_size);
    if (size_now < src_.size) return ToStatus(SourceChanged(size_now), o_.source, o_.dest);
    if (size_now > src_.size && !o_.quiet) {
      fprintf(console_.err, "%s: warning: %s grew during the copy; copied its first %llu bytes\n",
              ProgramName(), Quote(o_.source).c_str(), static_cast<unsigned long long>(src_.size));
    }
    return {};
  }

  Status Verify() {
    uint64_t recopied = 0;
    if (Status s = VerifyCopy(o_, src_, OutFd(), &recopied, &outcome_.report.digest, sys_,
                              &signals_, view_.get());
        !s.ok()) {
      distrusted_ = s.signal() == 0;
      return s;
    }
    written_back_ = true;  // each read-back begins with a sync, of leaves copied again too
    if (o_.verbose) {
      fprintf(console_.err,
              "%s: verified against %s: XXH3-128 by 1 MiB, DEST read back from storage%s\n",
              ProgramName(), Quote(o_.source).c_str(),
              recopied == 0 ? "" : (", " + std::to_string(recopied) + " MiB copied again").c_str());
    }
    return {};
  }

  // The digest (--print-digest), the data made durable (--fsync), then the one rename.
  Status Publish() {
    if (o_.print_digest && outcome_.report.digest.empty()) {
      if (Status s = DigestCopy(o_, OutFd(), outcome_.report.bytes, &signals_, view_.get(),
                                &outcome_.report.digest);
          !s.ok()) {
        return s;
      }
    }
    // With --fsync, the data is written out in steps that take signals (unless --verify's did);
    // Commit's fsync then has little left to wait for.
    if (o_.fsync && !written_back_) {
      if (Status s =
              SyncInSteps(sys_, OutFd(), o_.dest, outcome_.report.bytes, &signals_, view_.get());
          !s.ok()) {
        return s;
      }
    }
    if (signals_.Poll() != 0) return Interruption();
    if (in_place_) return Published();  // a device has no name to publish
    CommitOptions commit;
    commit.mode = src_.mode & 0777 & ~CurrentMetadataEnv().umask;
    if (Status s = Preserve(&commit.mode); !s.ok()) return s;
    commit.fsync = o_.fsync;
    commit.no_replace = o_.no_clobber;
    bool existed = false;
    if (Status s = temp_.Commit(dst_.path, commit, &existed); !s.ok()) {
      if (!existed) return s;
      outcome_.report.skipped = true;  // -n: DEST appeared during the copy; it wins
    }
    if (partial_) partial_->journal.Remove();
    return Published();
  }

  Status Published() {
    outcome_.report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return {};
  }

  // -p and --preserve: SOURCE's owner, xattrs, ACLs, mode and times on the temporary before it
  // appears; the commit then keeps the mode this gave it.
  Status Preserve(mode_t* mode) {
    if (!PreservesAny(o_.preserve)) return {};
    if (Status s = ApplyMetadata(sys_, FileRef::Open(src_.fd.get(), o_.source), src_st_,
                                 FileRef::Open(temp_.fd(), dst_.display), o_.preserve,
                                 CurrentMetadataEnv());
        !s.ok()) {
      return s;
    }
    struct stat st;
    if (sys_.fstat(temp_.fd(), &st) != 0)
      return Status::FromErrno("cannot stat", dst_.display, errno);
    *mode = st.st_mode & 07777;
    return {};
  }

  void Report() const {
    const CopyReport& r = outcome_.report;
    // A DEST that appeared during the copy and won (-n) is not the file digested.
    if (o_.print_digest && !r.skipped && !r.digest.empty()) {
      fprintf(console_.out, "%s\n", DigestLine(r.digest, dst_.display).c_str());
    }
    // The copy is complete, but a replaced worker is worth knowing about (a flaky disk, the OOM
    // killer): said on stderr unless -q, like cp's warnings.
    if (!o_.quiet) {
      for (const std::string& line : r.retried) {
        fprintf(console_.err, "%s: retried: %s\n", ProgramName(), line.c_str());
      }
    }
    // cp -v's 'a' -> 'b' on stdout; the summary on stderr with -v, and after progress shown
    // (app/progress_choice.h ShowsProgress), so that the bar's last frame is not the last word.
    const bool after_progress = !o_.verbose && ShowsProgress(o_, console_);
    if ((!o_.verbose && !after_progress) || (r.skipped && r.seconds == 0)) return;
    if (o_.verbose) {
      fprintf(console_.out, "%s -> %s\n", Quote(o_.source).c_str(), Quote(r.dest_path).c_str());
    }
    fprintf(console_.err, "%s: %s\n", ProgramName(), CopiedLine().c_str());
    if (o_.verbose && !clone_.cloned)
      PrintWriteSizes(console_.err, write_sizes_, kLargeWriteBudget);
  }

  std::string CopiedLine() const {
    CopiedFacts facts;
    facts.data_bytes = data_bytes_;
    facts.resumed = partial_ && partial_->resumed;
    facts.resumed_bytes = facts.resumed ? partial_->durable_bytes : 0;
    facts.cloned = clone_.cloned;
    facts.fsync = o_.fsync;
    facts.verified = o_.verify;
    facts.in_place = in_place_;
    return DescribeCopied(outcome_.report, facts);
  }

  const Options& o_;
  SignalGuard& signals_;
  const Console& console_;
  const SysCalls& sys_;
  SourceFile src_;
  struct stat src_st_ {};
  Destination dst_;
  // Before temp_: the temporary goes first, then the journal's lock.
  std::optional<PartialCopy> partial_;  // a resumable copy's journal and what it holds
  PartialSpec spec_;
  TempFile temp_;
  bool distrusted_ = false;         // verification or publication failed: keep no partial copy
  bool written_back_ = false;       // --verify synced the copy before reading it back
  std::vector<ByteRange> extents_;  // SOURCE's bytes to copy: its data, or all of it
  std::vector<WriteSizeReport> write_sizes_;  // what each worker's write size tuner did
  CloneResult clone_;
  DeviceDest device_;        // a block device DEST, opened O_EXCL (os/block_device.h)
  bool in_place_ = false;    // the copy has begun writing to device_
  uint64_t data_bytes_ = 0;  // the bytes the workers copied: report.bytes less the holes
  CopyOutcome outcome_;
  std::chrono::steady_clock::time_point start_;
  // After temp_, which its tick keeps alive: the view goes first.
  std::unique_ptr<ProgressObserver> view_;
};

}  // namespace

CopyOutcome RunCopy(const Options& o, SignalGuard& signals, const Console& console,
                    const SysCalls& sys) {
  return RunGuarded([&] { return CopyRun(o, signals, console, sys).Run(); });
}

}  // namespace pcopy
