#include "app/share_check.h"

#include <fcntl.h>

#include <cerrno>

#include "app/verify_copy.h"
#include "base/unique_fd.h"
#include "base/wire.h"
#include "exec/parallel_digest.h"
#include "os/sys_calls.h"

namespace pcopy {

std::vector<uint64_t> LeafShare(uint64_t size, int rank, int ranks) {
  const uint64_t leaves = (size + kLeafSize - 1) / kLeafSize;
  const auto r = static_cast<uint64_t>(rank), n = static_cast<uint64_t>(ranks);
  std::vector<uint64_t> share;
  for (uint64_t leaf = leaves * r / n; leaf < leaves * (r + 1) / n; ++leaf) share.push_back(leaf);
  return share;
}

Status CheckShare(const Options& o, int src_fd, const std::string& temp, uint64_t size, int rank,
                  int ranks, SignalGuard& signals, std::vector<Digest128>* digests,
                  uint64_t* recopied) {
  *recopied = 0;
  digests->clear();
  const std::vector<uint64_t> share = LeafShare(size, rank, ranks);
  if (share.empty()) return {};
  // Writable for --verify's re-copy of a differing leaf.
  const UniqueFd fd(open(temp.c_str(), (o.verify ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return Status::FromErrno("cannot open", o.dest, errno);
  if (o.verify) {
    // Read back from storage; every rank synced its own writes before the check began, so the
    // sync here has nothing left to wait for. --print-digest alone reads what is cached, as
    // pcopy's does: a sync by every rank of the whole file would be work done N times.
    if (Status s = DropCachedPages(RealSysCalls(), fd.get(), o.dest, size, &signals); !s.ok()) {
      return s;
    }
    return VerifyLeaves(o, src_fd, size, fd.get(), share, 0, digests, recopied, RealSysCalls(),
                        &signals);
  }
  LeafReport report;
  if (Status s = DigestLeaves({fd.get(), o.dest}, {}, size, 0, share, &report, &signals); !s.ok()) {
    return s;
  }
  *digests = std::move(report.digests);
  return {};
}

std::string EncodeShare(const std::vector<Digest128>& digests, uint64_t recopied) {
  WireWriter w;
  w.Put(recopied);
  for (const Digest128& d : digests) w.Put(d);
  const std::vector<char> bytes = w.Take();
  return std::string(bytes.begin(), bytes.end());
}

bool JoinShares(const std::vector<std::string>& shares, std::vector<Digest128>* digests,
                uint64_t* recopied) {
  digests->clear();
  *recopied = 0;
  for (const std::string& share : shares) {
    const std::vector<char> bytes(share.begin(), share.end());
    WireReader r(bytes);
    uint64_t n = 0;
    if (!r.Get(&n)) return false;
    *recopied += n;
    while (!r.AtEnd()) {
      Digest128 d;
      if (!r.Get(&d)) return false;
      digests->push_back(d);
    }
  }
  return true;
}

}  // namespace pcopy
