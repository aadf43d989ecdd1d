// demo.h: the built-in demo that `pcopy` with no arguments runs.
//
// Generates a random file (1 GiB unless --demo-size) in a new temporary directory under $TMPDIR
// (or /tmp), copies it with the user's options through the same RunCopy a real copy uses,
// compares the copy byte for byte, prints the throughput, and removes everything it made, also
// when the copy fails or is interrupted. Each step takes signals (between 128 KiB writes, in the
// copy's waits, between 1 MiB compared blocks): a SIGINT, SIGTERM or SIGHUP ends the demo with
// exit 128 + N, its files removed.
#pragma once

#include "app/copy_job.h"

namespace pcopy {

CopyOutcome RunDemo(const Options& options, SignalGuard& signals, const Console& console);

// Compares two files byte for byte. *equal is false on the first difference, or a length
// difference, and *first_difference is its offset. Takes signals (may be null) between 1 MiB
// blocks: Status::Interrupted(N) when a terminating one arrives.
Status CompareFiles(const std::string& a, const std::string& b, bool* equal,
                    uint64_t* first_difference, SignalGuard* signals = nullptr);

}  // namespace pcopy
