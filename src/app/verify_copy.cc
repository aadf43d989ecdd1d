#include "app/verify_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "app/in_process.h"
#include "copy/io.h"
#include "exec/parallel_digest.h"
#include "os/stepped_sync.h"

namespace pcopy {
namespace {

// "bytes 1048576-2097151": leaf `leaf` of a file of `size` bytes.
std::string LeafBytes(uint64_t leaf, uint64_t size) {
  const uint64_t offset = leaf * kLeafSize;
  return "bytes " + std::to_string(offset) + "-" +
         std::to_string(std::min(offset + kLeafSize, size) - 1);
}

}  // namespace

Status DropCachedPages(const SysCalls& sys, int fd, const std::string& name, uint64_t size,
                       SignalGuard* signals, PhaseObserver* phases) {
  if (Status s = SyncInSteps(sys, fd, name, size, signals, phases); !s.ok()) return s;
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  return {};
}

Status VerifyCopy(const Options& o, const SourceFile& src, int temp_fd, uint64_t* recopied,
                  std::string* source_digest, const SysCalls& sys, SignalGuard* signals,
                  PhaseObserver* phases) {
  *recopied = 0;
  if (Status s = DropCachedPages(sys, temp_fd, o.dest, src.size, signals, phases); !s.ok()) {
    return s;
  }
  std::vector<Digest128> digests;
  if (Status s = VerifyLeaves(o, src.fd.get(), src.size, temp_fd, {}, WorkersFor(o, src.size),
                              &digests, recopied, sys, signals, phases);
      !s.ok()) {
    return s;
  }
  *source_digest = TreeDigest(digests);
  return {};
}

Status VerifyLeaves(const Options& o, int src_fd, uint64_t size, int temp_fd,
                    const std::vector<uint64_t>& leaves, unsigned jobs,
                    std::vector<Digest128>* source_digests, uint64_t* recopied, const SysCalls& sys,
                    SignalGuard* signals, PhaseObserver* phases) {
  *recopied = 0;
  const DigestInput a{src_fd, o.source}, b{temp_fd, o.dest};
  LeafReport report;
  if (Status s = DigestLeaves(a, b, size, jobs, leaves, &report, signals, {phases, "verifying"});
      !s.ok()) {
    return s;
  }
  *source_digests = std::move(report.digests);
  if (report.differing.empty()) return {};

  // Copy the differing leaves once more, then read them back from storage again.
  std::vector<char> buffer(static_cast<size_t>(o.buffer_size));
  CopyEnv env;
  env.sys = &sys;
  env.src_fd = src_fd;
  env.dst_fd = temp_fd;
  env.buffer = std::span<char>(buffer.data(), buffer.size());
  class NoProgress final : public ProgressSink {
    void Add(uint64_t) override {}
  } none;
  for (uint64_t leaf : report.differing) {
    if (signals != nullptr && signals->Poll() != 0) {
      return Status::Interrupted(signals->terminating_signal());
    }
    const uint64_t offset = leaf * kLeafSize;
    const uint64_t length = std::min(kLeafSize, size - offset);
    if (IoError e = CopyRangeReadWrite(env, offset, length, none); !e.ok()) {
      return ToStatus(e, o.source, o.dest);
    }
  }
  *recopied = report.differing.size();
  if (Status s = DropCachedPages(sys, temp_fd, o.dest, size, signals); !s.ok()) return s;
  LeafReport again;
  if (Status s = DigestLeaves(a, b, size, jobs, report.differing, &again, signals); !s.ok()) {
    return s;
  }
  if (!again.differing.empty()) {
    const uint64_t leaf = again.differing.front();
    return Status::Failure(
        "verify", o.dest,
        LeafBytes(leaf, size) + " still differ from " + Quote(o.source) + " after a re-copy",
        leaf * kLeafSize);
  }
  return {};
}

Status VerifyReadOnce(const Options& o, int temp_fd, uint64_t size,
                      const std::vector<Digest128>& read, SignalGuard* signals, const SysCalls& sys,
                      PhaseObserver* phases) {
  if (size == 0) return {};
  if (Status s = DropCachedPages(sys, temp_fd, o.dest, size, signals, phases); !s.ok()) return s;
  LeafReport report;
  if (Status s = DigestLeaves({temp_fd, o.dest}, {}, size, WorkersFor(o, size), {}, &report,
                              signals, {phases, "verifying"});
      !s.ok()) {
    return s;
  }
  for (uint64_t leaf = 0; leaf < report.digests.size(); ++leaf) {
    if (leaf >= read.size() || !(report.digests[leaf] == read[leaf])) {
      return Status::Failure(
          "verify", o.dest,
          LeafBytes(leaf, size) + " differ from what was read from " + Quote(o.source),
          leaf * kLeafSize);
    }
  }
  return {};
}

}  // namespace pcopy
