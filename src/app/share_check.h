// share_check.h: --verify and --print-digest spread over the ranks of pcopy-mpi as its copy is
// (the ranks themselves, and the gathering of their answers, are mpi/'s).
//
// Once every rank has copied its units (and, for --verify, made its writes durable), each rank
// reopens the temporary by name (on NFS only an open after the writers' close is sure to see
// their data) and checks one contiguous share of its 1 MiB leaves: with --verify, read back from
// storage (this machine's cached pages dropped) and compared with SOURCE's, a differing leaf
// copied again once (app/verify_copy.h VerifyLeaves, as pcopy does); with --print-digest alone,
// the temporary's leaves digested. Each rank answers with its share's leaf digests; rank 0 joins
// them in rank order into the same tree digest pcopy prints (copy/digest.h), whatever the number
// of ranks. Nothing here waits for another rank, and nothing here calls MPI: the caller gathers
// the shares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/options.h"
#include "base/status.h"
#include "copy/digest.h"
#include "os/signal_guard.h"

namespace pcopy {

// The leaves rank `rank` of `ranks` checks in a file of `size` bytes: one contiguous run, so its
// reads stay sequential; the runs, in rank order, cover every leaf once.
std::vector<uint64_t> LeafShare(uint64_t size, int rank, int ranks);

// This rank's share of the check of the temporary `temp` (o.dest names it in messages) against
// SOURCE, open as src_fd. *digests: SOURCE's leaf digests of the share (the temporary's without
// --verify); *recopied: leaves copied again. Signals are taken between leaves.
Status CheckShare(const Options& o, int src_fd, const std::string& temp, uint64_t size, int rank,
                  int ranks, SignalGuard& signals, std::vector<Digest128>* digests,
                  uint64_t* recopied);

// A share on the wire (base/wire.h): the count of leaves copied again, then the digests.
std::string EncodeShare(const std::vector<Digest128>& digests, uint64_t recopied);
// Every rank's share, in rank order, joined; false if one is damaged.
bool JoinShares(const std::vector<std::string>& shares, std::vector<Digest128>* digests,
                uint64_t* recopied);

}  // namespace pcopy
