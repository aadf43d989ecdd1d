#include "exec/checkpoint.h"

#include <algorithm>
#include <cerrno>

namespace pcopy {

JournalCheckpoint::JournalCheckpoint(const SysCalls& sys, int fd, std::string name,
                                     ResumeJournal* journal, BlockGrid grid, BlockBitmap durable,
                                     double interval)
    : sys_(sys),
      fd_(fd),
      name_(std::move(name)),
      journal_(journal),
      grid_(grid),
      durable_(std::move(durable)),
      interval_(interval),
      last_(std::chrono::steady_clock::now()) {}

Status JournalCheckpoint::Record(const WorkList& work, const Ledger& ledger, bool final) {
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_ < interval_) return {};
  last_ = now;
  if (!have_needed_) {
    std::vector<ByteRange> units;
    units.reserve(work.units.size());
    for (const WorkUnit& u : work.units) units.push_back(ByteRange{u.offset, u.length});
    needed_ = MergeRanges(std::move(units));
    have_needed_ = true;
  }
  // The frontiers first: what they cover was written before the fdatasync below begins.
  std::vector<ByteRange> written;
  uint64_t total = 0;
  for (size_t k = 0; k < work.units.size(); ++k) {
    const uint64_t w = std::min(ledger.Written(k), work.units[k].length);
    if (w == 0) continue;
    written.push_back(ByteRange{work.units[k].offset, w});
    total += w;
  }
  if (total == last_written_) return {};
  while (sys_.fdatasync(fd_) != 0) {
    if (errno != EINTR) return Status::FromErrno("fdatasync", name_, errno);
  }
  last_written_ = total;
  BlockBitmap covered = CoveredBlocks(grid_, needed_, std::move(written));
  covered.Merge(durable_);
  if (Status s = journal_->Record(covered); !s.ok()) return s;
  durable_ = std::move(covered);
  return {};
}

}  // namespace pcopy
