// verify_copy.h: --verify, the copy read back from storage and compared with its source before
// it is published. Stands on exec/parallel_digest.h; re-copies a differing leaf once in-process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/options.h"
#include "copy/digest.h"
#include "os/phase.h"
#include "os/signal_guard.h"
#include "os/source_file.h"
#include "os/sys_calls.h"

namespace pcopy {

// --verify: compares the finished temporary with the source, reading the temporary back from
// storage (synced in steps, then POSIX_FADV_DONTNEED drops its cached pages). Leaves that differ
// are copied again once, with pread/pwrite, and checked again; a second difference is an error.
// *recopied counts the leaves copied again; *source_digest is the tree digest of the source.
// Every wait (the sync steps, the digests, the re-copy between leaves) takes signals (may be
// null): a terminating one returns Status::Interrupted(N) at once. phases (may be null) is told
// the sync ("syncing") and the comparison ("verifying") as they go.
Status VerifyCopy(const Options& o, const SourceFile& src, int temp_fd, uint64_t* recopied,
                  std::string* source_digest, const SysCalls& sys, SignalGuard* signals,
                  PhaseObserver* phases = nullptr);

// Makes the next reads of fd come from storage: its dirty pages written (in steps, taking
// signals between them), its clean ones dropped from this machine's cache.
Status DropCachedPages(const SysCalls& sys, int fd, const std::string& name, uint64_t size,
                       SignalGuard* signals, PhaseObserver* phases = nullptr);

// One share of --verify, the temporary's pages already dropped from the cache: the leaves
// `leaves` (every leaf if empty) of the temporary compared with SOURCE's on `jobs` workers (0:
// this process), differing leaves copied again once and checked again, as VerifyCopy does.
// *source_digests: SOURCE's digests of those leaves, in order. pcopy-mpi's ranks each verify a
// share this way (app/share_check.h).
Status VerifyLeaves(const Options& o, int src_fd, uint64_t size, int temp_fd,
                    const std::vector<uint64_t>& leaves, unsigned jobs,
                    std::vector<Digest128>* source_digests, uint64_t* recopied, const SysCalls& sys,
                    SignalGuard* signals, PhaseObserver* phases = nullptr);

// --verify for a source of unknown size, read once to the end (a /proc file would not give the
// same bytes twice): the temporary, read back from storage, is compared with the leaf digests of
// what was read (`read`, from StreamDigests). A difference is an error; nothing is re-copied.
// Signals as VerifyCopy's.
Status VerifyReadOnce(const Options& o, int temp_fd, uint64_t size,
                      const std::vector<Digest128>& read, SignalGuard* signals = nullptr,
                      const SysCalls& sys = RealSysCalls(), PhaseObserver* phases = nullptr);

}  // namespace pcopy
