#include "app/tree_job.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "app/copy_job.h"
#include "app/copy_verbose.h"
#include "app/method_choice.h"
#include "app/progress_view.h"
#include "app/stdout_copy.h"
#include "base/program_name.h"
#include "base/size_parse.h"
#include "base/unique_fd.h"
#include "copy/reflink.h"
#include "exec/tree_task.h"
#include "os/temp_file.h"
#include "tree/tree_copy.h"

namespace pcopy {
namespace {

// Whether a SOURCE named on the command line is opened through a symlink: always with -L and
// -H, never with -P, and by default only without -r (cp's rules).
bool FollowOperand(const Options& o) {
  switch (o.dereference) {
    case Dereference::kAlways:
    case Dereference::kCommandLine:
      return true;
    case Dereference::kNever:
      return false;
    case Dereference::kDefault:
      return !o.recursive;
  }
  return true;
}

int StatOperand(const Options& o, const std::string& path, struct stat* st) {
  return FollowOperand(o) ? stat(path.c_str(), st) : lstat(path.c_str(), st);
}

// The canonical form of path's parent joined with its last component: what a directory copy's
// DEST will be, even before it exists.
std::string CanonicalTarget(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(DirName(path).c_str(), resolved) == nullptr) return {};
  return JoinDisplay(resolved, BaseName(path));
}

class CopyCommand {
 public:
  CopyCommand(const Options& o, SignalGuard& signals, const Console& console, const SysCalls& sys,
              TaskRunner* runner = nullptr)
      : o_(o), signals_(signals), console_(console), sys_(sys), runner_(runner) {}

  CopyOutcome Run() {
    if (runner_ != nullptr) return RunTrees();  // the caller copies a single file its own way
    // '-': standard output as DEST, standard input as SOURCE (options.cc: each alone).
    if (o_.dest == "-" && !o_.target_is_directory) {
      return RunCopyToStdout(o_, signals_, console_, sys_);
    }
    if (o_.source == "-") return RunCopy(o_, signals_, console_, sys_);
    struct stat st;
    const bool one = o_.sources.size() == 1 && !o_.target_is_directory;
    if (one && StatOperand(o_, o_.sources[0], &st) != 0)
      return RunCopy(o_, signals_, console_, sys_);
    if (one && SingleFile(st)) {
      struct stat dst;
      if (o_.no_target_directory && stat(o_.dest.c_str(), &dst) == 0 && S_ISDIR(dst.st_mode)) {
        return Failed(Status::Message("cannot overwrite directory " + Quote(o_.dest) +
                                      " with non-directory"));
      }
      return RunCopy(o_, signals_, console_, sys_);
    }
    if (o_.verify || o_.print_digest) {
      return Failed(Status::Message("--verify and --print-digest copy one regular file; " +
                                    Quote(o_.sources[0]) + " is not one"));
    }
    return RunTrees();
  }

 private:
  // Regular files and devices are read by the single-file copy (its plan, --verify); with -r a
  // symlink, FIFO or socket is recreated instead, and a directory needs the tree copy.
  bool SingleFile(const struct stat& st) const {
    if (S_ISDIR(st.st_mode)) return false;
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) {
      return !o_.recursive || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
    }
    return !o_.recursive;
  }

  static CopyOutcome Failed(Status s) {
    const int code = s.signal() != 0 ? ExitCodeForSignal(s.signal()) : kExitFailure;
    return CopyOutcome{std::move(s), code, {}};
  }

  void Error(const Status& s) {
    fprintf(console_.err, "%s: %s\n", ProgramName(), s.ToString().c_str());
    ++errors_;
  }

