// random_file.h: a file of reproducible pseudo-random bytes (base/random_bytes.h), written for
// the demo, the tests and the benches, stopping early on a terminating signal.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "os/signal_guard.h"

namespace pcopy {

// Writes size pseudo-random bytes to a new file at path (mode 0644, replaced if present).
// Stops early, leaving a partial file for the caller to remove, if signals (may be null)
// receives SIGINT/SIGTERM/SIGHUP.
Status WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed,
                       SignalGuard* signals = nullptr);

}  // namespace pcopy
