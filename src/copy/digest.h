// digest.h: XXH3-128 digests of file contents by fixed-size leaves: the kernel under --verify,
// --compare and --checksum. A tree digest (leaf digests of 1 MiB each, then one XXH3-128 over
// them in canonical form) does not depend on -j or the strategy. --checksum=xxh128's whole-file
// digest (DigestWhole) is the standard one, for matching a published sum. Everything here runs in
// one process; exec/parallel_digest.h spreads leaves over a process pool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "os/signal_guard.h"

struct XXH3_state_s;  // xxhash.h's XXH3_state_t

namespace pcopy {

inline constexpr uint64_t kLeafSize = 1ull << 20;

struct Digest128 {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const Digest128&) const = default;
};

struct DigestInput {
  int fd = -1;
  std::string name;  // for messages
};

// What DigestRange returns when the file ended before the range did.
inline constexpr int kShortRead = -1;

// Digests [offset, offset + length) of fd through buf (at least kLeafSize bytes): 0, an errno,
// or kShortRead. Safe in a forked worker: it allocates nothing but XXH3's state.
int DigestRange(int fd, uint64_t offset, uint64_t length, char* buf, Digest128* out) noexcept;

// Leaf digests of bytes seen once, in order (a source that cannot be read twice, such as a
// /proc file): after Finish, the digests DigestLeaves gives for a file holding those bytes.
// The constructor throws std::bad_alloc when xxhash cannot allocate its state, as a container
// would; the jobs' entry points (RunGuarded) turn it into "out of memory".
class StreamDigests {
 public:
  StreamDigests();
  ~StreamDigests();
  StreamDigests(const StreamDigests&) = delete;
  StreamDigests& operator=(const StreamDigests&) = delete;

  void Update(const char* data, size_t length);
  const std::vector<Digest128>& Finish();  // closes the last, partial leaf

 private:
  void CloseLeaf();

  ::XXH3_state_s* state_;
  uint64_t in_leaf_ = 0;  // bytes of the current leaf seen so far
  std::vector<Digest128> digests_;
};

// The tree digest over all leaves, as 32 hex digits. std::bad_alloc as StreamDigests.
std::string TreeDigest(const std::vector<Digest128>& leaves);

// The leaf digests of a file read once from its start to its end, in order, by this process:
// for a file whose size is unknown (procfs, sysfs, a regular file that reports 0).
Status DigestToEnd(const DigestInput& in, std::vector<Digest128>* leaves);

// The leaf digests of what fd gives from where it stands to its end, read in order with read(2)
// (standard input, a pipe). A terminating signal taken through signals (may be null) between two
// reads stops it: Status::Interrupted.
Status DigestStream(const DigestInput& in, SignalGuard* signals, std::vector<Digest128>* leaves);

// XXH3-128 of the whole of what fd gives, read as DigestStream reads, as 32 hex digits in
// canonical (big-endian) order: what `xxhsum -H2` prints for the same bytes.
Status DigestWhole(const DigestInput& in, SignalGuard* signals, std::string* hex);

// Compares a and b from their start to the end of either, reading both in order (files whose
// size is unknown). *found: they differ, first at *where, which is the length of the shorter
// when *one_ended (one is a prefix of the other); otherwise *where is their common length.
// A terminating signal taken through signals (may be null) between two 1 MiB blocks stops it:
// Status::Interrupted.
Status CompareToEnd(const DigestInput& a, const DigestInput& b, bool* found, uint64_t* where,
                    bool* one_ended, SignalGuard* signals = nullptr);

// The first offset in [offset, offset + length) where a and b differ; *found false if none.
Status FirstDifference(const DigestInput& a, const DigestInput& b, uint64_t offset, uint64_t length,
                       bool* found, uint64_t* where);

}  // namespace pcopy
