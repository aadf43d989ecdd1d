#include "app/check_job.h"

#include <algorithm>

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
  if (Status s = OpenSource(path, &f); !s.ok()) return s;
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

}  // namespace

CopyOutcome RunCompare(const Options& o, SignalGuard& signals, const Console& console) {
  Opened a, b;
  if (Status s = OpenForReading(o.source, &a); !s.ok()) return {s, kCompareTrouble, {}};
  if (Status s = OpenForReading(o.dest, &b); !s.ok()) return {s, kCompareTrouble, {}};
  const DigestInput da{a.fd.get(), o.source}, db{b.fd.get(), o.dest};
  const uint64_t common = std::min(a.size, b.size);
  LeafReport report;
  if (Status s = DigestLeaves(da, db, common, o.jobs, {}, &report, &signals); !s.ok()) {
    return Trouble(s, kCompareTrouble, "the files were not compared");
  }
  bool found = false;
  uint64_t where = common;
  if (!report.differing.empty()) {
    const uint64_t offset = report.differing.front() * kLeafSize;
    if (Status s =
            FirstDifference(da, db, offset, std::min(kLeafSize, common - offset), &found, &where);
        !s.ok()) {
      return {s, kCompareTrouble, {}};
    }
  }
  if (!found && a.size == b.size) {
    if (o.verbose) {
      fprintf(console.out, "%s and %s are identical (%llu bytes)\n", Quote(o.source).c_str(),
              Quote(o.dest).c_str(), static_cast<unsigned long long>(a.size));
    }
    return {};
  }
  if (!o.quiet) {
    fprintf(console.out, "%s %s differ: first difference at byte offset %llu%s\n",
            Quote(o.source).c_str(), Quote(o.dest).c_str(), static_cast<unsigned long long>(where),
            found ? "" : " (one file is shorter)");
  }
  return {{}, kCompareDifferent, {}};
}

CopyOutcome RunChecksum(const Options& o, SignalGuard& signals, const Console& console) {
  Opened f;
  if (Status s = OpenForReading(o.source, &f); !s.ok()) return {s, kExitFailure, {}};
  LeafReport report;
  if (Status s = DigestLeaves({f.fd.get(), o.source}, {}, f.size, o.jobs, {}, &report, &signals);
      !s.ok()) {
    return Trouble(s, kExitFailure, "no checksum printed");
  }
  fprintf(console.out, "%s  %s\n", TreeDigest(report.digests).c_str(), o.source.c_str());
  return {};
}

}  // namespace pcopy
