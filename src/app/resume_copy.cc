#include "app/resume_copy.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "base/program_name.h"
#include "base/size_parse.h"
#include "os/data_extents.h"
#include "os/destination.h"
#include "os/leftovers.h"
#include "os/remove_tree.h"
#include "plan/extent_plan.h"

namespace pcopy {
namespace {

std::string PathIn(const std::string& dir, const std::string& name) { return dir + "/" + name; }

bool Exists(const SysCalls& sys, const std::string& path) {
  struct stat st;
  return sys.fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// The earlier partial copy, if the journal trusts it and it is still the file the journal names,
// of SOURCE's size: adopted into *temp.
JournalVerdict AdoptTrusted(const SysCalls& sys, const PartialSpec& spec, const PartialNames& names,
                            PartialCopy* out, TempFile* temp) {
  FileIdentity named;
  const JournalKey key = KeyOf(spec.source, spec.dest_name, spec.layout);
  JournalVerdict verdict = out->journal.Load(key, &named, &out->durable);
  if (verdict != JournalVerdict::kTrusted) return verdict;
  if (!TempFile::Adopt(spec.dir, names.data, spec.display, temp, sys).ok()) {
    return JournalVerdict::kDamaged;
  }
  struct stat st;
  if (temp->identity() != named || sys.fstat(temp->fd(), &st) != 0 ||
      st.st_size != spec.source.st_size) {
    temp->Keep();  // not ours to unlink through this object: the caller removes it by name
    *temp = TempFile();
    return JournalVerdict::kDamaged;
  }
  out->grid = key.grid;
  return JournalVerdict::kTrusted;
}

// Forwards every call to the view it owns, with the resumed bytes set.
class ResumedProgress final : public ProgressObserver {
 public:
  ResumedProgress(std::unique_ptr<ProgressObserver> inner, uint64_t before)
      : inner_(std::move(inner)), before_(before) {}
  void OnProgress(const ProgressSnapshot& s) override { inner_->OnProgress(With(s)); }
  void OnFinish(const ProgressSnapshot& s, bool ok) override { inner_->OnFinish(With(s), ok); }
  void BeforeMessage() override { inner_->BeforeMessage(); }
  void OnStepCut() override { inner_->OnStepCut(); }
  void OnPhase(const char* phase, uint64_t done, uint64_t total) override {
    inner_->OnPhase(phase, done, total);
  }

 private:
  ProgressSnapshot With(ProgressSnapshot s) const {
    s.before = before_;
    return s;
  }

  std::unique_ptr<ProgressObserver> inner_;
  uint64_t before_;
};

}  // namespace

std::unique_ptr<ProgressObserver> WithResumed(std::unique_ptr<ProgressObserver> view,
                                              const PartialCopy* partial) {
  if (view == nullptr || partial == nullptr || !partial->resumed) return view;
  return std::make_unique<ResumedProgress>(std::move(view), partial->durable_bytes);
}

bool ResumeWanted(const Options& o, uint64_t data) {
  switch (o.resume) {
    case ResumeMode::kAlways:
      return true;
    case ResumeMode::kNever:
      return false;
    default:
      return o.fsync && data >= kAutoResumeBytes;
  }
}

Status OpenPartial(const SysCalls& sys, const PartialSpec& spec, std::vector<ByteRange>* extents,
                   TempFile* temp, PartialCopy* out, std::string* notice) {
  notice->clear();
  const PartialNames names = PartialNamesFor(spec.dest_name);
  ResumeJournal::Trouble trouble;
  if (Status s = ResumeJournal::Open(PathIn(spec.dir, names.journal), spec.display, &out->journal,
                                     &trouble, sys);
      !s.ok()) {
    out->no_locks = trouble == ResumeJournal::Trouble::kUnsupported;
    return s;
  }
  const std::string data_path = PathIn(spec.dir, names.data);
  const bool had_data = Exists(sys, data_path);
  const JournalVerdict verdict =
      had_data ? AdoptTrusted(sys, spec, names, out, temp) : JournalVerdict::kNew;
  const uint64_t size = static_cast<uint64_t>(spec.source.st_size);
  out->needed = AlignExtents(*extents, size);
  const std::vector<ByteRange>& needed = out->needed;
  out->data_bytes = TotalBytes(needed);
  if (verdict == JournalVerdict::kTrusted) {
    out->resumed = true;
    out->durable_bytes = BytesInBlocks(needed, out->grid, out->durable);
    *extents = WithoutBlocks(needed, out->grid, out->durable);
    return {};
  }
  // A journal without its partial copy was left by a run that published DEST and stopped before
  // removing the journal: nothing to tell.
  if (had_data) *notice = Describe(verdict);
  if (had_data && sys.unlinkat(AT_FDCWD, data_path.c_str(), 0) != 0 && errno != ENOENT) {
    return Status::FromErrno("cannot remove the partial copy", data_path, errno);
  }
  out->grid = GridFor(size);
  out->durable = BlockBitmap(out->grid.count());
  return TempFile::CreateNamed(spec.dir, names.data, spec.display, temp, sys);
}

Status StartPartial(const SysCalls& sys, const PartialSpec& spec, const TempFile& temp,
                    PartialCopy* partial) {
  if (!partial->resumed) {
    const JournalKey key = KeyOf(spec.source, spec.dest_name, spec.layout);
    if (Status s = partial->journal.Reset(key, temp.identity()); !s.ok()) return s;
    if (Status s = SyncDirectory(sys, spec.dir); !s.ok()) return s;
  }
  partial->checkpoint = std::make_unique<JournalCheckpoint>(
      sys, temp.fd(), spec.display, &partial->journal, partial->grid, partial->durable);
  return {};
}

// The hidden tree that an interrupted tree copy to DEST kept (tree/tree_copy.h), if any.
Status DiscardTree(const SysCalls& sys, const std::string& dir, const std::string& name,
                   const std::string& display, std::string* told) {
  if (!Exists(sys, PathIn(dir, name))) return {};
  UniqueFd parent(sys.openat(AT_FDCWD, dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
  UniqueFd tree(parent.valid() ? sys.openat(parent.get(), name.c_str(),
                                            O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0)
                               : -1);
  if (!tree.valid()) return {};
  if (sys.flock(tree.get(), LOCK_EX | LOCK_NB) != 0) {
    return Status::Message("cannot remove the partial tree of " + Quote(display) +
                           ": another pcopy is copying to it");
  }
  if (Status s = RemoveTree(sys, parent.get(), name, PathIn(dir, name)); !s.ok()) return s;
  *told = "removed the partial tree of " + Quote(display) + " that an interrupted run kept";
  return {};
}

Status DiscardPartial(const SysCalls& sys, const std::string& dir, const std::string& dest_name,
                      const std::string& display, std::string* told) {
  told->clear();
  const PartialNames names = PartialNamesFor(dest_name);
  if (Status s = DiscardTree(sys, dir, names.tree, display, told); !s.ok() || !told->empty()) {
    return s;
  }
  const std::string journal_path = PathIn(dir, names.journal);
  const std::string data_path = PathIn(dir, names.data);
  if (!Exists(sys, journal_path) && !Exists(sys, data_path)) return {};
  ResumeJournal journal;
  ResumeJournal::Trouble trouble;
  if (Status s = ResumeJournal::Open(journal_path, display, &journal, &trouble, sys); !s.ok()) {
    if (trouble != ResumeJournal::Trouble::kBusy) return s;
    return Status::Message("cannot remove the partial copy of " + Quote(display) +
                           ": another pcopy is copying to it");
  }
  const bool had_data = sys.unlinkat(AT_FDCWD, data_path.c_str(), 0) == 0;
  if (!had_data && errno != ENOENT) {
    return Status::FromErrno("cannot remove the partial copy", data_path, errno);
  }
  journal.Remove();
  if (had_data)
    *told = "removed the partial copy of " + Quote(display) + " that an interrupted run kept";
  return {};
}

std::string EndPartial(PartialCopy* partial, TempFile* temp, bool keep,
                       const std::string& display) {
  const uint64_t durable = partial->checkpoint ? BytesInBlocks(partial->needed, partial->grid,
                                                               partial->checkpoint->durable())
                                               : 0;
  if (!keep || durable == 0) {
    partial->journal.Remove();
    return "";  // the temporary's owner unlinks it
  }
  temp->Keep();
  return "kept " + FormatBytes(durable) + " of " + FormatBytes(partial->data_bytes) +
         " durable for " + Quote(display) + ": the same command resumes, --discard-partial removes";
}

CopyOutcome RunDiscardPartial(const Options& o, const Console& console, const SysCalls& sys) {
  return RunGuarded([&] {
    Destination dst;
    if (Status s = ResolveDestination(o.source, o.dest, &dst, sys); !s.ok()) {
      return CopyOutcome{std::move(s), kExitFailure, {}};
    }
    std::string told;
    if (Status s = DiscardPartial(sys, DirName(dst.path), BaseName(dst.path), dst.display, &told);
        !s.ok()) {
      return CopyOutcome{std::move(s), kExitFailure, {}};
    }
    if (!o.quiet) {
      fprintf(console.err, "%s: %s\n", ProgramName(),
              told.empty() ? ("no partial copy of " + Quote(dst.display) + " to remove").c_str()
                           : told.c_str());
    }
    return CopyOutcome{};
  });
}

}  // namespace pcopy
