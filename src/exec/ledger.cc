#include "exec/ledger.h"

namespace pcopy {

size_t Ledger::Release(size_t worker) {
  const auto taken = static_cast<uint32_t>(worker + 1);
  size_t released = 0;
  // A plain load first: a compare-and-swap is a locked instruction even when it fails, and a
  // plan may hold 2^20 units.
  for (size_t k = 0; k < count_; ++k) {
    uint32_t expected = taken;
    if (entries_[k].load(std::memory_order_relaxed) == taken &&
        entries_[k].compare_exchange_strong(expected, kUnitFree, std::memory_order_acq_rel)) {
      ++released;
    }
  }
  return released;
}

size_t Ledger::Remaining() const {
  size_t left = 0;
  for (size_t k = 0; k < count_; ++k) left += IsDone(k) ? 0 : 1;
  return left;
}

}  // namespace pcopy
