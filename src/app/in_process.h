// in_process.h: whether a job's bytes are moved by pcopy's own process or by worker processes it
// forks (copy workers, or a digest pool for --verify, --print-digest, --checksum, --compare).
//
// Workers cost about 0.5 ms before their first byte: the fork and its copy-on-write faults, the
// shared mapping, the wait and the reaping (a digest pool also makes a queue in /dev/shm). Below
// kInProcessBelow bytes that is more than two workers save (README "Defaults"), so the job is
// done in this process. An explicit -j N still gets N workers (as many as the work allows):
// whoever names a count of worker processes gets them, and that is how the tests and benchmarks
// run workers on small files.
#pragma once

#include <cstdint>

#include "app/options.h"

namespace pcopy {

// The worker processes for a job of `bytes` bytes: 0 (this process does the work) below
// kInProcessBelow without -j; -j's count (the online CPUs by default) otherwise.
unsigned WorkersFor(const Options& o, uint64_t bytes);

}  // namespace pcopy
