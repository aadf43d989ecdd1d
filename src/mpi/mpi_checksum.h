// mpi_checksum.h: `mpirun -np N pcopy-mpi --checksum FILE...`: pcopy's digests (DIGEST  FILE, the
// same lines `pcopy --checksum` prints), each large file read by every rank at once.
//
// For each FILE, rank 0 opens it as pcopy would. A regular file of more than one leaf is split
// into the ranks' contiguous shares of 1 MiB leaves (app/share_check.h): every rank opens it by
// name, checks that it has the size and mtime rank 0 saw, and digests its share; rank 0 joins the
// shares into the tree digest and prints the line. Anything else (one leaf or less, a device, a
// file of unknown size, one that cannot be read) rank 0 digests or reports alone, as pcopy does. A
// file that fails is reported on stderr with the failing rank and host and the next one is
// digested; the exit code is 1 at the end. A terminating signal stops the job (128+N).
#pragma once

#include "app/options.h"
#include "app/outcome.h"
#include "mpi/mpi_world.h"
#include "os/signal_guard.h"

namespace pcopy {

// Every rank calls it with the same options; every rank returns the same exit code.
CopyOutcome RunMpiChecksum(const Options& o, SignalGuard& signals, const Console& console,
                           const MpiWorld& world);

}  // namespace pcopy
