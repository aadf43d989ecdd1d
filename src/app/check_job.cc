#include "app/check_job.h"

#include <algorithm>

#include "app/in_process.h"
#include "copy/digest.h"
#include "exec/parallel_digest.h"
#include "os/source_file.h"

namespace pcopy {
namespace {

struct Opened {
  UniqueFd fd;
  uint64_t size = 0;
};

Status OpenForReading(const std::string& path, Opened* out) {
  SourceFile f;
  if (Status s = OpenSource(path, &f, SourceUse::kCompare); !s.ok()) return s;
  out->fd = std::move(f.fd);
  out->size = f.size;
  return {};
}

// A failed step: trouble (exit_code), or stopped by a signal (128 + N).
CopyOutcome Trouble(Status s, int exit_code, const char* unfinished) {
  if (s.signal() != 0) {
    return {Status::Interrupted(s.signal(), unfinished), ExitCodeForSignal(s.signal()), {}};
  }
  return {std::move(s), exit_code, {}};
}

// Compares two files of known, non-zero sizes by leaf digests on `jobs` workers (0: in this
// process), then byte by byte within the first leaf that differs. Output as CompareToEnd's.
Status CompareByLeaves(const DigestInput& a, const DigestInput& b, uint64_t size_a, uint64_t size_b,
                       unsigned jobs, SignalGuard& signals, bool* found, uint64_t* where,
                       bool* one_ended) {
  const uint64_t common = std::min(size_a, size_b);
  LeafReport report;
  if (Status s = DigestLeaves(a, b, common, jobs, {}, &report, &signals); !s.ok()) return s;
  bool in_leaf = false;
  *where = common;
  if (!report.differing.empty()) {
    const uint64_t offset = report.differing.front() * kLeafSize;
    if (Status s =
            FirstDifference(a, b, offset, std::min(kLeafSize, common - offset), &in_leaf, where);
        !s.ok()) {
      return s;
    }
  }
  *one_ended = !in_leaf && size_a != size_b;
  *found = in_leaf || *one_ended;
  return {};
}

CopyOutcome Compare(const Options& o, SignalGuard& signals, const Console& console) {
  Opened a, b;
  if (Status s = OpenForReading(o.source, &a); !s.ok()) return {s, kCompareTrouble, {}};
  if (Status s = OpenForReading(o.dest, &b); !s.ok()) return {s, kCompareTrouble, {}};
  const DigestInput da{a.fd.get(), o.source}, db{b.fd.get(), o.dest};
  bool found = false, one_ended = false;
  uint64_t where = 0;
  // A size of 0 may be unknown (procfs, sysfs): then both are read to the end, in order, as cmp
  // reads them.
  if (Status s =
          a.size == 0 || b.size == 0
              ? CompareToEnd(da, db, &found, &where, &one_ended, &signals)
              : CompareByLeaves(da, db, a.size, b.size, WorkersFor(o, std::min(a.size, b.size)),
                                signals, &found, &where, &one_ended);
      !s.ok()) {
    return Trouble(s, kCompareTrouble, "the files were not compared");
  }
  if (!found) {
    if (o.verbose) {
      fprintf(console.out, "%s and %s are identical (%llu bytes)\n", Quote(o.source).c_str(),
              Quote(o.dest).c_str(), static_cast<unsigned long long>(where));
    }
    return {};
  }
  if (!o.quiet) {
    fprintf(console.out, "%s %s differ: first difference at byte offset %llu%s\n",
            Quote(o.source).c_str(), Quote(o.dest).c_str(), static_cast<unsigned long long>(where),
            one_ended ? " (one file is shorter)" : "");
  }
  return {{}, kCompareDifferent, {}};
}

}  // namespace

CopyOutcome RunCompare(const Options& o, SignalGuard& signals, const Console& console) {
  CopyOutcome outcome = RunGuarded([&] { return Compare(o, signals, console); });
  // Trouble, as cmp's exit 2, whatever went wrong (a signal keeps its 128 + N).
  if (!outcome.status.ok() && outcome.status.signal() == 0) outcome.exit_code = kCompareTrouble;
  return outcome;
}

}  // namespace pcopy
