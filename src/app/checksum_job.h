// checksum_job.h: --checksum FILE... and --check LIST..., the jobs that work like sha256sum and
// sha256sum -c. They read and never write: --checksum prints "DIGEST  NAME" for each FILE
// (digest_list.h), --check reads such lines and digests each NAME again.
//
// A file that cannot be read does not stop them: its one-line error goes to console.err where it
// happens (console.out flushed first), between the lines of the listing, as sha256sum prints it,
// and the exit code is 1 at the end. The outcome's Status is kept for what stops the whole job
// (a terminating signal). --check ends each list with sha256sum's warnings on console.err.
#pragma once

#include <string>

#include "app/options.h"
#include "app/outcome.h"
#include "base/status.h"
#include "os/signal_guard.h"

namespace pcopy {

CopyOutcome RunChecksum(const Options& o, SignalGuard& signals, const Console& console);

// Exit 0 only if every line of every list was well formed and named a readable file whose
// digest matched. -q prints only the failures.
CopyOutcome RunCheck(const Options& o, SignalGuard& signals, const Console& console);

// The digest of the file at path (32 hex digits), as --checksum prints it; "-" is standard
// input, read in order. o.digest chooses it. The tree digest: by leaves on WorkersFor(o, size)
// pool workers (none: by this process, app/in_process.h), or, for a file of one leaf or less or
// whose size is unknown (procfs, sysfs), read once to its end, in order, by this process; all
// give the same digest. xxh128: read in order by this process. A terminating signal taken
// through signals (may be null) stops it: the Status then says so (Status::signal()).
Status DigestFile(const std::string& path, const Options& o, SignalGuard* signals,
                  std::string* digest);

}  // namespace pcopy
