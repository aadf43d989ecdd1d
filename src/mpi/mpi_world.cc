#include "mpi/mpi_world.h"

#include <unistd.h>

#include <cstdio>

namespace pcopy {
namespace {

// The board's slots in rank 0's window: the cursor, the stop flag, then two per rank.
constexpr int kCursor = 0;
constexpr int kStop = 1;
constexpr int kFirstRank = 2;
int BytesSlot(int rank) { return kFirstRank + 2 * rank; }
int StateSlot(int rank) { return kFirstRank + 2 * rank + 1; }
// A resumable copy's units' marks come after every rank's two slots.
MPI_Aint UnitSlot(int ranks, size_t unit) {
  return kFirstRank + 2 * static_cast<MPI_Aint>(ranks) + static_cast<MPI_Aint>(unit);
}

}  // namespace

MpiWorld::MpiWorld(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_SINGLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  MPI_Get_processor_name(name, &length);
  host_.assign(name, static_cast<size_t>(length));
  char boot[64] = {};
  if (FILE* f = fopen("/proc/sys/kernel/random/boot_id", "re"); f != nullptr) {
    if (fgets(boot, sizeof boot, f) == nullptr) boot[0] = 0;
    fclose(f);
  }
  machine_ = host_ + "/" + boot;
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

std::string MpiWorld::Broadcast(const std::string& bytes) const {
  uint64_t length = bytes.size();
  MPI_Bcast(&length, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  std::string out = rank_ == 0 ? bytes : std::string(length, '\0');
  MPI_Bcast(out.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

int MpiWorld::BroadcastInt(int value) const {
  MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return value;
}

std::vector<std::string> MpiWorld::Gather(const std::string& bytes) const {
  int length = static_cast<int>(bytes.size());
  std::vector<int> lengths(rank_ == 0 ? static_cast<size_t>(size_) : 0);
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> displs(lengths.size());
  int total = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    displs[i] = total;
    total += lengths[i];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Gatherv(bytes.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(), MPI_CHAR,
              0, MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (size_t i = 0; i < lengths.size(); ++i) {
    out.push_back(all.substr(static_cast<size_t>(displs[i]), static_cast<size_t>(lengths[i])));
  }
  return out;
}

void MpiWorld::Barrier() const { MPI_Barrier(MPI_COMM_WORLD); }

MpiBoard::MpiBoard(const MpiWorld& world, size_t units)
    : world_(world), units_(static_cast<MPI_Aint>(units)) {
  const MPI_Aint slots = world.rank() == 0 ? UnitSlot(world.size(), 0) + units_ : 0;
  if (world.rank() == 0) marks_.resize(units);
  MPI_Win_allocate(slots * static_cast<MPI_Aint>(sizeof(int64_t)), sizeof(int64_t), MPI_INFO_NULL,
                   MPI_COMM_WORLD, &base_, &win_);
  if (world.rank() == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
    for (MPI_Aint i = 0; i < slots; ++i) base_[i] = 0;
    MPI_Win_unlock(0, win_);
  }
  // No rank touches the board before rank 0 has cleared it.
  MPI_Barrier(MPI_COMM_WORLD);
}

MpiBoard::~MpiBoard() { MPI_Win_free(&win_); }

int64_t MpiBoard::FetchAdd(int slot, int64_t value) {
  int64_t old = 0;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  MPI_Fetch_and_op(&value, &old, MPI_INT64_T, 0, slot, value == 0 ? MPI_NO_OP : MPI_SUM, win_);
  MPI_Win_unlock(0, win_);
  return old;
}

uint64_t MpiBoard::TakeUnit() { return static_cast<uint64_t>(FetchAdd(kCursor, 1)); }

void MpiBoard::Publish(uint64_t bytes, RankState state) {
  const int64_t values[2] = {static_cast<int64_t>(bytes), static_cast<int64_t>(state)};
  int64_t ignored = 0;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  // Atomic replacements, so that rank 0's reads (also atomic) never see a torn value.
  MPI_Fetch_and_op(&values[0], &ignored, MPI_INT64_T, 0, BytesSlot(world_.rank()), MPI_REPLACE,
                   win_);
  MPI_Fetch_and_op(&values[1], &ignored, MPI_INT64_T, 0, StateSlot(world_.rank()), MPI_REPLACE,
                   win_);
  MPI_Win_unlock(0, win_);
}

void MpiBoard::Stop() { FetchAdd(kStop, 1); }

bool MpiBoard::Stopped() { return FetchAdd(kStop, 0) != 0; }

void MpiBoard::MarkDurable(const std::vector<size_t>& units) {
  const int64_t one = 1;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  for (size_t u : units) {
    if (static_cast<MPI_Aint>(u) >= units_) continue;
    MPI_Accumulate(&one, 1, MPI_INT64_T, 0, UnitSlot(world_.size(), u), 1, MPI_INT64_T, MPI_REPLACE,
                   win_);
  }
  MPI_Win_unlock(0, win_);
}

void MpiBoard::ReadDurable(std::vector<uint8_t>* durable) {
  if (units_ > 0) {
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
    // Element-wise atomic with the ranks' MPI_Accumulate (MPI_NO_OP: a read).
    MPI_Get_accumulate(nullptr, 0, MPI_INT64_T, marks_.data(), static_cast<int>(units_),
                       MPI_INT64_T, 0, UnitSlot(world_.size(), 0), static_cast<int>(units_),
                       MPI_INT64_T, MPI_NO_OP, win_);
    MPI_Win_unlock(0, win_);
  }
  for (size_t u = 0; u < marks_.size() && u < durable->size(); ++u) {
    (*durable)[u] = marks_[u] != 0 ? 1 : 0;
  }
}

void MpiBoard::Read(std::vector<uint64_t>* bytes, std::vector<RankState>* states) {
  const auto n = static_cast<size_t>(world_.size());
  bytes->assign(n, 0);
  states->assign(n, RankState::kCopying);
  const int64_t zero = 0;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  for (size_t r = 0; r < n; ++r) {
    int64_t b = 0, s = 0;
    MPI_Fetch_and_op(&zero, &b, MPI_INT64_T, 0, BytesSlot(static_cast<int>(r)), MPI_NO_OP, win_);
    MPI_Fetch_and_op(&zero, &s, MPI_INT64_T, 0, StateSlot(static_cast<int>(r)), MPI_NO_OP, win_);
    MPI_Win_flush(0, win_);
    (*bytes)[r] = static_cast<uint64_t>(b);
    (*states)[r] = static_cast<RankState>(s);
  }
  MPI_Win_unlock(0, win_);
}

}  // namespace pcopy
