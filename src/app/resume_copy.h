// resume_copy.h: a resumable copy seen from the copy job: whether a copy resumes, what an earlier
// run left (checked, then adopted or discarded), the journal started for a fresh partial copy,
// and, at the end, the partial copy kept for the next run or removed.
//
// A copy resumes with --resume, and by default with --fsync when its data is at least
// kAutoResumeBytes: such a copy pays for durability already, and the journal adds about one
// fdatasync a second (README "Resuming"). A copy without --fsync leaves its bytes in the page
// cache, where only a durable copy would make a record trustworthy, so it does not resume unless
// asked. The partial copy and its journal live in DEST's directory (os/leftovers.h
// PartialNamesFor); the journal's lock is held for the whole run. Parent only.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/options.h"
#include "app/outcome.h"
#include "base/status.h"
#include "exec/checkpoint.h"
#include "exec/executor.h"
#include "exec/resume_journal.h"
#include "os/sys_calls.h"
#include "os/temp_file.h"
#include "plan/block_map.h"

namespace pcopy {

inline constexpr uint64_t kAutoResumeBytes = 1ull << 30;

// --resume; or --fsync with at least kAutoResumeBytes of data, unless --no-resume.
bool ResumeWanted(const Options& o, uint64_t data);

struct PartialCopy {
  ResumeJournal journal;
  BlockGrid grid;
  BlockBitmap durable;            // the blocks durable when this run began
  bool resumed = false;           // an earlier run's partial copy was trusted and adopted
  uint64_t durable_bytes = 0;     // the data in those blocks
  uint64_t data_bytes = 0;        // all the data the copy writes, over every run
  std::vector<ByteRange> needed;  // that data, as the plan aligns it
  std::unique_ptr<JournalCheckpoint> checkpoint;  // made by Start
  bool no_locks = false;  // OpenPartial failed: DEST's file system has no flock
};

struct PartialSpec {
  std::string dir;        // DEST's directory
  std::string dest_name;  // DEST's last component
  std::string display;    // DEST as the user named it
  struct stat source {};  // SOURCE as opened
  uint32_t layout = 0;    // the --sparse mode
};

// Locks the journal and looks at what it holds. A trusted partial copy is adopted into *temp and
// *extents becomes what is left to copy; anything else is removed and a new partial copy created
// into *temp (to be sized by the caller, then Start). *notice says why an earlier partial copy
// was not resumed ("" if there was none, or it was left by a finished copy).
Status OpenPartial(const SysCalls& sys, const PartialSpec& spec, std::vector<ByteRange>* extents,
                   TempFile* temp, PartialCopy* out, std::string* notice);

// The journal of a fresh partial copy, started once the copy is sized; both names made durable.
// Then, for either kind, the checkpoint that the workers' run records through.
Status StartPartial(const SysCalls& sys, const PartialSpec& spec, const TempFile& temp,
                    PartialCopy* partial);

// An earlier run's partial copy of DEST, removed because this run does not resume it (or for
// --discard-partial). Returns a line to tell, or "" if there was none; an error if its lock is
// held (a running pcopy's).
Status DiscardPartial(const SysCalls& sys, const std::string& dir, const std::string& dest_name,
                      const std::string& display, std::string* told);

// The end of a run that did not publish: keep the partial copy (a signal, a failure of the copy
// itself: its journal says what is durable) when any of its data is, and return the line that
// says so; otherwise remove both.
std::string EndPartial(PartialCopy* partial, TempFile* temp, bool keep, const std::string& display);

// The view of a resumed copy's progress: its durable data counted as done before the run
// (ProgressSnapshot::before), so the bar shows the whole file. view as it is for any other copy
// (nullptr stays nullptr).
std::unique_ptr<ProgressObserver> WithResumed(std::unique_ptr<ProgressObserver> view,
                                              const PartialCopy* partial);

// pcopy --discard-partial SOURCE DEST: removes the partial copy that copy kept, if any (exit 0
// either way; 1 if a running pcopy holds it or it cannot be removed).
CopyOutcome RunDiscardPartial(const Options& o, const Console& console,
                              const SysCalls& sys = RealSysCalls());

}  // namespace pcopy
