#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <new>

#include "app/copy_verbose.h"
#include "app/digest_list.h"
#include "app/progress_choice.h"
#include "app/share_check.h"
#include "base/size_parse.h"
#include "exec/entry_copy.h"
#include "mpi/rank_copy.h"
#include "os/file_ref.h"
#include "os/metadata.h"

namespace pcopy {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

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
RankCopy::Verdict RankCopy::Check(const CopySetup& setup) {
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
  if (mine.signal() != 0 && world_.rank() == 0 && !partial_) temp_ = TempFile();  // at once
  Verdict v = Judge(mine, world_.Gather(world_.host() + "\n" + OutcomeOf(mine, false)));
  distrusted_ = !v.status.ok() && v.signal == 0;  // a copy that fails its check is not kept
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
// otherwise the error, the other failed ranks' as notes, and the temporary removed (a resumable
// copy's partial copy kept when any of it is durable, with the line that says so).
CopyOutcome RankCopy::Conclude(Verdict verdict) {
  Status s = verdict.status.ok() ? Commit() : verdict.status;
  if (verdict.status.ok() && !s.ok()) distrusted_ = true;
  const int signal = verdict.signal;
  const std::vector<std::string>& errors = verdict.errors;
  board_->Read(&bytes_, &states_);
  if (view_ != nullptr) {
    ProgressSnapshot snapshot = Snapshot();
    snapshot.outcome = s.ok() ? "copied" : signal != 0 ? "interrupted" : "failed";
    view_->OnFinish(snapshot, s.ok());
  }
  if (!s.ok()) {
    std::string kept;
    if (partial_) {
      RecordJournal(true);  // every rank has marked what it made durable
      kept = EndPartial(&*partial_, &temp_, signal != 0 || !distrusted_, dst_.display);
    }
    temp_ = TempFile();  // unlinked, unless EndPartial kept it
    CopyOutcome failed{s, signal != 0 ? ExitCodeForSignal(signal) : kExitFailure, {}};
    for (size_t i = signal != 0 ? 0 : 1; i < errors.size(); ++i) {
      failed.report.notes.push_back(errors[i]);
    }
    if (!kept.empty()) failed.report.notes.push_back(kept);
    return failed;
  }
  if (partial_) partial_->journal.Remove();
  if (o_.print_digest && !lost_race_) {
    fprintf(console_.out, "%s\n", DigestLine(digest_, dst_.display).c_str());
  }
  if (o_.verbose && o_.verify) {
    fprintf(console_.err,
            "pcopy-mpi: verified against %s: XXH3-128 by 1 MiB, DEST read back from storage by "
            "%d rank%s%s\n",
            Quote(o_.source).c_str(), world_.size(), world_.size() == 1 ? "" : "s",
            recopied_ == 0 ? "" : (", " + std::to_string(recopied_) + " MiB copied again").c_str());
  }
  // -v's summary, and the same line after progress shown, as pcopy prints it.
  if (o_.verbose || ShowsProgress(o_, console_)) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    const unsigned k = workers_ == nullptr ? 1 : static_cast<unsigned>(workers_->size());
    // A resumed copy: what this run copied, and its rate, beside what was already durable.
    const std::string resumed = before_ == 0 ? std::string()
                                             : " (" + FormatBytes(list_.bytes) + " of data now, " +
                                                   FormatBytes(before_) + " resumed)";
    if (o_.verbose && !lost_race_)
      fprintf(console_.out, "%s -> %s\n", Quote(o_.source).c_str(), Quote(dst_.path).c_str());
    fprintf(console_.err, "pcopy-mpi: copied %s%s in %.3f s (%s) with %s\n",
            FormatBytes(src_.size).c_str(), resumed.c_str(), seconds,
            FormatRate(seconds > 0 ? static_cast<double>(list_.bytes) / seconds : 0).c_str(),
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

}  // namespace pcopy
