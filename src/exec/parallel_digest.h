// parallel_digest.h: leaf digests of one or two files computed in parallel on a ProcessPool,
// for --verify (the copy compared with its source), --compare A B and --checksum; or, for too
// few bytes to pay for starting a pool (app/in_process.h), by the calling process itself, with
// no fork and no queue in /dev/shm.
//
// Process contract: the pool's workers inherit the open descriptors and read with pread; they
// write nothing. The parent owns the pool and joins it before returning, and waits for it only
// through the caller's SignalGuard (when given): a SIGINT, SIGTERM or SIGHUP ends the digests
// with Status::Interrupted(N), the workers killed and reaped.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "copy/digest.h"
#include "os/phase.h"
#include "os/signal_guard.h"

namespace pcopy {

struct LeafReport {
  std::vector<Digest128> digests;   // of file a, one per leaf asked for, in the order asked
  std::vector<uint64_t> differing;  // leaves where a and b differ (when b was given)
};

// Digests the leaves of a (all of them if `leaves` is empty) of a file of `size` bytes, and
// compares them with b's when b.fd >= 0, on `jobs` worker processes, or in this process when jobs
// is 0 (taking signals between leaves). signals may be null (then nothing interrupts it). report
// is told the bytes of the leaves digested so far, of those asked for.
Status DigestLeaves(const DigestInput& a, const DigestInput& b, uint64_t size, unsigned jobs,
                    const std::vector<uint64_t>& leaves, LeafReport* out,
                    SignalGuard* signals = nullptr, PhaseReport report = {});

}  // namespace pcopy