  CopyOutcome RunTrees() {
    struct stat st;
    const bool dest_dir = stat(o_.dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    const int dest_errno = errno;
    if ((o_.target_is_directory || o_.sources.size() > 1) && !dest_dir) {
      if (access(o_.dest.c_str(), F_OK) != 0) {
        return Failed(Status::FromErrno("target", o_.dest, dest_errno));
      }
      return Failed(Status::Message("target " + Quote(o_.dest) + " is not a directory"));
    }
    std::vector<TreeSource> sources;
    for (const std::string& src : o_.sources) {
      TreeSource s;
      s.src = src;
      s.dst = dest_dir && !o_.no_target_directory ? JoinDisplay(o_.dest, BaseName(src)) : o_.dest;
      s.follow = FollowOperand(o_);
      if (Accept(&s)) {
        sources.push_back(std::move(s));
      } else if (o_.fail_fast) {
        return Failed(Status::Message("stopped at the first error (--fail-fast)"));
      }
    }
    if (Status s = CheckClones(sources); !s.ok()) return Failed(std::move(s));
    if (fflush(console_.err), signals_.Poll() != 0) return Failed(Interrupted());
    return Copy(sources);
  }

  // A directory on SOURCE's file system: SOURCE itself, or the directory holding a file.
  static std::string SourceDirectory(const TreeSource& s) {
    return s.directory ? s.src : DirName(s.src);
  }

  // --reflink=always: a SOURCE whose files could not be cloned where they go fails the copy in
  // one line, before anything is created (CloneRefusal), as a single file's copy does.
  Status CheckClones(const std::vector<TreeSource>& sources) const {
    if (o_.reflink != ReflinkMode::kAlways) return {};
    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    for (const TreeSource& s : sources) {
      UniqueFd src(sys_.open(SourceDirectory(s).c_str(), flags));
      UniqueFd dst(sys_.open(DirName(s.dst).c_str(), flags));
      if (!src.valid() || !dst.valid()) continue;  // the copy itself says why
      if (const int err = CloneRefusal(sys_, src.get(), dst.get()); err != 0) {
        return Status::FromErrno("cannot clone", s.src, err).WithSecondPath(s.dst);
      }
    }
    return {};
  }

  Status Interrupted() const {
    return Status::Interrupted(signals_.terminating_signal(), "a new tree left no trace");
  }

  // cp's checks of one SOURCE: it exists, it is not a directory without -r, and a directory is
  // not copied into itself; a file is not copied onto itself.
  bool Accept(TreeSource* s) {
    struct stat st;
    if (StatOperand(o_, s->src, &st) != 0) {
      Error(Status::FromErrno("cannot stat", s->src, errno));
      return false;
    }
    s->directory = S_ISDIR(st.st_mode);
    if (s->directory && !o_.recursive) {
      Error(Status::Message("-r not specified; omitting directory " + Quote(s->src)));
      return false;
    }
    struct stat dst;
    if (!s->directory) {
      if (stat(s->dst.c_str(), &dst) == 0 && dst.st_dev == st.st_dev && dst.st_ino == st.st_ino) {
        Error(Status::Message(Quote(s->src) + " and " + Quote(s->dst) + " are the same file"));
        return false;
      }
      return true;
    }
    char resolved[PATH_MAX];
    const std::string target = CanonicalTarget(s->dst);
    if (realpath(s->src.c_str(), resolved) != nullptr && !target.empty() &&
        (target == resolved || target.rfind(std::string(resolved) + "/", 0) == 0)) {
      Error(Status::Message("cannot copy a directory, " + Quote(s->src) + ", into itself, " +
                            Quote(s->dst)));
      return false;
    }
    return true;
  }

  TreeOptions Configure(const std::vector<TreeSource>& sources) const {
    TreeOptions t;
    t.worker.sys = &sys_;
    t.worker.buffer_size = o_.buffer_size;
    t.worker.preserve = o_.preserve;
    t.worker.env = CurrentMetadataEnv();
    t.worker.follow_links = o_.dereference == Dereference::kAlways;
    t.worker.no_clobber = o_.no_clobber;
    t.worker.update = o_.update;
    t.worker.fsync = o_.fsync;
    t.worker.sparse = o_.sparse;
    // pcopy-mpi: --bwlimit limits each rank, as a node's link would; o_.jobs is its workers per
    // rank.
    const unsigned jobs = std::max(o_.jobs, 1u);
    t.worker.bwlimit = o_.bwlimit == 0 ? 0 : std::max<uint64_t>(o_.bwlimit / jobs, 1);
    t.worker.method = Method::kPread;
    if (!sources.empty()) {
      // auto is resolved once, for the first SOURCE's file system and DEST's.
      UniqueFd src(open(SourceDirectory(sources[0]).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      UniqueFd dst(open(DirName(sources[0].dst).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      t.worker.method =
          ChooseMethod(o_, sys_, src.get(), dst.get(), o_.verbose ? console_.err : nullptr);
      t.worker.clone_required = o_.reflink == ReflinkMode::kAlways;
      t.worker.clone = t.worker.clone_required || (o_.reflink == ReflinkMode::kAuto &&
                                                   MayShareExtents(sys_, src.get(), dst.get()));
      if (t.worker.method == Method::kAuto) t.worker.method = Method::kPread;
    }
    t.worker.tuning.tune = t.worker.method == Method::kPread && TunesWriteSize(o_);
    t.worker.tuning.min = o_.buffer_size;
    t.worker.tuning.budget = kLargeWriteBudget / std::max(jobs, 1u);
    t.worker.max_write_size = kMaxTunedWriteSize;
    // Only a copy that keeps SOURCE's mtime can be matched by it; any other is compared.
    if (o_.resume == ResumeMode::kAlways) {
      t.worker.resume =
          o_.resume_content || !o_.preserve.timestamps ? ResumeCheck::kContent : ResumeCheck::kTime;
    }
    t.jobs = jobs;
    t.runner = runner_;
    t.named_files = runner_ != nullptr;
    t.retries = o_.retries;
    t.chunk_size = o_.chunk_size;
    t.one_file_system = o_.one_file_system;
    t.fail_fast = o_.fail_fast;
    t.verbose = o_.verbose;
    t.quiet = o_.quiet;
    return t;
  }

  CopyOutcome Copy(const std::vector<TreeSource>& sources) {
    const TreeOptions options = Configure(sources);
    const std::unique_ptr<ProgressObserver> view = MakeProgress(o_, console_);
    TreeReport report;
    Status s = sources.empty() ? Status()
                               : CopyTrees(sources, options, signals_, console_.out, console_.err,
                                           view.get(), &report);
    Summarize(report);
    if (!s.ok()) {
      CopyOutcome failed = Failed(std::move(s));
      failed.report.notes = report.notes;
      return failed;
    }
    const uint64_t errors = errors_ + report.errors;
    if (errors == 0) return CopyOutcome{};
    // One error was the whole story; several get a count, since they may have scrolled away.
    if (errors == 1) return CopyOutcome{Status(), kExitFailure, {}};
    return Failed(Status::Message(std::to_string(errors) + " entries could not be copied"));
  }

  void Summarize(const TreeReport& r) const {
    if (!o_.quiet) {
      for (const std::string& line : r.retried) {
        fprintf(console_.err, "%s: retried: %s\n", ProgramName(), line.c_str());
      }
    }
    // -v's summary, and the same line after progress shown (app/progress_choice.h ShowsProgress):
    // on stderr, as a diagnostic.
    const bool after_progress = !o_.verbose && ShowsProgress(o_, console_);
    if (!o_.verbose && !after_progress) return;
    const std::string methods = DescribeTreeMethods(r.used_methods, r.write_sizes, o_.buffer_size);
    fprintf(
        console_.err,
        "%s: copied %llu file%s and %llu director%s (%s) in %.3f s (%s) with %s%s%s%s\n",
        ProgramName(), static_cast<unsigned long long>(r.files), r.files == 1 ? "" : "s",
        static_cast<unsigned long long>(r.dirs), r.dirs == 1 ? "y" : "ies",
        FormatBytes(r.bytes).c_str(), r.seconds,
        FormatRate(r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds : 0).c_str(),
        WorkersPhrase(r.workers, runner_ != nullptr, o_.jobs).c_str(),
        (r.skipped == 0 ? std::string() : ", " + std::to_string(r.skipped) + " skipped").c_str(),
        methods.empty() ? "" : ", method ", methods.c_str());
    if (!o_.verbose) return;
    if (r.resumed != 0) {
      fprintf(console_.err, "%s: resumed: %s already durable (%llu file%s whole)\n", ProgramName(),
              FormatBytes(r.resumed_bytes).c_str(), static_cast<unsigned long long>(r.resumed),
              r.resumed == 1 ? "" : "s");
    }
    PrintWriteSizes(console_.err, r.write_sizes, kLargeWriteBudget);
  }

  const Options& o_;
  SignalGuard& signals_;
  const Console& console_;
  const SysCalls& sys_;
  TaskRunner* runner_;
  uint64_t errors_ = 0;
};

}  // namespace

CopyOutcome RunCopyCommand(const Options& o, SignalGuard& signals, const Console& console,
                           const SysCalls& sys) {
  return RunGuarded([&] { return CopyCommand(o, signals, console, sys).Run(); });
}

CopyOutcome RunTreeCommand(const Options& o, SignalGuard& signals, const Console& console,
                           TaskRunner* runner) {
  return RunGuarded([&] { return CopyCommand(o, signals, console, RealSysCalls(), runner).Run(); });
}

}  // namespace pcopy
