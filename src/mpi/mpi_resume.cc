#include "mpi/mpi_resume.h"

#include <unistd.h>

#include <cerrno>

namespace pcopy {
namespace {

constexpr auto kInterval = std::chrono::duration<double>(kCheckpointInterval);

}  // namespace

Status DurableUnits::Sync(bool final, bool synced) {
  const auto now = std::chrono::steady_clock::now();
  if (failed_ || finished_.empty() || (!final && now - last_ < kInterval)) return {};
  last_ = now;
  // The units finished so far were written before this call begins.
  std::vector<size_t> units;
  units.swap(finished_);
  while (sync_ && !synced && fdatasync(fd_) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    Failed();
    return Status::FromErrno("fsync", display_, err);
  }
  board_->MarkDurable(units);
  return {};
}

DurableJournal::DurableJournal(MpiBoard* board, const WorkList* list, JournalCheckpoint* checkpoint)
    : board_(board),
      list_(list),
      checkpoint_(checkpoint),
      entries_(std::make_unique<LedgerEntry[]>(list->units.size())),
      written_(std::make_unique<std::atomic<uint64_t>[]>(list->units.size())),
      durable_(list->units.size()) {
  for (size_t u = 0; u < list->units.size(); ++u) {
    entries_[u].store(kUnitFree, std::memory_order_relaxed);
    written_[u].store(0, std::memory_order_relaxed);
  }
}

Status DurableJournal::Record(bool final) {
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_ < kInterval) return {};
  last_ = now;
  board_->ReadDurable(&durable_);
  // The checkpoint reads a ledger's frontiers: a durable unit is written to its end.
  const size_t n = list_->units.size();
  for (size_t u = 0; u < n; ++u) {
    if (durable_[u] != 0) written_[u].store(list_->units[u].length, std::memory_order_relaxed);
  }
  // Throttled here already: the checkpoint records now.
  return checkpoint_->Record(*list_, Ledger(entries_.get(), written_.get(), n), true);
}

}  // namespace pcopy
